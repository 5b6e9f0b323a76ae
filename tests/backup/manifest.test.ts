// Backup file names (`<prefix>_<YYYYmmdd>_<HHMMSS>[_<n>].sql[.gz|.zst]`, in UTC, the old backup script's layout)
// and the `<file>.json` manifest beside each backup.
import { afterAll, describe, expect, test } from "bun:test";
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { readManifest as readFromStore, writeManifest as writeToStore, type Manifest } from "../../src/backup/manifest.ts";
import { backupFileName, manifestName, parseBackupFileName } from "../../src/backup/naming.ts";
import { digestStream } from "../../src/checksum.ts";
import { openBackupFile } from "../../src/storage/index.ts";

// The manifest functions work on a store; these read and write the manifest of a backup file in its directory.
const manifestPath = (file: string) => join(dirname(file), manifestName(basename(file)));
const storeOf = async (file: string) => (await openBackupFile(file, { env: {}, setting: "FILE", mustExist: false })).store;
const readManifest = async (file: string) => readFromStore(await storeOf(file), basename(file));
const writeManifest = async (file: string, m: Manifest) => writeToStore(await storeOf(file), basename(file), m);
const sha256File = (path: string) => digestStream(createReadStream(path));

const dir = mkdtempSync(join(tmpdir(), "netraven-manifest-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("backupFileName", () => {
  const at = new Date("2026-11-25T19:05:01.987Z");

  test("prefix, UTC date and time to the second, extension by compression", () => {
    expect(backupFileName("netraven", at, "gzip")).toBe("netraven_20261125_190501.sql.gz");
    expect(backupFileName("netraven", at, "zstd")).toBe("netraven_20261125_190501.sql.zst");
    expect(backupFileName("netraven", at, "none")).toBe("netraven_20261125_190501.sql");
  });

  test("the stamp is UTC whatever offset the moment was written with", () => {
    expect(backupFileName("db", new Date("2026-11-25T23:30:00-05:00"), "gzip")).toBe("db_20261126_043000.sql.gz");
    expect(backupFileName("db", new Date("2027-01-01T00:59:59+01:00"), "none")).toBe("db_20261231_235959.sql");
  });

  test("a sequence number is appended only when given", () => {
    expect(backupFileName("netraven", at, "gzip", 0)).toBe("netraven_20261125_190501.sql.gz");
    expect(backupFileName("netraven", at, "gzip", 2)).toBe("netraven_20261125_190501_2.sql.gz");
  });

  test("names sort by time", () => {
    const names = ["2026-01-02T00:00:00Z", "2025-12-31T23:59:59Z", "2026-01-01T12:00:00Z"].map((t) => backupFileName("n", new Date(t), "gzip"));
    expect([...names].sort()).toEqual([names[1], names[2], names[0]]);
  });
});

