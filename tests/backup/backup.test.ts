// backup → verify → restore through the compiled binary against a real PostgreSQL, with realistic data.
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary } from "../harness/binary.ts";
import { createCluster } from "../harness/cluster.ts";
import { createTestDatabase, testServer, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { tempDir } from "../harness/cleanup.ts";

const backupsIn = (dir: string) => readdirSync(dir).filter((f) => /\.sql(\.gz|\.zst)?$/.test(f));

async function initialisedWithData(devices = 2000): Promise<TestDatabase> {
  const db = await createTestDatabase();
  const init = await runBinary(["init"], { env: db.env });
  expect(init.status).toBe(0);
  await fillRealisticData(db.sql, { devices });
  return db;
}

async function backupOnce(db: TestDatabase, dir: string, extra: string[] = []): Promise<{ file: string; manifest: any }> {
  const run = await runBinary(["backup", "--dir", dir, "--json", ...extra], { env: db.env });
  expect(run.stderr).not.toContain("error");
  expect(run.status).toBe(0);
  const doc = JSON.parse(run.stdout);
  return { file: doc.path, manifest: JSON.parse(readFileSync(`${doc.path}.json`, "utf8")) };
}

describe("round trip", () => {
  for (const compression of ["gzip", "zstd", "none"] as const) {
    test(`${compression}: backup, restore into a fresh database, every table identical row for row`, async () => {
      const source = await initialisedWithData();
      const dir = tempDir("bk");
      const { file, manifest } = await backupOnce(source, dir, ["--compress", compression]);
      expect(file.endsWith({ gzip: ".sql.gz", zstd: ".sql.zst", none: ".sql" }[compression])).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}.json`).mode & 0o777).toBe(0o600);
      expect(manifest.rows_total).toBeGreaterThan(10_000);
      const text = readFileSync(file).toString("latin1") + readFileSync(`${file}.json`, "utf8");
      expect(text).not.toContain(testServer().password);

      const verify = await runBinary(["verify", file], {});
      expect(verify.status).toBe(0);

      const target = await createTestDatabase();
      const restore = await runBinary(["restore", file, "--yes", "--json"], { env: target.env });
      expect(restore.status).toBe(0);
      const report = JSON.parse(restore.stdout);
      expect(report.ok).toBe(true);
      expect(report.validation.ok).toBe(true);
      for (const t of report.tables) expect(t.restored).toBe(t.expected);
      expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
    });
  }

  test("a large file (NETRAVEN_DB_BULK_BYTES=0): verify and restore restart once with MIMALLOC_PURGE_DELAY=-1, same result; a set value is left alone", async () => {
    const source = await initialisedWithData(300);
    const { file } = await backupOnce(source, tempDir("bk"), ["--compress", "zstd"]);
    const restarts = (stderr: string) => stderr.match(/restarting with MIMALLOC_PURGE_DELAY=-1/g)?.length ?? 0;
    const verify = await runBinary(["verify", file, "--verbose"], { env: { NETRAVEN_DB_BULK_BYTES: "0" } });
    expect({ status: verify.status, restarts: restarts(verify.stderr) }).toEqual({ status: 0, restarts: 1 });
    const target = await createTestDatabase();
    const restore = await runBinary(["restore", file, "--yes", "--json", "--verbose"], { env: { ...target.env, NETRAVEN_DB_BULK_BYTES: "0" } });
    expect({ status: restore.status, restarts: restarts(restore.stderr) }).toEqual({ status: 0, restarts: 1 });
    expect(JSON.parse(restore.stdout).validation.ok).toBe(true);
    expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
    const userSet = await runBinary(["verify", file, "--verbose"], { env: { NETRAVEN_DB_BULK_BYTES: "0", MIMALLOC_PURGE_DELAY: "10" } });
    expect({ status: userSet.status, restarts: restarts(userSet.stderr) }).toEqual({ status: 0, restarts: 0 });
    const small = await runBinary(["verify", file, "--verbose"], {});
    expect({ status: small.status, restarts: restarts(small.stderr) }).toEqual({ status: 0, restarts: 0 });
  });

  test("the same file restores with plain psql into a fresh database, with the same result", async () => {
    const source = await initialisedWithData(500);
    const dir = tempDir("bk");
    const { file } = await backupOnce(source, dir);
    const target = await createTestDatabase();
    const result = spawnSync("bash", ["-c", `gunzip -c "${file}" | psql -X -q -v ON_ERROR_STOP=1 "${target.url}"`], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
    // ...and it is a NetRaven database netraven-db recognises as up to date.
    const validate = await runBinary(["validate"], { env: target.env });
    expect(validate.stdout).toContain("Schema matches definitions");
    expect(validate.status).toBe(0);
  });

  test("restoring into an empty, never-initialised database bootstraps it first", async () => {
    const source = await initialisedWithData(200);
    const { file } = await backupOnce(source, tempDir("bk"));
    const target = await createTestDatabase();
    const restore = await runBinary(["restore", file], { env: target.env }); // nothing to replace: no --yes needed
    expect(restore.status).toBe(0);
    const init = await runBinary(["init"], { env: target.env });
    expect(init.stderr).toContain("up to date");
    const [ext] = await target.sql`select count(*)::int as n from pg_extension where extname in ('pgcrypto', 'uuid-ossp')`;
    expect(ext!.n).toBe(2);
  });

  test("--target-db creates the database and restores there; list shows the backup", async () => {
    const source = await initialisedWithData(100);
    const dir = tempDir("bk");
    const { file } = await backupOnce(source, dir);
    const name = `${source.name}_copy`;
    const restore = await runBinary(["restore", file, "--target-db", name], { env: source.env });
    expect(restore.stderr).toContain(`Created database "${name}"`);
    expect(restore.status).toBe(0);
    const list = async () => JSON.parse((await runBinary(["list", "--dir", dir, "--json"], {})).stdout);
    const doc = await list();
    expect(doc.backups.map((b: any) => b.file)).toEqual([file.split("/").pop()]);
    expect(doc.backups[0].status).toBe("checksummed"); // restore checks the checksum but records nothing
    expect((await runBinary(["verify", file], {})).status).toBe(0);
    expect((await list()).backups[0].status).toBe("verified");
  });
});

describe("consistency", () => {
  test("a backup taken while the app writes restores without foreign-key violations", async () => {
    const source = await initialisedWithData(3000);
    const dir = tempDir("bk");
    // A writer that keeps inserting parents and children and deleting old ones, across FK-linked tables.
    const writer = spawn("psql", ["-X", "-q", source.url], { stdio: ["pipe", "ignore", "pipe"] });
    let stop = false;
    let written = 0;
    const writing = (async () => {
      for (let i = 0; !stop; i++) {
        writer.stdin.write(`begin;
          insert into netraven.devices (id, hostname, ip_address, device_type, owner_id) values ('w-${i}', 'w${i}', '10.9.9.9', 'cisco_ios', 'user-1');
          insert into netraven.job_logs (id, session_id, job_type, status, start_time, device_id, created_by) values ('wj-${i}', 's', 'backup', 'running', now(), 'w-${i}', 'user-1');
          insert into netraven.job_log_entries (id, job_log_id, "timestamp", level, message) values ('we-${i}', 'wj-${i}', now(), 'INFO', 'x');
          insert into netraven.device_tags (device_id, tag_id) values ('w-${i}', 'tag-1');
          ${i > 5 ? `delete from netraven.job_logs where id = 'wj-${i - 5}'; delete from netraven.devices where id = 'w-${i - 5}';` : ""}
          commit;\n`);
        written++;
        await Bun.sleep(2);
      }
      writer.stdin.end();
    })();
    const files: string[] = [];
    for (let i = 0; i < 3; i++) files.push((await backupOnce(source, dir)).file);
    stop = true;
    await writing;
    await new Promise((resolve) => writer.on("close", resolve));
    expect(written).toBeGreaterThan(20);
    for (const file of files) {
      const target = await createTestDatabase();
      const restore = await runBinary(["restore", file, "--yes"], { env: target.env });
      expect(restore.stderr).not.toContain("violates foreign key");
      expect(restore.status).toBe(0);
    }
  });
});

describe("bad files are refused before anything changes", () => {
  async function damagedCopies() {
    const source = await initialisedWithData(300);
    const dir = tempDir("bk");
    const { file } = await backupOnce(source, dir);
    const other = await backupOnce(source, tempDir("bk"));
    const bad = tempDir("bk");
    const bytes = readFileSync(file);
    const cases: Record<string, string> = {};
    const put = (name: string, data: Buffer, manifest?: string) => {
      const path = join(bad, `${name}_20250101_000000.sql.gz`);
      writeFileSync(path, data);
      if (manifest) writeFileSync(`${path}.json`, manifest.replace(/"file": "[^"]+"/, `"file": "${name}_20250101_000000.sql.gz"`));
      cases[name] = path;
    };
    const manifest = readFileSync(`${file}.json`, "utf8");
    put("truncated", bytes.subarray(0, Math.floor(bytes.length * 0.6)), manifest);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    put("flipped", flipped, manifest);
    put("flippednomanifest", flipped);
    put("truncatednomanifest", bytes.subarray(0, bytes.length - 100));
    put("wrongmanifest", bytes, readFileSync(`${other.file}.json`, "utf8"));
    const pgDump = spawnSync("bash", ["-c", `pg_dump -n netraven "${source.url}" | gzip`], { encoding: "buffer" });
    put("foreign", pgDump.stdout);
    put("nobackup", Buffer.from("hello, this is not a backup\n"));
    return { source, cases };
  }

  test("verify exits 1 with a one-line reason; restore refuses and the target is unchanged", async () => {
    const { cases } = await damagedCopies();
    const target = await initialisedWithData(50);
    const before = await tableChecksums(target.sql);
    for (const [name, path] of Object.entries(cases)) {
      const verify = await runBinary(["verify", path], {});
      expect({ name, status: verify.status }).toEqual({ name, status: 1 });
      const errors = verify.stderr.split("\n").filter((l) => l.includes("error:"));
      expect(errors).toHaveLength(1);
      const restore = await runBinary(["restore", path, "--yes"], { env: target.env });
      expect({ name, status: restore.status }).toEqual({ name, status: 1 });
      // The same after the restart a large file gets (allocator.ts): it comes before the check.
      const restarted = await runBinary(["restore", path, "--yes"], { env: { ...target.env, NETRAVEN_DB_BULK_BYTES: "0" } });
      expect({ name, status: restarted.status }).toEqual({ name, status: 1 });
    }
    expect(await tableChecksums(target.sql)).toEqual(before);
  });

  test("a missing file: verify cannot read it (exit 2); for restore it is bad input (exit 3)", async () => {
    expect((await runBinary(["verify", "/nonexistent/x.sql.gz"], {})).status).toBe(2);
    const db = await createTestDatabase();
    const restore = await runBinary(["restore", "/nonexistent/x.sql.gz", "--yes"], { env: db.env });
    expect(restore.status).toBe(3);
    expect(restore.stderr).toContain("FILE /nonexistent/x.sql.gz: does not exist");
  });
});

describe("restore safety", () => {
  test("no terminal and no --yes: refused with exit 9, nothing changed", async () => {
    const source = await initialisedWithData(100);
    const { file } = await backupOnce(source, tempDir("bk"));
    const target = await initialisedWithData(60);
    const before = await tableChecksums(target.sql);
    const run = await runBinary(["restore", file], { env: target.env });
    expect(run.status).toBe(9);
    expect(run.stderr).toContain("--yes");
    expect(await tableChecksums(target.sql)).toEqual(before);
  });

  test("a constraint violation during the load leaves the old data intact", async () => {
    const source = await initialisedWithData(100);
    // An orphan row: the restore's foreign key on devices.owner_id will fail after all data is loaded.
    await source.sql.unsafe(`alter table netraven.devices drop constraint devices_owner_id_fkey;
      insert into netraven.devices (id, hostname, ip_address, device_type, owner_id) values ('orphan', 'o', '1.1.1.1', 'x', 'no-such-user')`);
    const { file } = await backupOnce(source, tempDir("bk"));
    const target = await initialisedWithData(60);
    const before = await tableChecksums(target.sql);
    const run = await runBinary(["restore", file, "--yes"], { env: target.env });
    expect(run.status).toBe(7);
    expect(run.stderr).toContain("nothing was changed");
    expect(await tableChecksums(target.sql)).toEqual(before);
    const [staging] = await target.sql`select count(*)::int as n from pg_namespace where nspname like 'nrdb_restore_%'`;
    expect(staging!.n).toBe(0);
  });
});

describe("retention and failures", () => {
  test("retention deletes exactly this tool's expired backups, never foreign files or the newest", async () => {
    const db = await initialisedWithData(20);
    const dir = tempDir("bk");
    const { file } = await backupOnce(db, dir, ["--keep-days", "0"]);
    const manifest = JSON.parse(readFileSync(`${file}.json`, "utf8"));
    const fake = (daysAgo: number, prefix = "netraven") => {
      const at = new Date(Date.now() - daysAgo * 86_400_000);
      const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
      const fileName = `${prefix}_${stamp}.sql.gz`;
      copyFileSync(file, join(dir, fileName));
      writeFileSync(join(dir, `${fileName}.json`), JSON.stringify({ ...manifest, file: fileName, started_at: at.toISOString(), finished_at: at.toISOString() }));
      return fileName;
    };
    const old10 = fake(10);
    const old8 = fake(8);
    const recent3 = fake(3);
    const otherPrefix = fake(30, "other");
    writeFileSync(join(dir, "netraven_20200101_000000.sql.gz"), "old backup script output, no manifest");
    writeFileSync(join(dir, "notes.txt"), "keep me");
    const run = await backupOnce(db, dir, ["--keep-days", "7"]);
    const left = readdirSync(dir).sort();
    expect(left).not.toContain(old10);
    expect(left).not.toContain(old8);
    expect(left).toContain(recent3);
    expect(left).toContain(otherPrefix);
    expect(left).toContain("netraven_20200101_000000.sql.gz");
    expect(left).toContain("notes.txt");
    expect(left).toContain(run.file.split("/").pop()!);
    expect(run.manifest).toBeTruthy();
    // --keep 1 keeps only the newest of ours.
    const last = await backupOnce(db, dir, ["--keep", "1", "--keep-days", "0"]);
    const ours = backupsIn(dir).filter((f) => f.startsWith("netraven_") && existsSync(join(dir, `${f}.json`)));
    expect(ours).toEqual([last.file.split("/").pop()!]);
  });

  test("what the definitions do not know is left out and named; a defined column that is missing refuses the backup", async () => {
    const db = await initialisedWithData(50);
    const dir = tempDir("bk");
    await db.sql.unsafe(`create table netraven.notes (id int primary key, body text); insert into netraven.notes values (1, 'x');
      alter table netraven.devices add column nickname text default 'nick-secret'`);
    const run = await runBinary(["backup", "--dir", dir, "--json"], { env: db.env });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`table netraven.notes is not in the definitions and is NOT in this backup`);
    expect(run.stderr).toContain("column devices.nickname is not in the definitions and is NOT in this backup");
    const file = JSON.parse(run.stdout).path as string;
    const manifest = JSON.parse(readFileSync(`${file}.json`, "utf8"));
    expect(manifest.skipped_tables).toEqual(["notes"]);
    expect(manifest.tables.find((t: { name: string }) => t.name === "devices").columns).not.toContain("nickname");
    const script = spawnSync("bash", ["-c", `gunzip -c "${file}"`], { encoding: "utf8", maxBuffer: 64 << 20 }).stdout;
    expect(script).not.toContain("nick-secret");
    expect(script).not.toMatch(/notes/);

    await db.sql.unsafe(`alter table netraven.devices drop column hostname`);
    const refused = await runBinary(["backup", "--dir", dir], { env: db.env });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`cannot back up schema "netraven": column devices.hostname is missing`);
    expect(backupsIn(dir)).toEqual([file.split("/").pop()!]);
  });

  test("a failed backup exits non-zero and leaves no partial file", async () => {
    const db = await initialisedWithData(400);
    const dir = tempDir("bk");
    // Unreachable server.
    const unreachable = await runBinary(["backup", "--dir", dir, "--retry", "1"], { env: { DATABASE_URL: "postgresql://u:p@127.0.0.1:1/db" } });
    expect(unreachable.status).toBe(4);
    // Not a directory.
    writeFileSync(join(dir, "file"), "x");
    const notDir = await runBinary(["backup", "--dir", join(dir, "file", "sub")], { env: db.env });
    expect(notDir.status).toBe(3); // a wrong path on the command line is bad input, found before any work
    expect(notDir.stderr).toContain("--dir");
    // Disk full: a 64 KiB tmpfs cannot hold the backup.
    const small = join(dir, "small");
    mkdirSync(small);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]).status === 0;
    expect(mounted).toBe(true); // tests run as root (the throwaway cluster needs it too)
    try {
      const full = await runBinary(["backup", "--dir", small, "--compress", "none"], { env: db.env });
      expect(full.status).toBe(8);
      expect(full.stderr).toContain("the disk is full");
      expect(readdirSync(small)).toEqual([]);
    } finally {
      spawnSync("umount", [small]);
    }
    expect(backupsIn(dir)).toEqual([]);
  });
});

describe("verify --db and the unix socket", () => {
  test("verify --db trial-restores a good file and rolls back; a file whose data breaks a key fails it", async () => {
    const source = await initialisedWithData(100);
    const { file } = await backupOnce(source, tempDir("bk"));
    const scratch = await createTestDatabase();
    const good = await runBinary(["verify", file, "--db", "--json"], { env: scratch.env });
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout).trial_restore.loaded).toBeGreaterThan(1000);
    const [{ n }] = (await scratch.sql`select count(*)::int as n from pg_namespace where nspname like 'nrdb_restore_%' or nspname = 'netraven'`) as any;
    expect(n).toBe(0); // nothing left behind, not even the bootstrap

    await source.sql.unsafe(`alter table netraven.devices drop constraint devices_owner_id_fkey;
      insert into netraven.devices (id, hostname, ip_address, device_type, owner_id) values ('orphan', 'o', '1.1.1.1', 'x', 'no-such-user')`);
    const { file: orphaned } = await backupOnce(source, tempDir("bk"));
    expect((await runBinary(["verify", orphaned], {})).status).toBe(0); // the file itself is intact
    const trial = await runBinary(["verify", orphaned, "--db"], { env: scratch.env });
    expect(trial.status).toBe(1);
    expect(trial.stderr).toContain("devices_owner_id_fkey");
  });

  test("backup and restore work over the unix socket only, as inside the postgres container", async () => {
    const cluster = await createCluster({ socketOnly: true });
    try {
      spawnSync("psql", ["-X", "-q", "-h", cluster.socketDir, "-p", String(cluster.port), "-U", "postgres", "-d", "postgres", "-c", "create database app"]);
      const env = { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: "postgres", PGDATABASE: "app" };
      expect((await runBinary(["init"], { env })).status).toBe(0);
      const dir = tempDir("bk");
      const backup = await runBinary(["backup", "--dir", dir, "--json"], { env });
      expect(backup.status).toBe(0);
      const restore = await runBinary(["restore", JSON.parse(backup.stdout).path, "--yes", "--target-db", "copy"], {
        env: { ...env, DATABASE_URL: `postgresql://postgres@/app?host=${cluster.socketDir}&port=${cluster.port}` },
      });
      expect(restore.stderr).toContain('Restored');
      expect(restore.status).toBe(0);
    } finally {
      cluster.destroy();
    }
  });
});
