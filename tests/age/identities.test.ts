// Identity files (src/age/identities.ts): what age-keygen writes is accepted; a file that group or others can
// access is refused with the chmod that fixes it; bad lines are refused by number and never quoted; the keys are
// registered as secrets and do not show when the object is printed or serialised.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { generateHybridIdentity, identityToRecipient } from "age-encryption";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { readIdentityFile } from "../../src/age/identities.ts";
import { scrub } from "../../src/secrets.ts";
import { ageKeygen, requireAgeCli } from "../harness/age-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-age-id-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

requireAgeCli();
const alice = ageKeygen(dir, "alice.txt");
const bob = ageKeygen(dir, "bob.txt");

async function refusal(run: () => Promise<unknown>): Promise<NetravenError> {
  try {
    await run();
  } catch (error) {
    if (!isNetravenError(error)) throw error;
    return error;
  }
  throw new Error("expected a refusal");
}

function privateFile(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe("file permissions, as for .pgpass", () => {
  test("0600 (what age-keygen writes) and 0400 are accepted", async () => {
    expect((await readIdentityFile(alice.identityFile)).count).toBe(1);
    chmodSync(alice.identityFile, 0o400);
    try {
      expect((await readIdentityFile(alice.identityFile)).count).toBe(1);
    } finally {
      chmodSync(alice.identityFile, 0o600);
    }
  });

  test("0644, 0640 and 0604 are refused with the chmod that fixes it, before the key is read", async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const path = privateFile(`open-${mode.toString(8)}.txt`, readFileSync(alice.identityFile, "utf8"), mode);
      const error = await refusal(() => readIdentityFile(path, "NETRAVEN_DB_IDENTITY_FILE"));
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.exitStatus).toBe(3);
      expect(error.message).toBe(
        `NETRAVEN_DB_IDENTITY_FILE ${path}: other users can access this secret key file (mode 0${mode.toString(8)}); make it private: chmod 600 ${path}`,
      );
    }
  });
});

describe("contents", () => {
  test("age-keygen's file (comments, the key) gives one identity whose public key matches age-keygen -y", async () => {
    const identities = await readIdentityFile(alice.identityFile);
    expect(identities.path).toBe(alice.identityFile);
    expect(await identities.publicKeys()).toEqual([alice.publicKey]);
  });

  test("several keys, blank lines, comments, CRLF and a duplicate", async () => {
    const path = privateFile("two.txt", `# two keys\r\n\r\n${alice.secretKey}\r\n  ${bob.secretKey}\n${alice.secretKey}\n`);
    expect(await (await readIdentityFile(path)).publicKeys()).toEqual([alice.publicKey, bob.publicKey]);
  });

  test("a post-quantum hybrid identity (AGE-SECRET-KEY-PQ-1...) is accepted", async () => {
    const pq = await generateHybridIdentity();
    const path = privateFile("pq.txt", `${pq}\n`);
    expect(await (await readIdentityFile(path)).publicKeys()).toEqual([await identityToRecipient(pq)]);
  });

  test("the keys never show: not in String(), JSON, inspect; and they are registered as secrets", async () => {
    const path = privateFile("shown.txt", `${bob.secretKey}\n`);
    const identities = await readIdentityFile(path, "--identity");
    const shown = `${String(identities)} ${JSON.stringify(identities)} ${JSON.stringify({ identities })} ${inspect(identities)} ${inspect({ identities }, { showHidden: true })}`;
    expect(shown).not.toContain(bob.secretKey);
    expect(shown).toContain(path);
    expect(JSON.parse(JSON.stringify(identities))).toEqual({ path, count: 1 });
    expect(scrub(`key=${bob.secretKey}`)).toBe("key=****");
  });

  test("bad lines are refused by line number and never quoted", async () => {
    const bad = `${alice.secretKey.slice(0, -1)}${alice.secretKey.at(-1) === "Q" ? "P" : "Q"}`;
    const cases: Array<[string, string]> = [
      [`# mine\n${bad}\n`, "line 2: is not a valid age secret key (a character is wrong or missing: its checksum does not match)"],
      [`${alice.secretKey.toLowerCase()}\n`, "line 1: is not a valid age secret key (age writes them in upper case: AGE-SECRET-KEY-1...)"],
      [`${alice.publicKey}\n`, "line 1: holds a public key (age1...); an identity file holds the secret key (AGE-SECRET-KEY-1...) that age-keygen wrote"],
      ["AGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGP\n", "line 1: age plugin identities (AGE-PLUGIN-...) are not supported; use a key from age-keygen"],
      ["-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "line 1: SSH and PEM private keys are not supported; use a key from age-keygen"],
      [`${alice.secretKey}\npassword=hunter2\n`, "line 2: is not an age secret key (AGE-SECRET-KEY-1...); the line is not shown in case it is a secret"],
    ];
    for (const [index, [text, problem]] of cases.entries()) {
      const path = privateFile(`bad-${index}.txt`, text);
      const error = await refusal(() => readIdentityFile(path));
      expect(error.message).toBe(`--identity ${path} ${problem}`);
      expect(error.cause).toBeUndefined();
      expect(`${error.message} ${error.hint ?? ""}`).not.toContain(alice.secretKey.slice(16, 40));
      expect(`${error.message} ${error.hint ?? ""}`).not.toContain("hunter2");
    }
    expect(scrub(bad)).toBe("****");
  });

  test("a file with no key, an encrypted identity file, a missing file, a directory", async () => {
    const empty = privateFile("empty.txt", "# created: never\n\n");
    expect((await refusal(() => readIdentityFile(empty))).message).toBe(`--identity ${empty}: holds no age secret key (AGE-SECRET-KEY-1...); age-keygen -o FILE creates one`);
    const locked = privateFile("locked.age", "age-encryption.org/v1\n-> scrypt abc 18\nxyz\n--- mac\n");
    expect((await refusal(() => readIdentityFile(locked))).message).toStartWith(`--identity ${locked}: the identity file is itself encrypted (passphrase-protected)`);
    const missing = await refusal(() => readIdentityFile(join(dir, "nope.txt")));
    expect(missing.message).toBe(`--identity ${join(dir, "nope.txt")}: does not exist`);
    expect(missing.exitStatus).toBe(3);
    const sub = join(dir, "keys");
    mkdirSync(sub, { mode: 0o700 });
    expect((await refusal(() => readIdentityFile(sub))).message).toBe(`--identity ${sub}: is a directory, not a file`);
  });
});
