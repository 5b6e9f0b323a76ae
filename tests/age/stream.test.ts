// The encrypting and decrypting stream stages (src/age/encrypt.ts, decrypt.ts) against the reference age CLI:
// what we write, age decrypts to the same bytes, and what age writes, we decrypt; every edge of age's STREAM
// construction (empty, exactly one 64 KiB chunk, one byte more); a wrong key, a file cut anywhere or with one byte
// changed, and foreign input each end in one clear error, never in silently short output.
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip, gunzipSync, gzipSync } from "node:zlib";
import { Encrypter, generateHybridIdentity, identityToRecipient } from "age-encryption";
import { isNetravenError, type ErrorCode, type NetravenError } from "../../src/errors.ts";
import { decryptStream } from "../../src/age/decrypt.ts";
import { encryptStream } from "../../src/age/encrypt.ts";
import { scanHeader } from "../../src/age/format.ts";
import { readIdentityFile, type AgeIdentities } from "../../src/age/identities.ts";
import { parseRecipients, recipientsFromValues } from "../../src/age/recipients.ts";
import { ageDecrypt, ageEncryptFile, ageKeygen, requireAgeCli, runAge, type AgeKey } from "../harness/age-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-age-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

requireAgeCli();
const alice = ageKeygen(dir, "alice.txt");
const bob = ageKeygen(dir, "bob.txt");
const stranger = ageKeygen(dir, "stranger.txt");
const CHUNK = 64 * 1024;

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(source: AsyncIterable<Uint8Array>, into: Uint8Array[] = []): Promise<Buffer> {
  for await (const chunk of source) into.push(chunk);
  return Buffer.concat(into);
}

async function recipientsOf(...keys: AgeKey[]) {
  return parseRecipients(recipientsFromValues(keys.map((k) => k.publicKey)));
}

const identityCache = new Map<string, AgeIdentities>();
async function identitiesOf(key: AgeKey): Promise<AgeIdentities> {
  if (!identityCache.has(key.identityFile)) identityCache.set(key.identityFile, await readIdentityFile(key.identityFile));
  return identityCache.get(key.identityFile)!;
}

async function encrypt(plain: Uint8Array, keys: AgeKey[], chunk = 10_007): Promise<Buffer> {
  return collect(encryptStream(await recipientsOf(...keys))(chunksOf(plain, chunk)));
}

async function decrypt(cipher: Uint8Array, key: AgeKey, chunk = 8_191): Promise<Buffer> {
  return collect(decryptStream(await identitiesOf(key), { name: "x.sql.gz.age" })(chunksOf(cipher, chunk)));
}

/** The error decrypting `cipher` ends in, and the plaintext passed on before it (which must be a strict prefix). */
async function decryptFailure(cipher: Uint8Array, key: AgeKey, plain?: Uint8Array): Promise<NetravenError> {
  const out: Uint8Array[] = [];
  try {
    await collect(decryptStream(await identitiesOf(key), { name: "x.sql.gz.age" })(chunksOf(cipher, 8_191)), out);
  } catch (error) {
    if (!isNetravenError(error)) throw error;
    const passed = Buffer.concat(out);
    if (plain) {
      expect(passed.length).toBeLessThan(plain.length === 0 ? 1 : plain.length);
      expect(passed.equals(Buffer.from(plain).subarray(0, passed.length))).toBe(true);
    }
    return error;
  }
  throw new Error("decryption succeeded but should have failed");
}

