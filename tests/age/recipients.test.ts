// Public keys to encrypt to (src/age/recipients.ts): real keys from age-keygen are accepted and normalised; every
// bad entry is refused in one line naming where it came from; a secret key given by mistake is refused without
// ever being printed (and is registered, so nothing else can print it).
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateHybridIdentity, identityToRecipient } from "age-encryption";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { parseRecipients, readRecipientsFile, recipientsFromText, recipientsFromValues } from "../../src/age/recipients.ts";
import { scrub } from "../../src/secrets.ts";
import { ageKeygen, requireAgeCli } from "../harness/age-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-age-rcpt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

requireAgeCli();
const alice = ageKeygen(dir, "alice.txt");
const bob = ageKeygen(dir, "bob.txt");

async function refusal(run: () => Promise<unknown> | unknown): Promise<NetravenError> {
  try {
    await run();
  } catch (error) {
    if (!isNetravenError(error)) throw error;
    return error;
  }
  throw new Error("expected a refusal");
}

describe("accepted keys", () => {
  test("--encrypt-to values (repeated, or several in one value) give the keys in order, without duplicates", async () => {
    expect(await parseRecipients(recipientsFromValues([alice.publicKey, bob.publicKey, alice.publicKey]))).toEqual([alice.publicKey, bob.publicKey]);
    expect(await parseRecipients(recipientsFromValues([`${alice.publicKey}, ${bob.publicKey}\n`]))).toEqual([alice.publicKey, bob.publicKey]);
  });

  test("an upper-case key (bech32 is case-insensitive) is normalised to lower case", async () => {
    expect(await parseRecipients(recipientsFromValues([alice.publicKey.toUpperCase()]))).toEqual([alice.publicKey]);
  });

  test("a recipients file: one key a line, # comments, blank lines, CRLF, surrounding spaces", async () => {
    const file = join(dir, "recipients.txt");
    writeFileSync(file, `# backup keys\r\n\r\n  ${alice.publicKey}  \r\n# bob, off-site\n${bob.publicKey}\n`);
    const entries = await readRecipientsFile(file);
    expect(entries.map((e) => e.origin)).toEqual([`--recipients-file ${file} line 3`, `--recipients-file ${file} line 5`]);
    expect(await parseRecipients(entries)).toEqual([alice.publicKey, bob.publicKey]);
  });

  test("flags and a file together", async () => {
    const file = join(dir, "one.txt");
    writeFileSync(file, `${bob.publicKey}\n`);
    expect(await parseRecipients([...recipientsFromValues([alice.publicKey]), ...(await readRecipientsFile(file))])).toEqual([alice.publicKey, bob.publicKey]);
  });

  test("a post-quantum hybrid key (age1pq1..., ~1,950 characters) is accepted: the library supports it", async () => {
    const pq = await identityToRecipient(await generateHybridIdentity());
    expect(pq.startsWith("age1pq1")).toBe(true);
    expect(await parseRecipients(recipientsFromValues([pq, alice.publicKey]))).toEqual([pq, alice.publicKey]);
  });
});