describe("parseBackupFileName", () => {
  test("reads back what backupFileName writes, to the second", () => {
    for (const compression of ["gzip", "zstd", "none"] as const) {
      for (const sequence of [0, 3]) {
        const name = backupFileName("netraven", new Date("2026-11-25T19:05:01.987Z"), compression, sequence);
        expect(parseBackupFileName(name)).toEqual({ prefix: "netraven", at: new Date("2026-11-25T19:05:01Z") });
      }
    }
  });

  test("the old backup script's names (same layout) are recognised", () => {
    expect(parseBackupFileName("netraven_20250403_200520.sql.gz")).toEqual({ prefix: "netraven", at: new Date("2025-04-03T20:05:20Z") });
  });

  test("prefixes may contain underscores and digits", () => {
    expect(parseBackupFileName("net_raven_2_20261125_190501.sql")?.prefix).toBe("net_raven_2");
    expect(parseBackupFileName("a_20200101_000000_20261125_190501_7.sql.zst")).toEqual({ prefix: "a_20200101_000000", at: new Date("2026-11-25T19:05:01Z") });
  });

  test("foreign names are not backups", () => {
    for (const name of [
      "notes.txt",
      "netraven.sql.gz",
      "netraven_20261125.sql.gz",
      "netraven_2026112_190501.sql.gz",
      "netraven_20261125_19051.sql.gz",
      "netraven_20261125_190501.sql.bz2",
      "netraven_20261125_190501.dump",
      "netraven_20261125_190501.sql.gz.json",
      ".netraven_20261125_190501.sql.gz.partial-1234",
      "_20261125_190501.sql",
      "netraven_20261125_190501_x.sql",
      "NETRAVEN_20261125_190501.SQL.GZ",
    ]) {
      expect({ name, parsed: parseBackupFileName(name) }).toEqual({ name, parsed: undefined });
    }
  });

  test("impossible dates and times are not stamps (no silent roll-over to another day)", () => {
    for (const name of [
      "n_20261301_000000.sql", // month 13
      "n_20261100_000000.sql", // day 0
      "n_20260230_120000.sql", // 30 February
      "n_20250229_120000.sql", // 29 February in a common year
      "n_20261125_250000.sql",
      "n_20261125_240000.sql",
      "n_20261125_126000.sql",
      "n_20261125_120060.sql",
    ]) {
      expect({ name, parsed: parseBackupFileName(name) }).toEqual({ name, parsed: undefined });
    }
    expect(parseBackupFileName("n_20240229_120000.sql")?.at).toEqual(new Date("2024-02-29T12:00:00Z"));
  });
});

// ---- the manifest ------------------------------------------------------------------------------------------------

function manifest(file: string, overrides: Partial<Manifest> = {}): Manifest {
  return {
    tool: "netraven-db",
    format_version: 3,
    file,
    size_bytes: 4567,
    sha256: "ab".repeat(32),
    compression: "gzip",
    tool_version: "0.1.0",
    tool_revision: "abc1234",
    schema_version: 2,
    server_version: "15.8",
    database: "netraven",
    schema: "netraven",
    started_at: "2026-11-25T19:05:01.000Z",
    finished_at: "2026-11-25T19:05:03.000Z",
    duration_ms: 2000,
    data_bytes: 90000,
    rows_total: 3,
    tables: [{ name: "users", rows: 3, columns: ["id", "username"] }],
    skipped_tables: [],
    encryption: null,
    taken_from: "primary",
    standby_replay_timestamp: null,
    verified_at: null,
    ...overrides,
  };
}

let counter = 0;
/** A backup path in its own directory, with `json` (if given) written as its manifest. */
function backupWith(json: string | undefined): string {
  const sub = join(dir, `case-${++counter}`);
  mkdirSync(sub);
  const file = join(sub, "netraven_20261125_190501.sql.gz");
  if (json !== undefined) writeFileSync(manifestPath(file), json);
  return file;
}

async function readFailure(file: string): Promise<NetravenError> {
  try {
    await readManifest(file);
  } catch (error) {
    if (isNetravenError(error)) return error;
    throw error;
  }
  throw new Error("expected readManifest to fail");
}