/** Waits (up to 2 s) for `condition`; the source is released a few ticks after the consumer returns. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe("interoperability with the age CLI", () => {
  const plain = randomBytes(5 * 1024 * 1024 + 123);

  test("5 MiB encrypted by us, in odd-sized chunks, decrypts with `age -d -i key.txt` to the same bytes", async () => {
    const cipher = await encrypt(plain, [alice]);
    expect(ageDecrypt(alice.identityFile, file("ours.age", cipher)).equals(plain)).toBe(true);
  });

  test("`age -r` output decrypts with ours (read through a node file stream) to the same bytes", async () => {
    ageEncryptFile([alice.publicKey], file("plain.bin", plain), join(dir, "theirs.age"));
    const out: Uint8Array[] = [];
    await pipeline(createReadStream(join(dir, "theirs.age")), decryptStream(await identitiesOf(alice)), new Writable({ write(chunk, _encoding, done) { out.push(chunk); done(); } }));
    expect(Buffer.concat(out).equals(plain)).toBe(true);
  });

  test("several recipients: each identity alone decrypts, with age and with ours, both ways", async () => {
    const small = randomBytes(200_000);
    const ours = await encrypt(small, [alice, bob]);
    expect(scanHeader(ours)!.stanzaTypes).toEqual(["X25519", "X25519"]);
    ageEncryptFile([alice.publicKey, bob.publicKey], file("small.bin", small), join(dir, "small-theirs.age"));
    const theirs = readFileSync(join(dir, "small-theirs.age"));
    for (const key of [alice, bob]) {
      expect(ageDecrypt(key.identityFile, file("small-ours.age", ours)).equals(small)).toBe(true);
      expect((await decrypt(ours, key)).equals(small)).toBe(true);
      expect((await decrypt(theirs, key)).equals(small)).toBe(true);
    }
    // An identity file holding a wrong key and a right one decrypts too.
    const both = join(dir, "both.txt");
    writeFileSync(both, `${stranger.secretKey}\n${bob.secretKey}\n`, { mode: 0o600 });
    const identities = await readIdentityFile(both);
    expect((await collect(decryptStream(identities)(chunksOf(theirs, 4096)))).equals(small)).toBe(true);
  });

  test("the STREAM edges: empty, 1 byte, 64 KiB - 1, exactly 64 KiB, 64 KiB + 1, 128 KiB, 128 KiB + 1", async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1]) {
      const data = randomBytes(size);
      const ours = await encrypt(data, [alice], 4_099);
      ageEncryptFile([alice.publicKey], file("edge.bin", data), join(dir, "edge-theirs.age"));
      const theirs = readFileSync(join(dir, "edge-theirs.age"));
      // Same length as age's file: same header shape, same chunking (a full last chunk, no empty extra one).
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect({ size, length: ours.length }).toEqual({ size, length: scanHeader(ours)!.length + 16 + size + 16 * chunks });
      expect({ size, length: ours.length }).toEqual({ size, length: theirs.length });
      expect({ size, same: ageDecrypt(alice.identityFile, file("edge-ours.age", ours)).equals(data) }).toEqual({ size, same: true });
      expect({ size, same: (await decrypt(theirs, alice)).equals(data) }).toEqual({ size, same: true });
    }
  });

  test("post-quantum hybrid keys (age1pq1...) round-trip through ours; Debian's age 1.1.1 predates them", async () => {
    const identity = await generateHybridIdentity();
    const pqFile = join(dir, "pq.txt");
    writeFileSync(pqFile, `${identity}\n`, { mode: 0o600 });
    const recipients = await parseRecipients(recipientsFromValues([await identityToRecipient(identity), alice.publicKey]));
    const data = randomBytes(100_000);
    const cipher = await collect(encryptStream(recipients)(chunksOf(data, 30_000)));
    expect(scanHeader(cipher)!.stanzaTypes).toEqual(["mlkem768x25519", "X25519"]);
    expect((await collect(decryptStream(await readIdentityFile(pqFile))(chunksOf(cipher, 5000)))).equals(data)).toBe(true);
    // The X25519 recipient of the same file still opens it with the age CLI.
    expect(ageDecrypt(alice.identityFile, file("pq.age", cipher)).equals(data)).toBe(true);
  });
});

describe("with node streams and node:zlib, as the backup pipeline uses it", () => {
  test("pipeline(source, gzip, encrypt, file) restores with `age -d | gunzip`, and file -> decrypt -> gunzip gives the rows back", async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => `${i}\tdevice-${i}\t10.0.${i % 256}.${i % 200}\n`).join("");
    const out = join(dir, "backup.sql.gz.age");
    await pipeline(Readable.from(chunksOf(Buffer.from(rows), 256 * 1024)), createGzip(), encryptStream(await recipientsOf(alice, bob)), createWriteStream(out));
    expect(gunzipSync(ageDecrypt(bob.identityFile, out)).toString()).toBe(rows);
    const back: Buffer[] = [];
    await pipeline(createReadStream(out), decryptStream(await identitiesOf(alice)), createGunzip(), new Writable({ write(chunk, _encoding, done) { back.push(chunk); done(); } }));
    expect(Buffer.concat(back).toString()).toBe(rows);
  });

  test("backpressure: a consumer that stops pulling stops the source; returning early releases it", async () => {
    let pulled = 0;
    let released = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled++;
          yield new Uint8Array(CHUNK);
        }
      } finally {
        released = true;
      }
    }
    const encrypted = encryptStream(await recipientsOf(alice))(endless());
    for (let i = 0; i < 3; i++) await encrypted.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pulledWhilePaused = pulled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pulled).toBe(pulledWhilePaused);
    expect(pulled).toBeLessThanOrEqual(8); // a few 64 KiB chunks in flight, not the endless source
    await encrypted.return();
    await until(() => released);

    // The same for decryption, fed by an encryption of an endless source.
    pulled = 0;
    released = false;
    const decrypted = decryptStream(await identitiesOf(alice))(encryptStream(await recipientsOf(alice))(endless()));
    for (let i = 0; i < 3; i++) expect((await decrypted.next()).value).toEqual(new Uint8Array(CHUNK));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pulled).toBeLessThanOrEqual(10);
    await decrypted.return();
    await until(() => released);
  });

  test("an error of the source (a read error, a dropped download) passes through unchanged", async () => {
    const failure = new Error("the disk went away");
    async function* failing(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
      yield* chunksOf(bytes.subarray(0, 3 * CHUNK), 10_000);
      throw failure;
    }
    const plain = randomBytes(5 * CHUNK);
    await expect(collect(encryptStream(await recipientsOf(alice))(failing(plain)))).rejects.toBe(failure);
    const cipher = await encrypt(plain, [alice]);
    await expect(collect(decryptStream(await identitiesOf(alice))(failing(cipher)))).rejects.toBe(failure);
  });
});

describe("failures: one line each, with the exit status the integrator maps", () => {
  const plain = randomBytes(3 * CHUNK + 100);
  let cipher: Buffer;
  let headerLength: number;

  test("a wrong identity: IDENTITY_MISMATCH (exit 5), naming the identity file and what the file is encrypted to", async () => {
    ageEncryptFile([alice.publicKey, bob.publicKey], file("plain3.bin", plain), join(dir, "plain3.age"));
    cipher = readFileSync(join(dir, "plain3.age"));
    headerLength = scanHeader(cipher)!.length;
    const error = await decryptFailure(cipher, stranger, plain);
    expect(error.code).toBe("IDENTITY_MISMATCH");
    expect(error.exitStatus).toBe(5);
    expect(error.message).toBe(`x.sql.gz.age: no identity in ${stranger.identityFile} can decrypt it (it is encrypted to 2 X25519 recipients)`);
    expect(error.hint).toBe("use the identity file whose public key the backup was encrypted to (its manifest lists them)");
    expect(`${error.message}${error.hint}`).not.toContain(stranger.secretKey);
  });

  test("a file encrypted with a passphrase: IDENTITY_MISMATCH that says so", async () => {
    const encrypter = new Encrypter();
    encrypter.setScryptWorkFactor(10);
    encrypter.setPassphrase("correct horse battery staple");
    const error = await decryptFailure(await encrypter.encrypt(randomBytes(1000)), alice);
    expect(error.code).toBe("IDENTITY_MISMATCH");
    expect(error.message).toBe(`x.sql.gz.age: no identity in ${alice.identityFile} can decrypt it (it is encrypted with a passphrase, not to public keys)`);
  });

  test("a file cut short anywhere is BACKUP_INVALID (exit 1), also exactly at a 64 KiB chunk boundary", async () => {
    const payload = headerLength + 16;
    const chunkOnDisk = CHUNK + 16;
    const cuts: Array<[number, string]> = [
      [0, "x.sql.gz.age: is empty, not an age-encrypted file"],
      [headerLength - 30, "x.sql.gz.age: truncated: the file ends inside its age header"],
      [headerLength - 1, "x.sql.gz.age: truncated: the file ends inside its age header"],
      [headerLength, "x.sql.gz.age: truncated: the file ends right after its age header"],
      [headerLength + 8, "x.sql.gz.age: truncated: the file ends right after its age header"],
      [payload, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 1, at byte ${payload} of the file, fails its authentication check)`],
      [payload + 10, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 1, at byte ${payload} of the file, fails its authentication check)`],
      // Cut exactly after chunk N: chunk N is then the last one but not marked as last, so it fails.
      [payload + chunkOnDisk, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 1, at byte ${payload} of the file, fails its authentication check)`],
      [payload + 2 * chunkOnDisk, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 2, at byte ${payload + chunkOnDisk} of the file, fails its authentication check)`],
      [payload + 3 * chunkOnDisk, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 3, at byte ${payload + 2 * chunkOnDisk} of the file, fails its authentication check)`],
      [payload + 3 * chunkOnDisk + 10, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 4, at byte ${payload + 3 * chunkOnDisk} of the file, fails its authentication check)`],
      [cipher.length - 1, `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 4, at byte ${payload + 3 * chunkOnDisk} of the file, fails its authentication check)`],
    ];
    expect(cipher.length).toBe(payload + 3 * chunkOnDisk + 100 + 16);
    for (const [length, message] of cuts) {
      const cut = cipher.subarray(0, length);
      const error = await decryptFailure(cut, alice, plain);
      expect({ length, code: error.code, message: error.message }).toEqual({ length, code: "BACKUP_INVALID", message });
      expect(error.exitStatus).toBe(1);
      // The reference tool refuses the same cut file (so each cut is a real truncation).
      expect({ length, age: runAge(["-d", "-i", alice.identityFile, "-o", join(dir, "cut.out"), file("cut.age", cut)]).status }).not.toEqual({ length, age: 0 });
    }
  });

  test("one changed byte anywhere after the stanzas is BACKUP_INVALID naming the chunk; in a stanza it reads as a wrong key", async () => {
    const payload = headerLength + 16;
    const text = cipher.subarray(0, headerLength).toString("latin1");
    const macAt = text.lastIndexOf("--- ") + 4;
    const flips: Array<[string, number, ErrorCode, string]> = [
      ["the MAC", macAt, "BACKUP_INVALID", "x.sql.gz.age: the age header is damaged (its MAC does not match)"],
      ["the nonce", headerLength + 3, "BACKUP_INVALID", `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 1, at byte ${payload} of the file, fails its authentication check)`],
      ["chunk 2", payload + CHUNK + 16 + 1000, "BACKUP_INVALID", `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 2, at byte ${payload + CHUNK + 16} of the file, fails its authentication check)`],
      ["the last byte", cipher.length - 1, "BACKUP_INVALID", `x.sql.gz.age: the encrypted data is damaged or cut short (age chunk 4, at byte ${payload + 3 * (CHUNK + 16)} of the file, fails its authentication check)`],
      // age cannot tell a damaged recipient stanza from one for another key: neither opens.
      ["alice's stanza body", text.indexOf("\n", text.indexOf("-> X25519")) + 3, "IDENTITY_MISMATCH", `x.sql.gz.age: no identity in ${alice.identityFile} can decrypt it (it is encrypted to 2 X25519 recipients)`],
    ];
    for (const [where, at, code, message] of flips) {
      const damaged = Buffer.from(cipher);
      // Inside the base64 header lines, swap A and B so the line stays valid base64; elsewhere flip one bit.
      damaged[at] = at < headerLength ? (damaged[at] === 0x41 ? 0x42 : 0x41) : damaged[at]! ^ 0x01;
      const error = await decryptFailure(damaged, alice, plain);
      expect({ where, code: error.code, message: error.message }).toEqual({ where, code, message });
      expect({ where, age: runAge(["-d", "-i", alice.identityFile, "-o", join(dir, "flip.out"), file("flip.age", damaged)]).status }).not.toEqual({ where, age: 0 });
    }
  });

  test("input that is not an age file: BACKUP_INVALID, and an ASCII-armored one is named as such", async () => {
    const gzip = await decryptFailure(gzipSync(randomBytes(100_000)), alice);
    expect([gzip.code, gzip.message]).toEqual(["BACKUP_INVALID", "x.sql.gz.age: is not an age-encrypted file (it does not start with age-encryption.org/v1)"]);
    const text = await decryptFailure(Buffer.from("-- netraven-db backup\nBEGIN;\n"), alice);
    expect(text.message).toBe("x.sql.gz.age: is not an age-encrypted file (it does not start with age-encryption.org/v1)");
    ageEncryptFile([alice.publicKey], file("armor.bin", randomBytes(1000)), join(dir, "armor.age"), true);
    const armored = await decryptFailure(readFileSync(join(dir, "armor.age")), alice);
    expect(armored.message).toBe("x.sql.gz.age: is an ASCII-armored age file (age -a); netraven-db reads binary age files: age -d it, or re-encrypt without -a");
    const short = await decryptFailure(Buffer.from("age-encr"), alice);
    expect(short.message).toBe("x.sql.gz.age: is not an age-encrypted file (it does not start with age-encryption.org/v1)");
    // A source of tiny chunks: decided on the first byte that differs, not after a line or 22 bytes.
    const tiny = await collect(decryptStream(await identitiesOf(alice), { name: "t" })((async function* () {
      yield Buffer.from("ab\n");
      throw new Error("must not be read this far");
    })())).catch((error: NetravenError) => error);
    expect((tiny as NetravenError).message).toBe("t: is not an age-encrypted file (it does not start with age-encryption.org/v1)");
  });
});
