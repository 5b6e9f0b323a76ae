// The old backups: files made by the REAL pg_dump (Debian 12 packages PostgreSQL 15 only, so pg_dump 15 is the only
// version tested here) of an ORM-created and an init-created database with realistic data, compressed the way the old
// script did (`pg_dump | gzip`), with zstd and uncompressed. list names them, verify and restore refuse them, and
// `restore --from-pg-dump` imports them row for row, or refuses them with the reason, leaving the database as it was.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, zstdCompressSync } from "node:zlib";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { catalogSnapshot } from "../harness/catalog.ts";
import { client, createTestDatabase, psql, testServer, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { legacyRoleUrl, loadLegacySchema, oldBackupScript } from "../harness/legacy.ts";

const SENTENCE = "pg_dump file (not made by netraven-db; not verifiable)";
const work = mkdtempSync(join(tmpdir(), "netraven-pgdump-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The same dump as gzip (the old script), zstd and plain, under the old script's names. */
function dumpAllWays(url: string, stamp: string): { gzip: string; zstd: string; none: string } {
  const gzip = join(work, `netraven_${stamp}.sql.gz`);
  oldBackupScript(url, gzip);
  const plain = gunzipSync(readFileSync(gzip));
  const zstd = join(work, `netraven_${stamp}_1.sql.zst`);
  const none = join(work, `netraven_${stamp}_2.sql`);
  writeFileSync(zstd, zstdCompressSync(plain));
  writeFileSync(none, plain);
  return { gzip, zstd, none };
}

function pgDumpMajor(): number {
  const version = spawnSync("pg_dump", ["--version"], { encoding: "utf8" });
  if (version.status !== 0) throw new Error("pg_dump is missing: install the Debian package postgresql-client (CI installs postgresql)");
  return Number(version.stdout.match(/ (\d+)\./)![1]);
}

/** A database as NetRaven's old setup left it: init-db.sql + the ORM's create_all, owned by role netraven. */
async function ormDatabase(devices: number) {
  const db = await createTestDatabase();
  const url = legacyRoleUrl(testServer().url(db.name), db.name);
  loadLegacySchema(url);
  const sql = client(url);
  await fillRealisticData(sql, { devices });
  return { db, url, sql };
}

async function initDatabase(devices: number): Promise<TestDatabase> {
  const db = await createTestDatabase();
  expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
  await fillRealisticData(db.sql, { devices });
  return db;
}

/** A live database with other data: what an import replaces (or must leave alone). */
async function liveTarget(): Promise<TestDatabase> {
  return initDatabase(30);
}

async function snapshot(db: TestDatabase) {
  return { rows: await tableChecksums(db.sql), catalog: await catalogSnapshot(db.sql) };
}

const errorLines = (run: RunResult) => run.stderr.split("\n").filter((l) => l.includes("error:"));

let orm: Awaited<ReturnType<typeof ormDatabase>>;
let ormDumps: ReturnType<typeof dumpAllWays>;
let initSource: TestDatabase;
let initDumps: ReturnType<typeof dumpAllWays>;
let failed: string;

beforeAll(async () => {
  expect(pgDumpMajor()).toBeGreaterThanOrEqual(15);
  orm = await ormDatabase(150);
  ormDumps = dumpAllWays(orm.url, "20250403_200520");
  initSource = await initDatabase(150);
  initDumps = dumpAllWays(initSource.url, "20250402_200520");
  // The old script with pg_dump failing (the server unreachable): it printed success and left a 20-byte gzip.
  failed = join(work, "netraven_20250404_200520.sql.gz");
  oldBackupScript("postgresql://netraven:pw@127.0.0.1:1/netraven", failed);
  // The fixtures are what the issue describes: a 20-byte gzip, and complete pg_dump scripts.
  expect(statSync(failed).size).toBe(20);
  const text = readFileSync(ormDumps.none, "utf8");
  expect(text.startsWith("--\n-- PostgreSQL database dump\n--\n")).toBe(true);
  expect(text).toContain("COPY netraven.job_log_entries (");
  expect(text).toContain("-- PostgreSQL database dump complete");
  expect(readFileSync(initDumps.none, "utf8")).toContain("CREATE TABLE netraven.netraven_db_version (");
});

describe("naming the old files", () => {
  test("list marks pg_dump files (gzip, zstd, plain) and the empty one, in text and --json; our backups stay as they were", async () => {
    const dir = mkdtempSync(join(work, "list-"));
    for (const file of [...Object.values(ormDumps), failed]) copyFileSync(file, join(dir, file.split("/").pop()!));
    const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: initSource.env });
    expect(backup.status).toBe(0);
    const ours = JSON.parse(backup.stdout).file as string;

    const text = await runBinary(["list", "--dir", dir]);
    expect(text.status).toBe(0);
    const line = (name: string) => text.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
    for (const file of Object.values(ormDumps)) expect(line(file.split("/").pop()!)).toEndWith(SENTENCE);
    expect(line("netraven_20250404_200520.sql.gz")).toMatch(/20 B .* EMPTY: no dump in it \(a failed pg_dump\)$/);
    expect(line(ours)).toEndWith("checksum");

    const json = await runBinary(["list", "--dir", dir, "--json"]);
    const doc = JSON.parse(json.stdout);
    const entry = (name: string) => doc.backups.find((b: any) => b.file === name);
    for (const file of Object.values(ormDumps)) expect(entry(file.split("/").pop()!)).toMatchObject({ status: "pg-dump", problem: SENTENCE, schema_version: null, rows_total: null });
    expect(entry("netraven_20250404_200520.sql.gz")).toMatchObject({ status: "empty", size_bytes: 20 });
    expect(entry("netraven_20250404_200520.sql.gz").problem).toContain("when pg_dump failed");
    expect(entry(ours).status).toBe("checksummed");
  });

  for (const compression of ["gzip", "zstd", "none"] as const) {
    test(`${compression}: verify exits 1 with the sentence and says how to import it`, async () => {
      const file = ormDumps[compression];
      const run = await runBinary(["verify", file]);
      expect(run.status).toBe(1);
      expect(errorLines(run)).toEqual([`netraven-db: error: ${file.split("/").pop()}: ${SENTENCE}`]);
      expect(run.stderr).toContain(`hint: to import it, run: netraven-db restore ${file} --from-pg-dump`);
      expect(run.stderr).not.toContain("no manifest");
      const json = await runBinary(["verify", file, "--json"]);
      expect(json.status).toBe(1);
      expect(JSON.parse(json.stdout).error).toMatchObject({ code: "BACKUP_INVALID", message: `${file.split("/").pop()}: ${SENTENCE}`, exit_status: 1 });
    });
  }

  test("verify and restore say what the failed script's 20-byte file is (exit 1)", async () => {
    const target = await liveTarget();
    const before = await snapshot(target);
    for (const args of [["verify", failed], ["restore", failed, "--yes"], ["restore", failed, "--from-pg-dump", "--yes"]]) {
      const run = await runBinary(args, { env: target.env });
      expect({ args, status: run.status }).toEqual({ args, status: 1 });
      expect(errorLines(run)).toEqual(["netraven-db: error: netraven_20250404_200520.sql.gz: empty gzip file: no dump in it (the old backup script wrote this when pg_dump failed, and still reported success)"]);
    }
    expect(await snapshot(target)).toEqual(before);
  });

  for (const compression of ["gzip", "zstd", "none"] as const) {
    test(`${compression}: restore without --from-pg-dump refuses it (exit 1) and changes nothing`, async () => {
      const target = await liveTarget();
      const before = await snapshot(target);
      const run = await runBinary(["restore", ormDumps[compression], "--yes"], { env: target.env });
      expect(run.status).toBe(1);
      expect(errorLines(run)).toEqual([`netraven-db: error: ${ormDumps[compression].split("/").pop()}: ${SENTENCE}`]);
      expect(run.stderr).toContain("--from-pg-dump");
      expect(await snapshot(target)).toEqual(before);
    });
  }
});

describe("restore --from-pg-dump", () => {
  test("the old script's gzip of an ORM-created database: refused without --yes off a terminal, then imported row for row", async () => {
    const target = await liveTarget();
    const before = await snapshot(target);
    const unconfirmed = await runBinary(["restore", ormDumps.gzip, "--from-pg-dump"], { env: target.env });
    expect(unconfirmed.status).toBe(9);
    expect(unconfirmed.stderr).toContain("without confirmation; nothing was changed");
    expect(await snapshot(target)).toEqual(before);

    const run = await runBinary(["restore", ormDumps.gzip, "--from-pg-dump", "--yes", "--json"], { env: target.env });
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ ok: true, source: "pg-dump", schema: "netraven", backup_schema_version: null, validation: { ok: true, differences: [] } });
    expect(doc.pg_dump_version).toStartWith(String(pgDumpMajor()));
    for (const t of doc.tables) expect(t.restored).toBe(t.expected);
    expect(doc.rows_total).toBeGreaterThan(1000);
    // Every NetRaven row identical to the ORM database it was dumped from; the import recorded itself.
    const { netraven_db_version: version, ...rows } = await tableChecksums(target.sql);
    expect(rows).toEqual(await tableChecksums(orm.sql));
    expect(version).toStartWith("1:");
    const [recorded] = await target.sql`select version, kind, description from netraven.netraven_db_version`;
    expect(recorded).toMatchObject({ version: 1, kind: "restore" });
    expect(recorded!.description).toContain("imported from netraven_20250403_200520.sql.gz (a pg_dump 15");
    const validate = await runBinary(["validate"], { env: target.env });
    expect(validate.status).toBe(0);
    expect(validate.stdout.trim()).toBe("Schema matches definitions (13 tables checked).");
  });

  for (const compression of ["zstd", "none"] as const) {
    test(`${compression}: an init-created database (with netraven_db_version) into a new database with --target-db`, async () => {
      const admin = await createTestDatabase();
      const name = `${admin.name}_new`;
      const run = await runBinary(["restore", initDumps[compression], "--from-pg-dump", "--target-db", name], { env: admin.env });
      expect(run.status).toBe(0);
      expect(run.stderr).toContain(`Created database "${name}"`);
      expect(run.stdout.trim()).toBe("Schema matches definitions (13 tables checked).");
      const created = client(testServer().url(name));
      try {
        // The version table comes from the dump too: every table, the version history included, is identical.
        expect(await tableChecksums(created)).toEqual(await tableChecksums(initSource.sql));
      } finally {
        await created.end();
        await admin.sql.unsafe(`drop database if exists "${name}" with (force)`);
      }
    });
  }

  test("tables in public (the old setup under a role not called netraven): --schema netraven imports them where netraven-db keeps them", async () => {
    const source = await createTestDatabase();
    psql(source.url, ["-c", 'create extension if not exists "uuid-ossp"; create extension if not exists pgcrypto', "-f", join(import.meta.dir, "..", "fixtures", "netraven-orm.sql")]);
    await fillRealisticData(source.sql, { devices: 40, schema: "public" });
    const file = join(work, "netraven_20250408_000000.sql.gz");
    oldBackupScript(source.url, file);
    const target = await liveTarget();
    const run = await runBinary(["restore", file, "--from-pg-dump", "--yes", "--schema", "netraven"], { env: target.env });
    expect(run.status).toBe(0);
    const { netraven_db_version: _version, ...rows } = await tableChecksums(target.sql, "netraven");
    expect(rows).toEqual(await tableChecksums(source.sql, "public"));
    // Without --schema it says how to get there (checked before connecting: no server here, so it ends with exit 4).
    const warned = await runBinary(["restore", file, "--from-pg-dump", "--yes", "--retry", "1"], { env: { DATABASE_URL: "postgresql://u:p@127.0.0.1:1/x" } });
    expect(warned.status).toBe(4);
    expect(warned.stderr).toContain('the dump\'s tables are in schema "public"');
    expect(warned.stderr).toContain("pass --schema netraven");
  });

  test("a file the old script made is checked completely before anything connects", async () => {
    // No server at all: a good dump gets as far as connecting (exit 4); a bad one is refused first (exit 1).
    const env = { DATABASE_URL: "postgresql://netraven:pw@127.0.0.1:1/netraven" };
    const good = await runBinary(["restore", ormDumps.none, "--from-pg-dump", "--yes", "--retry", "1"], { env });
    expect(good.status).toBe(4);
    const plain = readFileSync(ormDumps.none);
    const cut = join(work, "netraven_20250405_000000.sql");
    writeFileSync(cut, plain.subarray(0, Math.floor(plain.length * 0.6)));
    const run = await runBinary(["restore", cut, "--from-pg-dump", "--yes", "--retry", "1"], { env });
    expect(run.status).toBe(1);
    expect(errorLines(run)).toEqual([expect.stringMatching(/netraven_20250405_000000\.sql: the file ends inside the data of table \w+ \(truncated\); not imported$/)]);
  });

  test("a row the server rejects half-way through the load rolls everything back: the old data stays (exit 7)", async () => {
    // A real dump with one JSON value damaged by hand: every statement is still pg_dump's, so only the server can tell.
    const lines = readFileSync(ormDumps.none, "utf8").split("\n");
    const at = lines.findIndex((l) => l.startsWith("user-1\t"));
    expect(at).toBeGreaterThan(0);
    lines[at] = lines[at]!.replace(/\t[^\t]*$/, "\t{not json");
    const damaged = join(work, "netraven_20250406_000000.sql");
    writeFileSync(damaged, lines.join("\n"));
    const target = await liveTarget();
    const before = await snapshot(target);
    const run = await runBinary(["restore", damaged, "--from-pg-dump", "--yes"], { env: target.env });
    expect(run.status).toBe(7);
    expect(errorLines(run)).toEqual([expect.stringMatching(/restore: invalid input syntax for type json.*\[SQLSTATE 22P02\]; nothing was changed$/)]);
    expect(await snapshot(target)).toEqual(before);
    const leftovers = await target.sql`select nspname from pg_namespace where nspname like 'nrdb_%'`;
    expect([...leftovers]).toEqual([]);
  });

  test("a netraven-db backup is not a pg_dump file (exit 3)", async () => {
    const dir = mkdtempSync(join(work, "ours-"));
    const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: initSource.env });
    const run = await runBinary(["restore", JSON.parse(backup.stdout).path, "--from-pg-dump", "--yes"], { env: initSource.env });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("is a netraven-db backup, not a pg_dump file: restore it without --from-pg-dump");
  });
});