describe("refused entries, one line each, naming the entry", () => {
  test("a secret key given where a public key belongs: refused, never printed, registered as a secret", async () => {
    for (const given of [alice.secretKey, alice.secretKey.toLowerCase(), `  ${alice.secretKey}  `]) {
      const error = await refusal(() => parseRecipients(recipientsFromValues([bob.publicKey, given])));
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toBe(
        "--encrypt-to value 2: a secret key (AGE-SECRET-KEY-...) was given where a public key (age1...) belongs; give its public key instead (age-keygen -y KEYFILE prints it) and keep the secret key off the backup host",
      );
      expect(`${error.message}${error.hint}${JSON.stringify(error)}${String(error.cause)}`.toUpperCase()).not.toContain(alice.secretKey.slice(16, 40));
    }
    expect(scrub(`leaked: ${alice.secretKey}`)).toBe("leaked: ****");
  });

  test("a secret key in a recipients file: refused by line number, not printed", async () => {
    const file = join(dir, "oops.txt");
    writeFileSync(file, `${alice.publicKey}\n# bob\n${bob.secretKey}\n`);
    const error = await refusal(async () => parseRecipients(await readRecipientsFile(file)));
    expect(error.message).toStartWith(`--recipients-file ${file} line 3: a secret key (AGE-SECRET-KEY-...) was given where a public key (age1...) belongs`);
    expect(error.message).not.toContain(bob.secretKey.slice(15));
    expect(scrub(bob.secretKey)).toBe("****");
  });

  test("a mistyped public key (checksum) is named and shown: a public key is not a secret", async () => {
    const last = alice.publicKey.at(-1)!;
    const typo = `${alice.publicKey.slice(0, -1)}${last === "q" ? "p" : "q"}`;
    const error = await refusal(() => parseRecipients(recipientsFromValues([typo])));
    expect(error.message).toBe(`--encrypt-to: ${typo} is not a valid age public key (a character is wrong or missing: its checksum does not match)`);
    const short = await refusal(() => parseRecipients(recipientsFromValues([alice.publicKey.slice(0, -3)])));
    expect(short.message).toContain("is not a valid age public key");
    const badChar = await refusal(() => parseRecipients(recipientsFromValues([`${alice.publicKey.slice(0, 10)}b${alice.publicKey.slice(11)}`])));
    expect(badChar.message).toEndWith("is not a valid age public key (it holds characters a key cannot contain)");
  });

  test("something that is not a key at all is described, not echoed (it might be a password)", async () => {
    const error = await refusal(() => parseRecipients(recipientsFromValues(["hunter2-Secret!"])));
    expect(error.message).toBe("--encrypt-to: is not an age public key (those start with age1); the value is not shown in case it is a secret");
    expect(error.message).not.toContain("hunter2");
  });

  test("SSH keys, plugin and hardware-tag recipients are refused with the reason", async () => {
    const ssh = await refusal(() => parseRecipients(recipientsFromValues(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"])));
    // one value with white space splits into entries; the first is the SSH key type
    expect(ssh.message).toBe("--encrypt-to value 1: SSH public keys are not supported; give an age public key (age1..., from age-keygen)");
    const plugin = await refusal(() => parseRecipients(recipientsFromValues(["age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t"])));
    expect(plugin.message).toBe("--encrypt-to: age plugin recipients (age1yubikey1...) are not supported; give an age public key (age1..., from age-keygen)");
    const tag = await refusal(() => parseRecipients(recipientsFromValues(["age1tag1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t"])));
    expect(tag.message).toStartWith("--encrypt-to: hardware-token tag recipients (age1tag1...) are not supported");
  });

  test("no keys at all is refused, never an unencrypted backup", async () => {
    expect((await refusal(() => recipientsFromValues(["", " , "]))).message).toBe("--encrypt-to: is empty; give an age public key (age1...)");
    const file = join(dir, "comments.txt");
    writeFileSync(file, "# nobody yet\n\n");
    expect((await refusal(() => readRecipientsFile(file))).message).toBe(`--recipients-file ${file}: holds no public key (only comments or blank lines)`);
    expect((await refusal(() => parseRecipients([]))).code).toBe("CONFIG_INVALID");
    expect(recipientsFromText("# only\n", "x")).toEqual([]);
  });

  test("a recipients file that is missing, a directory or unreadable: one line in words, exit status 3", async () => {
    const missing = await refusal(() => readRecipientsFile(join(dir, "nope.txt")));
    expect(missing.message).toBe(`--recipients-file ${join(dir, "nope.txt")}: does not exist`);
    expect(missing.exitStatus).toBe(3);
    const sub = join(dir, "sub");
    mkdirSync(sub);
    expect((await refusal(() => readRecipientsFile(sub, "NETRAVEN_DB_RECIPIENTS_FILE"))).message).toBe(`NETRAVEN_DB_RECIPIENTS_FILE ${sub}: is a directory, not a file`);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, "locked.txt");
      writeFileSync(locked, `${alice.publicKey}\n`);
      chmodSync(locked, 0o000);
      expect((await refusal(() => readRecipientsFile(locked))).message).toBe(`--recipients-file ${locked}: permission denied`);
    }
  });
});
