// Reading an age file from the outside, without a key (src/age/format.ts): the magic line detector and the
// header scan, on headers that age itself wrote.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { AGE_MAGIC, AGE_MAGIC_LENGTH, describeStanzas, isAgeFile, isArmoredAgeFile, mayBeAgeFile, MAX_HEADER_BYTES, scanHeader } from "../../src/age/format.ts";
import { ageEncryptFile, ageKeygen, requireAgeCli } from "../harness/age-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-age-format-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

requireAgeCli();
const alice = ageKeygen(dir, "alice.txt");
const bob = ageKeygen(dir, "bob.txt");
const encoder = new TextEncoder();

describe("isAgeFile", () => {
  test("true for what age writes, from the first 22 bytes on", () => {
    writeFileSync(join(dir, "plain"), "hello\n");
    ageEncryptFile([alice.publicKey], join(dir, "plain"), join(dir, "plain.age"));
    const file = readFileSync(join(dir, "plain.age"));
    expect(AGE_MAGIC_LENGTH).toBe(22);
    expect(isAgeFile(file)).toBe(true);
    expect(isAgeFile(file.subarray(0, 22))).toBe(true);
    expect(isAgeFile(file.subarray(0, 21))).toBe(false);
  });

  test("false for gzip, zstd-like bytes, text, an empty buffer and age's ASCII armor (told apart)", () => {
    expect(isAgeFile(gzipSync("x"))).toBe(false);
    expect(isAgeFile(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]))).toBe(false);
    expect(isAgeFile(encoder.encode("age-encryption.org/v2\n-> X25519"))).toBe(false);
    expect(isAgeFile(encoder.encode("age-encryption.org/v1"))).toBe(false); // no newline yet
    expect(isAgeFile(new Uint8Array())).toBe(false);
    ageEncryptFile([alice.publicKey], join(dir, "plain"), join(dir, "plain.age.txt"), true);
    const armored = readFileSync(join(dir, "plain.age.txt"));
    expect(isAgeFile(armored)).toBe(false);
    expect(isArmoredAgeFile(armored)).toBe(true);
    expect(isArmoredAgeFile(encoder.encode(AGE_MAGIC))).toBe(false);
  });

  test("mayBeAgeFile decides on the first byte that differs from the magic line", () => {
    expect(mayBeAgeFile(encoder.encode("age-enc"))).toBe(true);
    expect(mayBeAgeFile(new Uint8Array())).toBe(true);
    expect(mayBeAgeFile(encoder.encode(`${AGE_MAGIC}-> X25519`))).toBe(true);
    expect(mayBeAgeFile(encoder.encode("ab"))).toBe(false);
    expect(mayBeAgeFile(gzipSync("x").subarray(0, 2))).toBe(false);
  });
});

describe("scanHeader", () => {
  test("finds the end of age's header (the nonce follows) and the stanza types, for one and two recipients", () => {
    for (const recipients of [[alice.publicKey], [alice.publicKey, bob.publicKey]]) {
      ageEncryptFile(recipients, join(dir, "plain"), join(dir, "scan.age"));
      const file = readFileSync(join(dir, "scan.age"));
      const scan = scanHeader(file)!;
      expect(scan.stanzaTypes).toEqual(recipients.map(() => "X25519"));
      const text = file.subarray(0, scan.length).toString("latin1");
      expect(text.startsWith(AGE_MAGIC)).toBe(true);
      expect(text).toMatch(/\n--- [A-Za-z0-9+/]{43}\n$/);
      // Nonce (16) + one chunk of "hello\n" (6) + tag (16).
      expect(file.length - scan.length).toBe(16 + 6 + 16);
      // Any prefix that ends before the MAC line's newline needs more bytes.
      expect(scanHeader(file.subarray(0, scan.length - 1))).toBeUndefined();
      expect(scanHeader(file.subarray(0, 30))).toBeUndefined();
    }
  });

  test("refuses what cannot be an age header, and one longer than the limit", () => {
    expect(() => scanHeader(encoder.encode("hello world\nmore\n"))).toThrow("not an age file");
    expect(() => scanHeader(encoder.encode(`${AGE_MAGIC}--- abc\n`))).toThrow("the age header has no recipient stanza");
    expect(() => scanHeader(encoder.encode(`${AGE_MAGIC}garbage\n`))).toThrow("the age header has no recipient stanza");
    const long = new Uint8Array(MAX_HEADER_BYTES + 10).fill(0x41);
    long.set(encoder.encode(`${AGE_MAGIC}-> X25519 `));
    expect(() => scanHeader(long)).toThrow("the age header is longer than 1 MiB");
  });

  test("describeStanzas counts types and does not echo odd ones", () => {
    expect(describeStanzas(["X25519", "X25519"])).toBe("2 X25519 recipients");
    expect(describeStanzas(["mlkem768x25519", "X25519"])).toBe("1 mlkem768x25519 recipient and 1 X25519 recipient");
    expect(describeStanzas(["\u001b[31mred"])).toBe("1 unknown recipient");
  });
});