describe("readManifest", () => {
  test("the manifest sits next to the backup as <file>.json", () => {
    expect(manifestPath("/b/netraven_20261125_190501.sql.gz")).toBe("/b/netraven_20261125_190501.sql.gz.json");
  });

  test("reads a valid manifest", async () => {
    const m = manifest("netraven_20261125_190501.sql.gz");
    const file = backupWith(JSON.stringify(m));
    expect(await readManifest(file)).toEqual(m);
  });

  test("older manifests without skipped_tables and verified_at get the defaults", async () => {
    const { skipped_tables: _s, verified_at: _v, ...older } = manifest("netraven_20261125_190501.sql.gz");
    const file = backupWith(JSON.stringify(older));
    const read = await readManifest(file);
    expect(read?.skipped_tables).toEqual([]);
    expect(read?.verified_at).toBeNull();
  });

  test("no manifest is not an error: undefined", async () => {
    expect(await readManifest(backupWith(undefined))).toBeUndefined();
  });

  test("bad JSON is BACKUP_INVALID, naming the manifest file", async () => {
    const error = await readFailure(backupWith("{ not json"));
    expect(error.code).toBe("BACKUP_INVALID");
    expect(error.message).toBe("netraven_20261125_190501.sql.gz.json: not valid JSON");
  });

  test("a manifest of the wrong shape is BACKUP_INVALID, naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tool: "pg_dump" }, "tool"],
      [{ format_version: 2 }, "format_version"],
      [{ sha256: "not-a-hash" }, "sha256"],
      [{ sha256: "AB".repeat(32) }, "sha256"],
      [{ size_bytes: -1 }, "size_bytes"],
      [{ compression: "lz4" }, "compression"],
      [{ schema_version: 0 }, "schema_version"],
      [{ tables: [{ name: "users", rows: 1.5, columns: [] }] }, "tables.0.rows"],
      [{ finished_at: null }, "finished_at"],
    ];
    for (const [change, field] of cases) {
      const error = await readFailure(backupWith(JSON.stringify({ ...manifest("netraven_20261125_190501.sql.gz"), ...change })));
      expect({ field, code: error.code, prefix: error.message.startsWith(`netraven_20261125_190501.sql.gz.json: ${field}: `) }).toEqual({ field, code: "BACKUP_INVALID", prefix: true });
    }
  });

  test("JSON that is not an object is BACKUP_INVALID", async () => {
    for (const json of ["[]", "null", '"text"', "42"]) {
      expect((await readFailure(backupWith(json))).code).toBe("BACKUP_INVALID");
    }
  });

  test("a missing field is BACKUP_INVALID", async () => {
    const { sha256: _gone, ...rest } = manifest("netraven_20261125_190501.sql.gz");
    const error = await readFailure(backupWith(JSON.stringify(rest)));
    expect(error.code).toBe("BACKUP_INVALID");
    expect(error.message).toContain("sha256");
  });

  test("a manifest that describes another file is refused (copied or renamed next to the wrong backup)", async () => {
    const error = await readFailure(backupWith(JSON.stringify(manifest("netraven_20261124_010101.sql.gz"))));
    expect(error.code).toBe("BACKUP_INVALID");
    expect(error.message).toBe("netraven_20261125_190501.sql.gz.json: describes netraven_20261124_010101.sql.gz, not netraven_20261125_190501.sql.gz");
  });

  test("the file field is a bare name: a path in it does not match", async () => {
    const error = await readFailure(backupWith(JSON.stringify(manifest("/elsewhere/netraven_20261125_190501.sql.gz"))));
    expect(error.code).toBe("BACKUP_INVALID");
  });

  test("a manifest that cannot be read is FILE_UNREADABLE", async () => {
    const file = backupWith(undefined);
    mkdirSync(manifestPath(file));
    const error = await readFailure(file);
    expect(error.code).toBe("FILE_UNREADABLE");
    expect(error.message).toContain(manifestPath(file));
  });

  test("writeManifest then readManifest round trip, pretty JSON with a final newline", async () => {
    const file = backupWith(undefined);
    const m = manifest("netraven_20261125_190501.sql.gz", { verified_at: "2026-11-26T08:00:00.000Z", skipped_tables: ["app_extra"] });
    await writeManifest(file, m);
    expect(await readManifest(file)).toEqual(m);
    const text = await Bun.file(manifestPath(file)).text();
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "tool": "netraven-db",\n');
  });
});

describe("the checksum of a stored file (digestStream)", () => {
  test("digest and size of a known input (FIPS 180-2 test vector 'abc')", async () => {
    const path = join(dir, "abc.bin");
    writeFileSync(path, "abc");
    expect(await sha256File(path)).toEqual({ sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", size: 3 });
  });

  test("an empty file", async () => {
    const path = join(dir, "empty.bin");
    writeFileSync(path, "");
    expect(await sha256File(path)).toEqual({ sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", size: 0 });
  });

  test("a file larger than one read chunk (1 MiB) is hashed whole", async () => {
    const path = join(dir, "big.bin");
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 0x61);
    writeFileSync(path, data);
    const expected = new Bun.CryptoHasher("sha256").update(data).digest("hex");
    expect(await sha256File(path)).toEqual({ sha256: expected, size: data.length });
  });
});
