// Hundreds of damaged backups and bad command lines. Every one is refused with the right exit status and a one-line
// reason, within a time limit, without a crash, and without changing the target database.
import { beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync, zstdCompressSync } from "node:zlib";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { createTestDatabase, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { tempDir } from "../harness/cleanup.ts";

/** Deterministic PRNG (mulberry32) so a failure names a mutation that can be reproduced. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Mutation {
  name: string;
  data: Buffer;
  /** Keep a manifest (with the ORIGINAL checksum) next to the file. */
  manifest: boolean;
}

let source: TestDatabase;
let target: TestDatabase;
let work: string;
/** gzipj2: a parallel backup (--jobs 2), one gzip member per table section, which the readers must take apart too. */
type Kind = "gzip" | "none" | "gzipj2";
const originals: Record<Kind, { bytes: Buffer; manifest: string }> = {} as never;
const kindOf = (mutation: Mutation): Kind => (mutation.name.split("-")[0] === "gzipj2" ? "gzipj2" : mutation.name.startsWith("none") ? "none" : "gzip");

beforeAll(async () => {
  source = await createTestDatabase();
  expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
  await fillRealisticData(source.sql, { devices: 60 });
  work = tempDir("fuzz");
  for (const kind of ["gzip", "none", "gzipj2"] as const) {
    const how = kind === "gzipj2" ? ["--compress", "gzip", "--jobs", "2"] : ["--compress", kind];
    const run = await runBinary(["backup", "--dir", work, ...how, "--prefix", `orig${kind}`, "--json"], { env: source.env });
    expect(run.status).toBe(0);
    const path = JSON.parse(run.stdout).path as string;
    originals[kind] = { bytes: readFileSync(path), manifest: readFileSync(`${path}.json`, "utf8") };
  }
  // The parallel backup really is several members (else its cases would repeat the serial ones).
  expect(gzipMembers(originals.gzipj2.bytes)).toBeGreaterThan(gzipMembers(originals.gzip.bytes));
  target = await createTestDatabase();
  expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
  await fillRealisticData(target.sql, { devices: 30 });
});

/** Gzip members in a file: each starts with the magic 1f 8b 08 (a lower bound is enough for the check above). */
function gzipMembers(bytes: Buffer): number {
  let count = 0;
  for (let i = bytes.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); i >= 0; i = bytes.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), i + 3)) {
    if (gunzipOk(bytes.subarray(i))) count++;
  }
  return count;
}

function gunzipOk(bytes: Buffer): boolean {
  try {
    gunzipSync(bytes);
    return true;
  } catch {
    return false;
  }
}

function mutations(kinds: readonly Kind[] = ["gzip", "none"]): Mutation[] {
  const random = prng(20261125);
  const list: Mutation[] = [];
  for (const compression of kinds) {
    const bytes = originals[compression].bytes;
    for (let i = 0; i < 60; i++) {
      const cut = Math.floor(random() * bytes.length);
      list.push({ name: `${compression}-truncate-${cut}`, data: bytes.subarray(0, cut), manifest: i % 2 === 0 });
    }
    for (let i = 0; i < 80; i++) {
      const at = Math.floor(random() * bytes.length);
      const data = Buffer.from(bytes);
      data[at] = data[at]! ^ (1 + Math.floor(random() * 255));
      list.push({ name: `${compression}-flip-${at}`, data, manifest: i % 2 === 0 });
    }
    for (let i = 0; i < 20; i++) {
      const size = 256 + Math.floor(random() * 2048);
      const a = Math.floor(random() * (bytes.length - 2 * size));
      const b = a + size + Math.floor(random() * (bytes.length - a - 2 * size));
      const data = Buffer.concat([bytes.subarray(0, a), bytes.subarray(b, b + size), bytes.subarray(a + size, b), bytes.subarray(a, a + size), bytes.subarray(b + size)]);
      list.push({ name: `${compression}-swap-${a}-${b}-${size}`, data, manifest: i % 2 === 0 });
    }
  }
  const plain = originals.none.bytes;
  const sql = gunzipSync(originals.gzip.bytes);
  list.push({ name: "wrong-compression-zstd-body", data: zstdCompressSync(sql), manifest: false });
  list.push({ name: "regzipped-single-member", data: gzipSync(sql), manifest: false });
  list.push({ name: "huge-header-line", data: Buffer.concat([Buffer.from("-- netraven-db backup\n-- "), Buffer.alloc(8 * 1024 * 1024, 65), Buffer.from("\n")]), manifest: false });
  const header = plain.subarray(0, 4096);
  list.push({ name: "huge-sql-line-after-header", data: Buffer.concat([header, Buffer.alloc(3 * 1024 * 1024, 66)]), manifest: false });
  list.push({ name: "not-a-backup-text", data: Buffer.from("SELECT 1;\nDROP TABLE netraven.users;\n"), manifest: false });
  list.push({ name: "not-a-backup-random", data: Buffer.from(Array.from({ length: 5000 }, () => Math.floor(random() * 256))), manifest: false });
  list.push({ name: "empty", data: Buffer.alloc(0), manifest: false });
  list.push({ name: "appended-sql", data: Buffer.concat([plain, Buffer.from("DROP TABLE netraven.users;\n")]), manifest: false });
  // A zip bomb: our real gzip header member, then 256 MiB of zeros compressed into a few hundred KiB.
  const bomb = Buffer.concat([originals.gzip.bytes.subarray(0, 4119), gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 })]);
  list.push({ name: "zip-bomb", data: bomb, manifest: false });
  return list;
}

