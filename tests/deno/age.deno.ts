// The age stages (src/age/) under Deno, against the reference age CLI: what Deno encrypts, `age -d` decrypts to
// the same bytes; what `age -r` wrote, Deno decrypts; a wrong identity and a cut file fail as under Bun. Run by
// scripts/test.sh with the other Deno tests (deno test -A --no-check tests/deno/*.deno.ts).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip, gunzipSync } from "node:zlib";
import assert from "node:assert/strict";
import { decryptStream } from "../../src/age/decrypt.ts";
import { encryptStream } from "../../src/age/encrypt.ts";
import { readIdentityFile } from "../../src/age/identities.ts";
import { parseRecipients, recipientsFromValues } from "../../src/age/recipients.ts";
import { isNetravenError } from "../../src/errors.ts";

declare const Deno: { test: (name: string, fn: () => void | Promise<void>) => void };

const dir = mkdtempSync(join(tmpdir(), "netraven-deno-age-"));
(globalThis as unknown as { addEventListener(type: string, listener: () => void): void }).addEventListener("unload", () => {
  rmSync(dir, { recursive: true, force: true });
});

function tool(args: string[], name = "age"): string {
  const result = spawnSync(name, args, { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new Error(`${name} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`}: ${result.stderr}); the age tests need the Debian package: apt-get install -y age`);
  }
  return result.stdout;
}

function keygen(name: string): { file: string; publicKey: string } {
  const file = join(dir, name);
  tool(["-o", file], "age-keygen");
  chmodSync(file, 0o600);
  return { file, publicKey: tool(["-y", file], "age-keygen").trim() };
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function collector(into: Buffer[]): Writable {
  return new Writable({ write(chunk, _encoding, done) { into.push(chunk); done(); } });
}

Deno.test("deno: gzip + our encryption of 3 MiB decrypts with `age -d` and gunzips to the same bytes", async () => {
  const key = keygen("deno-a.txt");
  const plain = randomBytes(3 * 1024 * 1024 + 17);
  const out = join(dir, "deno.gz.age");
  await pipeline(Readable.from(chunksOf(plain, 100_000)), createGzip(), encryptStream(await parseRecipients(recipientsFromValues([key.publicKey]))), createWriteStream(out));
  const decrypted = spawnSync("age", ["-d", "-i", key.file, out], { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(decrypted.status, 0, String(decrypted.stderr));
  assert.ok(gunzipSync(decrypted.stdout).equals(plain));
});

Deno.test("deno: `age -r` output (64 KiB + 1 and 2 MiB) decrypts with ours from a file stream", async () => {
  const key = keygen("deno-b.txt");
  const identities = await readIdentityFile(key.file);
  for (const size of [64 * 1024 + 1, 2 * 1024 * 1024]) {
    const plain = randomBytes(size);
    writeFileSync(join(dir, "plain.bin"), plain);
    tool(["-r", key.publicKey, "-o", join(dir, "theirs.age"), join(dir, "plain.bin")]);
    const out: Buffer[] = [];
    await pipeline(createReadStream(join(dir, "theirs.age")), decryptStream(identities), collector(out));
    assert.ok(Buffer.concat(out).equals(plain), `size ${size}`);
  }
});

Deno.test("deno: a wrong identity is IDENTITY_MISMATCH (exit 5), a cut file BACKUP_INVALID (exit 1)", async () => {
  const key = keygen("deno-c.txt");
  const other = keygen("deno-d.txt");
  writeFileSync(join(dir, "plain.bin"), randomBytes(200_000));
  tool(["-r", key.publicKey, "-o", join(dir, "c.age"), join(dir, "plain.bin")]);
  const cipher = readFileSync(join(dir, "c.age"));
  const attempt = async (bytes: Uint8Array, file: string) => {
    try {
      for await (const _ of decryptStream(await readIdentityFile(file), { name: "c.age" })(chunksOf(bytes, 65_536))) {
        // drain
      }
    } catch (error) {
      assert.ok(isNetravenError(error), String(error));
      return error;
    }
    assert.fail("decryption should have failed");
  };
  const wrong = await attempt(cipher, other.file);
  assert.equal(wrong.code, "IDENTITY_MISMATCH");
  assert.equal(wrong.exitStatus, 5);
  assert.equal(wrong.message, `c.age: no identity in ${other.file} can decrypt it (it is encrypted to 1 X25519 recipient)`);
  const cut = await attempt(cipher.subarray(0, cipher.length - 100), key.file);
  assert.equal(cut.code, "BACKUP_INVALID");
  assert.equal(cut.exitStatus, 1);
  assert.match(cut.message, /^c\.age: the encrypted data is damaged or cut short \(age chunk 4, at byte \d+ of the file, fails its authentication check\)$/);
});
