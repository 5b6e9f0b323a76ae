// `backup --jobs N` and `restore --jobs N` through the compiled binary against a real PostgreSQL: the file is the
// serial backup's SQL byte for byte (apart from the times it records), restores with the tool and with psql, is one
// point in time while the app writes, and a parallel restore gives back every row.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { runBinary } from "../harness/binary.ts";
import { createTestDatabase, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";

const made: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "netraven-par-"));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const spoolsOf = (pid: number) => readdirSync(tmpdir()).filter((name) => name.startsWith(`netraven-db-spool-${pid}-`));

async function initialisedWithData(devices: number): Promise<TestDatabase> {
  const db = await createTestDatabase();
  expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
  await fillRealisticData(db.sql, { devices });
  await db.sql`analyze`;
  return db;
}

async function backupOnce(db: TestDatabase, dir: string, extra: string[]): Promise<{ file: string; manifest: any; pid: number }> {
  const run = await runBinary(["backup", "--dir", dir, "--json", ...extra], { env: db.env });
  expect(run.stderr).not.toContain("error");
  expect(run.status).toBe(0);
  const doc = JSON.parse(run.stdout);
  return { file: doc.path, manifest: JSON.parse(readFileSync(`${doc.path}.json`, "utf8")), pid: run.pid };
}

const inflate = (file: string, compression: string) => {
  const bytes = readFileSync(file);
  return (compression === "gzip" ? gunzipSync(bytes) : compression === "zstd" ? zstdDecompressSync(bytes) : bytes).toString("utf8");
};
/** The script without the two times it records (start in the header, end in the trailer). */
const timeless = (sql: string) => sql.replace(/^-- started_at: .*$/m, "").replace(/finished_at=\S+\n$/, "");

/** How many compression units (gzip members, zstd frames) the file holds, found by their magic bytes at unit starts. */
function unitCount(file: string, compression: string): number {
  const command = compression === "gzip" ? `gzip -dc "${file}" >/dev/null && gzip -lv "${file}" >/dev/null` : "true";
  expect(spawnSync("bash", ["-c", command]).status).toBe(0);
  const bytes = readFileSync(file);
  const magic = compression === "gzip" ? Buffer.from([0x1f, 0x8b, 0x08]) : Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
  let n = 0;
  for (let at = bytes.indexOf(magic); at !== -1; at = bytes.indexOf(magic, at + 1)) n++;
  return n;
}