function writeCase(dir: string, mutation: Mutation, index: number): string {
  const compressed = mutation.data[0] === 0x1f || mutation.data[0] === 0x28;
  const name = `fuzz${index}_20250101_000000.sql${compressed ? ".gz" : ""}`;
  const path = join(dir, name);
  writeFileSync(path, mutation.data);
  if (mutation.manifest) {
    const original = originals[kindOf(mutation)].manifest;
    writeFileSync(`${path}.json`, original.replace(/"file": "[^"]+"/, `"file": "${name}"`));
  }
  return path;
}

function expectRefused(run: RunResult, mutation: Mutation, original: Buffer) {
  // A few mutations cannot change a byte of the content (e.g. the gzip header's timestamp field); only those may
  // pass, and only when no manifest vouches for the original bytes.
  const identical = !mutation.manifest && sameContent(mutation.data, original);
  const context = { mutation: mutation.name, status: run.status, signal: run.signal, stderr: run.stderr.slice(0, 300) };
  expect({ ...context, timedOut: run.signal === "SIGKILL" }).toMatchObject({ timedOut: false });
  if (identical && run.status === 0) return;
  expect(context).toMatchObject({ status: 1 });
  const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
  expect({ ...context, errorLines: errors.length }).toMatchObject({ errorLines: 1 });
}

function sameContent(data: Buffer, original: Buffer): boolean {
  const decode = (b: Buffer) => {
    try {
      return b[0] === 0x1f ? gunzipSync(b) : b;
    } catch {
      return undefined;
    }
  };
  const a = decode(data);
  const b = decode(original);
  return a !== undefined && b !== undefined && createHash("sha256").update(a).digest("hex") === createHash("sha256").update(b).digest("hex");
}

describe("damaged backups", () => {
  test("verify refuses every mutation with exit 1 and one line, never hangs or crashes", async () => {
    const dir = tempDir("fuzz-verify");
    const list = mutations();
    expect(list.length).toBeGreaterThan(300);
    let index = 0;
    for (const mutation of list) {
      const path = writeCase(dir, mutation, index++);
      expectRefused(await runBinary(["verify", path], { timeoutMs: 30_000 }), mutation, originals[kindOf(mutation)].bytes);
    }
  }, 600_000);

  test("a parallel backup's file (--jobs 2, a gzip member per table section): verify refuses every mutation of it", async () => {
    const dir = tempDir("fuzz-verify-j2");
    const list = mutations(["gzipj2"]);
    expect(list.length).toBeGreaterThan(150);
    let index = 0;
    for (const mutation of list) {
      const path = writeCase(dir, mutation, index++);
      expectRefused(await runBinary(["verify", path], { timeoutMs: 30_000 }), mutation, originals[kindOf(mutation)].bytes);
    }
  }, 600_000);

  test("restore --jobs 2 refuses a sample of them (serial and parallel backups) before touching the database", async () => {
    const before = await tableChecksums(target.sql);
    const dir = tempDir("fuzz-restore-j2");
    const list = mutations(["gzip", "none", "gzipj2"]).filter((_, i) => i % 10 === 5);
    expect(list.some((m) => kindOf(m) === "gzipj2")).toBe(true);
    let index = 0;
    for (const mutation of list) {
      const path = writeCase(dir, mutation, index++);
      expectRefused(await runBinary(["restore", path, "--yes", "--jobs", "2"], { env: target.env, timeoutMs: 30_000 }), mutation, originals[kindOf(mutation)].bytes);
    }
    expect(await tableChecksums(target.sql)).toEqual(before);
  }, 600_000);

  test("restore refuses a sample of them before touching the database", async () => {
    const before = await tableChecksums(target.sql);
    const dir = tempDir("fuzz-restore");
    const list = mutations().filter((_, i) => i % 10 === 0);
    let index = 0;
    for (const mutation of list) {
      const path = writeCase(dir, mutation, index++);
      expectRefused(await runBinary(["restore", path, "--yes"], { env: target.env, timeoutMs: 30_000 }), mutation, originals[kindOf(mutation)].bytes);
    }
    expect(await tableChecksums(target.sql)).toEqual(before);
  }, 600_000);
});

describe("bad command lines", () => {
  const CASES: Array<[string, string[], Record<string, string>]> = [
    ["unknown flag", ["init", "--bogus"], {}],
    ["unknown short flag", ["validate", "-z"], {}],
    ["unknown command", ["initialize"], {}],
    ["malformed URL (IPv6)", ["init", "--url", "postgresql://[::1/db"], {}],
    ["malformed URL (port)", ["init", "--url", "postgresql://u@host:notaport/db"], {}],
    ["malformed keyword string", ["init", "--url", "host"], {}],
    ["unknown URL parameter", ["init", "--url", "postgresql://u@h/db?foo=bar"], {}],
    ["more ports than hosts", ["init", "--url", "postgresql://u@a,b/db?port=1,2,3"], {}],
    ["a parameter netraven-db cannot honour", ["init", "--url", "postgresql://u@a,b/db?gssencmode=require"], {}],
    ["non-numeric --retry", ["init", "--retry", "many"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["zero --retry", ["init", "--retry", "0"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["negative interval", ["init", "--retry-interval", "-1"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["bad env twin", ["init"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db", NETRAVEN_DB_RETRY: "x" }],
    ["bad sslmode", ["init", "--url", "postgresql://u@h/db?sslmode=maybe"], {}],
    ["bad compression", ["backup", "--compress", "rar", "--dir", "/tmp"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["bad level", ["backup", "--compress", "gzip", "--level", "42", "--dir", "/tmp"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["bad schema name", ["init", "--schema", "pg_catalog"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["missing restore file", ["restore", "/no/such/file.sql.gz", "--yes"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["restore of a directory", ["restore", "/tmp", "--yes"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["list of a missing directory", ["list", "--dir", "/no/such/dir"], {}],
    ["backup dir under a file", ["backup", "--dir", "/etc/hostname/sub"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["backup dir on a read-only file system", ["backup", "--dir", "/proc/netraven-backups"], { DATABASE_URL: "postgresql://u@127.0.0.1:1/db" }],
    ["missing positional", ["verify"], {}],
    ["*_FILE pointing nowhere", ["init"], { DATABASE_URL_FILE: "/no/such/secret" }],
    ["both VAR and VAR_FILE", ["init"], { DATABASE_URL: "postgresql://u@h/db", DATABASE_URL_FILE: "/etc/hostname" }],
  ];
  for (const [what, args, env] of CASES) {
    test(`${what}: one line, usage exit status 3, before any connection`, async () => {
      const run = await runBinary(args, { env });
      expect(run.status).toBe(3);
      const lines = run.stderr.trim().split("\n");
      expect(lines[0]).toMatch(/^netraven-db: error: /);
      expect(lines.filter((l) => !l.startsWith("netraven-db: hint:"))).toHaveLength(1);
      expect(run.stderr).not.toContain("Waiting for PostgreSQL");
    });
  }
});