describe("restore --from-pg-dump refuses, with the reason, and changes nothing", () => {
  /** A real dump (the old script's gzip) of an ORM database changed by `sql` first. */
  async function dumpOfChanged(sql: string, stamp: string): Promise<string> {
    const source = await ormDatabase(20);
    psql(source.url, ["-c", sql]);
    const file = join(work, `netraven_${stamp}.sql.gz`);
    oldBackupScript(source.url, file);
    await source.sql.end();
    return file;
  }

  async function expectRefused(file: string, message: RegExp, status = 1): Promise<RunResult> {
    const target = await liveTarget();
    const before = await snapshot(target);
    const run = await runBinary(["restore", file, "--from-pg-dump", "--yes"], { env: target.env });
    expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status });
    expect(run.stderr).toMatch(message);
    expect(await snapshot(target)).toEqual(before);
    return run;
  }

  test("an extra table", async () => {
    const file = await dumpOfChanged("create table netraven.local_notes (id int primary key, note text); insert into netraven.local_notes values (1, 'x')", "20250410_000000");
    await expectRefused(file, /: not imported: line \d+: table netraven\.local_notes, which is not a NetRaven table\n/);
  });

  test("a function", async () => {
    const file = await dumpOfChanged("create function netraven.evil() returns int language sql as 'select 1'", "20250411_000000");
    await expectRefused(file, /: not imported: line \d+: a function, not part of the NetRaven schema: CREATE FUNCTION netraven\.evil\(\)/);
  });

  test("a trigger", async () => {
    // A built-in trigger function, so the dump holds the trigger alone.
    const file = await dumpOfChanged("create trigger keep before update on netraven.users for each row execute function suppress_redundant_updates_trigger()", "20250412_000000");
    await expectRefused(file, /: not imported: line \d+: a trigger, not part of the NetRaven schema: CREATE TRIGGER keep BEFORE UPDATE ON netraven\.users/);
  });

  test("a column of another type", async () => {
    const file = await dumpOfChanged("alter table netraven.devices alter column hostname type text", "20250413_000000");
    const run = await expectRefused(file, /COLUMN_TYPE_CHANGED: column devices\.hostname: type varchar\(255\) expected, found text/);
    expect(run.stderr).toContain("its tables differ from the NetRaven schema in 1 way; not imported, nothing was changed");
  });

  test("a column the definitions do not have (its data would be lost)", async () => {
    const file = await dumpOfChanged("alter table netraven.users add column nickname text", "20250414_000000");
    await expectRefused(file, /COLUMN_EXTRA: column users\.nickname: not in the definitions/);
  });

  test("a truncated dump, plain and gzip", async () => {
    const plain = readFileSync(ormDumps.none);
    const cutPlain = join(work, "netraven_20250415_000000.sql");
    writeFileSync(cutPlain, plain.subarray(0, plain.indexOf("CREATE INDEX")));
    await expectRefused(cutPlain, /the file ends without pg_dump's "-- PostgreSQL database dump complete" line \(truncated\); not imported/);
    const gz = readFileSync(ormDumps.gzip);
    const cutGzip = join(work, "netraven_20250416_000000.sql.gz");
    writeFileSync(cutGzip, gz.subarray(0, Math.floor(gz.length / 2)));
    await expectRefused(cutGzip, /netraven_20250416_000000\.sql\.gz: the compressed data is damaged or cut short/);
  });

  test("a dump of a database at a newer schema version (exit 9)", async () => {
    const source = await initDatabase(5);
    await source.sql`insert into netraven.netraven_db_version (version, description, kind, tool_version) values (99, 'from the future', 'migrate', '9.9.9')`;
    const file = join(work, "netraven_20250417_000000.sql.gz");
    oldBackupScript(source.url, file);
    await expectRefused(file, /holds schema version 99, newer than this netraven-db knows \(1\); refusing to import it/, 9);
  });
});