describe("backup --jobs", () => {
  for (const compression of ["gzip", "zstd", "none"] as const) {
    test(`${compression}: --jobs 3 writes the serial script in independent units; verify, restore and psql accept it`, async () => {
      const source = await initialisedWithData(1500);
      const serial = await backupOnce(source, tempDir(), ["--compress", compression]);
      const parallel = await backupOnce(source, tempDir(), ["--compress", compression, "--jobs", "3"]);
      expect(spoolsOf(parallel.pid)).toEqual([]);
      expect(timeless(inflate(parallel.file, compression))).toBe(timeless(inflate(serial.file, compression)));
      expect(parallel.manifest.tables).toEqual(serial.manifest.tables);
      expect(parallel.manifest.data_bytes).toBe(serial.manifest.data_bytes);
      // header + prologue + one unit per table + epilogue: the sections really were compressed apart.
      if (compression !== "none") expect(unitCount(parallel.file, compression)).toBeGreaterThanOrEqual(parallel.manifest.tables.length + 3);

      expect((await runBinary(["verify", parallel.file], {})).status).toBe(0);
      const target = await createTestDatabase();
      const restore = await runBinary(["restore", parallel.file, "--yes", "--json"], { env: target.env });
      expect(restore.status).toBe(0);
      expect(JSON.parse(restore.stdout).ok).toBe(true);
      expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));

      const byHand = await createTestDatabase();
      const cat = { gzip: "gunzip -c", zstd: "zstd -dc", none: "cat" }[compression];
      const psql = spawnSync("bash", ["-c", `${cat} "${parallel.file}" | psql -X -q -v ON_ERROR_STOP=1 "${byHand.url}"`], { encoding: "utf8" });
      expect(psql.stderr).toBe("");
      expect(psql.status).toBe(0);
      expect(await tableChecksums(byHand.sql)).toEqual(await tableChecksums(source.sql));
    });
  }

  test("--jobs 4 while the app writes: every backup is one point in time across tables read by different connections", async () => {
    const source = await initialisedWithData(3000);
    const dir = tempDir();
    // Each transaction adds a device and its job log together and removes an older pair together: in any single
    // snapshot the writer's devices and job logs are equally many; tables read at different moments would differ.
    const writer = spawn("psql", ["-X", "-q", source.url], { stdio: ["pipe", "ignore", "pipe"] });
    let stop = false;
    let written = 0;
    const writing = (async () => {
      for (let i = 0; !stop; i++) {
        writer.stdin.write(`begin;
          insert into netraven.devices (id, hostname, ip_address, device_type, owner_id) values ('w-${i}', 'w${i}', '10.9.9.9', 'cisco_ios', 'user-1');
          insert into netraven.job_logs (id, session_id, job_type, status, start_time, device_id, created_by) values ('wj-${i}', 's', 'backup', 'running', now(), 'w-${i}', 'user-1');
          insert into netraven.job_log_entries (id, job_log_id, "timestamp", level, message) values ('we-${i}', 'wj-${i}', now(), 'INFO', 'x');
          ${i > 5 ? `delete from netraven.job_logs where id = 'wj-${i - 5}'; delete from netraven.devices where id = 'w-${i - 5}';` : ""}
          commit;\n`);
        written++;
        await Bun.sleep(1);
      }
      writer.stdin.end();
    })();
    const files: string[] = [];
    try {
      for (let i = 0; i < 3; i++) files.push((await backupOnce(source, dir, ["--jobs", "4"])).file);
    } finally {
      stop = true;
      await writing;
      await new Promise((resolve) => writer.on("close", resolve));
    }
    expect(written).toBeGreaterThan(20);
    for (const file of files) {
      const target = await createTestDatabase();
      const restore = await runBinary(["restore", file, "--yes"], { env: target.env });
      expect(restore.stderr).not.toContain("violates foreign key");
      expect(restore.status).toBe(0);
      const [pairs] = await target.sql`
        select (select count(*)::int from netraven.devices where id like 'w-%') as devices,
               (select count(*)::int from netraven.job_logs where id like 'wj-%') as logs,
               (select count(*)::int from netraven.job_log_entries where id like 'we-%') as entries`;
      expect(pairs!.devices).toBe(pairs!.logs);
      expect(pairs!.entries).toBeGreaterThanOrEqual(pairs!.logs);
    }
  });

  test("a signal during a parallel backup leaves no file, no spool and exits 143", async () => {
    const source = await initialisedWithData(6000);
    const dir = tempDir();
    const timing = await runBinary(["backup", "--dir", tempDir(), "--jobs", "2"], { env: source.env });
    expect(timing.status).toBe(0);
    const run = await runBinary(["backup", "--dir", dir, "--jobs", "2"], {
      env: source.env,
      onSpawn: (pid) => setTimeout(() => process.kill(pid, "SIGTERM"), Math.max(50, timing.durationMs / 2)),
    });
    expect(run.status).toBe(143);
    expect(readdirSync(dir)).toEqual([]);
    expect(spoolsOf(run.pid)).toEqual([]);
  });

  test("--jobs is validated: 0, 17 and words are refused before connecting", async () => {
    for (const value of ["0", "17", "many"]) {
      const run = await runBinary(["backup", "--dir", tempDir(), "--jobs", value], { env: { DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" } });
      expect({ value, status: run.status }).toEqual({ value, status: 3 });
      expect(run.stderr).toContain("jobs");
    }
  });
});

const stagingSchemas = async (db: TestDatabase) =>
  (await db.sql<{ name: string }[]>`select nspname as name from pg_namespace where nspname like 'nrdb_restore_%'`).map((r) => r.name);

describe("restore --jobs", () => {
  test("--jobs 3 into a never-initialised database and over existing data: every row identical, validate clean, no staging left", async () => {
    const source = await initialisedWithData(2000);
    const { file } = await backupOnce(source, tempDir(), ["--jobs", "2"]);
    const expected = await tableChecksums(source.sql);

    const empty = await createTestDatabase();
    const fresh = await runBinary(["restore", file, "--yes", "--json", "--jobs", "3"], { env: empty.env });
    expect(fresh.stderr).toContain("over 3 connections");
    expect(fresh.status).toBe(0);
    const report = JSON.parse(fresh.stdout);
    expect(report.ok).toBe(true);
    expect(report.validation.ok).toBe(true);
    for (const t of report.tables) expect(t.restored).toBe(t.expected);
    expect(await tableChecksums(empty.sql)).toEqual(expected);
    expect(await stagingSchemas(empty)).toEqual([]);
    expect((await runBinary(["init"], { env: empty.env })).stderr).toContain("up to date");

    const used = await initialisedWithData(300);
    const over = await runBinary(["restore", file, "--yes", "--jobs", "3"], { env: used.env });
    expect(over.status).toBe(0);
    expect(await tableChecksums(used.sql)).toEqual(expected);
    expect(await stagingSchemas(used)).toEqual([]);
  });

  test("a constraint violation after a parallel load leaves the old data intact and the staging schema removed", async () => {
    const source = await initialisedWithData(100);
    await source.sql.unsafe(`alter table netraven.devices drop constraint devices_owner_id_fkey;
      insert into netraven.devices (id, hostname, ip_address, device_type, owner_id) values ('orphan', 'o', '1.1.1.1', 'x', 'no-such-user')`);
    const { file } = await backupOnce(source, tempDir(), []);
    const target = await initialisedWithData(60);
    const before = await tableChecksums(target.sql);
    const run = await runBinary(["restore", file, "--yes", "--jobs", "2"], { env: target.env });
    expect(run.status).toBe(7);
    expect(run.stderr).toContain("violates foreign key");
    expect(run.stderr).toContain("nothing was changed");
    expect(await tableChecksums(target.sql)).toEqual(before);
    expect(await stagingSchemas(target)).toEqual([]);
  });

  test("a key that fails to build while later tables are still loading stops the load: old data intact, staging removed", async () => {
    // users comes first in the file: its primary key is built while the bigger tables after it still stream in.
    const source = await initialisedWithData(2000);
    await source.sql.unsafe(`alter table netraven.users drop constraint users_pkey cascade;
      drop index netraven.ix_users_username, netraven.ix_users_email;
      insert into netraven.users select * from netraven.users limit 1`);
    const { file } = await backupOnce(source, tempDir(), []);
    const target = await initialisedWithData(60);
    const before = await tableChecksums(target.sql);
    const run = await runBinary(["restore", file, "--yes", "--jobs", "2"], { env: target.env });
    expect(run.status).toBe(7);
    expect(run.stderr).toContain("could not create unique index");
    expect(run.stderr).toContain("nothing was changed");
    expect(await tableChecksums(target.sql)).toEqual(before);
    expect(await stagingSchemas(target)).toEqual([]);
  });

  test("a staging schema left by a killed parallel restore is removed by the next restore, serial or parallel; a live one is not", async () => {
    const source = await initialisedWithData(100);
    const { file } = await backupOnce(source, tempDir(), []);
    const target = await initialisedWithData(50);
    for (const jobs of ["1", "2"]) {
      await target.sql.unsafe(`create schema nrdb_restore_999999_stale${jobs}; create table nrdb_restore_999999_stale${jobs}.devices (id text)`);
      // One whose owner is still running: its claim is held by this session's open transaction.
      const owner = target.sql.reserve();
      const held = await owner;
      await held.unsafe(`create schema nrdb_restore_999998_live${jobs}`);
      await held.unsafe(`begin; select pg_advisory_xact_lock(hashtext('netraven-db-staging'), hashtext('nrdb_restore_999998_live${jobs}'))`);
      try {
        const run = await runBinary(["restore", file, "--yes", "--jobs", jobs], { env: target.env });
        expect(run.status).toBe(0);
        expect(run.stderr).toContain(`Removed the staging schema nrdb_restore_999999_stale${jobs}`);
        expect(await stagingSchemas(target)).toEqual([`nrdb_restore_999998_live${jobs}`]);
      } finally {
        await held.unsafe("rollback");
        await held.unsafe(`drop schema nrdb_restore_999998_live${jobs}`);
        held.release();
      }
    }
    expect(await stagingSchemas(target)).toEqual([]);
  });
});
