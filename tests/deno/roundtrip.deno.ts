// The sources under Deno: `deno run -A src/main.ts` runs init, validate, backup, verify, restore into a new
// database and validate there, each as a real subprocess against a real PostgreSQL (a throwaway cluster from
// tests/harness/cluster.ts, which uses only node: APIs). deno.json (nodeModulesDir: manual) makes Deno use
// node_modules, including the patched postgres.js. Run by scripts/test.sh: deno test -A --no-check tests/deno/*.deno.ts
// (named *.deno.ts so that `bun test` does not pick it up).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { createCluster, type Cluster } from "../harness/cluster.ts";

declare const Deno: { execPath(): string; test: (name: string, fn: () => void | Promise<void>) => void };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SOURCE_DB = "nr_deno";
const RESTORED_DB = "nr_deno_restored";

let cluster: Cluster | undefined;
let backups: string | undefined;
// Cleaned up when the test process ends, whatever failed.
(globalThis as unknown as { addEventListener(type: string, listener: () => void): void }).addEventListener("unload", () => {
  cluster?.destroy();
  if (backups) rmSync(backups, { recursive: true, force: true });
});

async function server(): Promise<Cluster> {
  if (!cluster) {
    cluster = await createCluster();
    psql("postgres", `create database ${SOURCE_DB}`);
    backups = mkdtempSync(join(tmpdir(), "netraven-deno-backups-"));
  }
  return cluster;
}

function psql(database: string, sqlText: string): string {
  const result = spawnSync("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", cluster!.url(database), "-c", sqlText], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `deno run -A src/main.ts ARGS` from the repository root, with only PATH, HOME, TMPDIR and DATABASE_URL set. */
function netravenDb(args: string[], database = SOURCE_DB): Run {
  const result = spawnSync(Deno.execPath(), ["run", "-A", "src/main.ts", ...args], {
    cwd: ROOT,
    // TMPDIR as in tests/harness/binary.ts: what the tool leaves in the temp dir counts against the run.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: backups ?? tmpdir(), TMPDIR: tmpdir(), DATABASE_URL: cluster!.url(database), NO_COLOR: "1" },
    encoding: "utf8",
    timeout: 120_000,
  });
  const run = { status: result.status, stdout: result.stdout, stderr: result.stderr };
  assert.ok(!`${run.stdout}${run.stderr}`.includes(cluster!.password), "the password must never be printed");
  return run;
}

function expectStatus(run: Run, status: number, what: string): void {
  assert.equal(run.status, status, `${what}: exit ${run.status}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
}

function backupFile(): string {
  const files = readdirSync(backups!).filter((f) => /^netraven_\d{8}_\d{6}\.sql\.gz$/.test(f));
  assert.equal(files.length, 1, `expected one backup in ${backups}, found ${files.join(", ")}`);
  return join(backups!, files[0]!);
}

Deno.test("deno: --version reports the sources (no build stamp)", () => {
  const result = spawnSync(Deno.execPath(), ["run", "-A", "src/main.ts", "--version"], { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^netraven-db \d+\.\d+\.\d+ \(revision source, source\) schema version \d+\n$/);
});

Deno.test("deno: init creates the schema, a second init is a no-op", async () => {
  await server();
  const first = netravenDb(["init"]);
  expectStatus(first, 0, "init");
  assert.match(first.stderr, new RegExp(`Created schema "netraven" in database "${SOURCE_DB}": 13 tables`));
  assert.equal(psql(SOURCE_DB, "select count(*) from information_schema.tables where table_schema = 'netraven'"), "14");
  const second = netravenDb(["init"]);
  expectStatus(second, 0, "second init");
  assert.match(second.stderr, /is up to date/);
});

Deno.test("deno: validate finds no drift, then finds a dropped index (exit 1)", async () => {
  await server();
  const clean = netravenDb(["validate"]);
  expectStatus(clean, 0, "validate");
  assert.match(clean.stdout, /Schema matches definitions/);
  const index = psql(SOURCE_DB, "select indexname from pg_indexes where schemaname = 'netraven' and indexname like 'ix_%' order by 1 limit 1");
  assert.ok(index, "an ix_ index to drop");
  psql(SOURCE_DB, `drop index netraven.${index}`);
  const drift = netravenDb(["validate"]);
  expectStatus(drift, 1, "validate with drift");
  assert.ok(`${drift.stdout}${drift.stderr}`.includes(index), `the report names ${index}`);
  expectStatus(netravenDb(["init"]), 0, "init repairs the index");
  expectStatus(netravenDb(["validate"]), 0, "validate after repair");
});

Deno.test("deno: backup writes a checksummed file and verify accepts it", async () => {
  await server();
  psql(SOURCE_DB, "insert into netraven.tags (id, name, description, color) values ('tag-deno', 'Deno', E'line one\\nline two\\ttab', '#123456')");
  const backup = netravenDb(["backup", "--dir", backups!, "--keep-days", "0"]);
  expectStatus(backup, 0, "backup");
  assert.match(backup.stderr, /Backup written: .*netraven_\d{8}_\d{6}\.sql\.gz/);
  const file = backupFile();
  assert.ok(existsSync(`${file}.json`), "manifest beside the backup");
  const verify = netravenDb(["verify", file]);
  expectStatus(verify, 0, "verify");
  const list = netravenDb(["list", "--dir", backups!]);
  expectStatus(list, 0, "list");
  assert.match(list.stdout, /netraven_\d{8}_\d{6}\.sql\.gz/);
});

Deno.test("deno: restore --yes --target-db into a new database, which then validates and holds the rows", async () => {
  await server();
  const file = backupFile();
  const restore = netravenDb(["restore", "--yes", "--target-db", RESTORED_DB, file]);
  expectStatus(restore, 0, "restore");
  assert.match(restore.stderr, new RegExp(`Restored netraven_\\d{8}_\\d{6}\\.sql\\.gz into database "${RESTORED_DB}"`));
  // Now the target holds data: without --yes (and no terminal to ask on) a second restore refuses with exit 9.
  const refused = netravenDb(["restore", "--target-db", RESTORED_DB, file]);
  expectStatus(refused, 9, "restore over existing data without --yes");
  const validate = netravenDb(["validate"], RESTORED_DB);
  expectStatus(validate, 0, "validate the restored database");
  assert.match(validate.stdout, /Schema matches definitions/);
  assert.equal(psql(RESTORED_DB, "select name || '|' || description || '|' || color from netraven.tags where id = 'tag-deno'"), "Deno|line one\nline two\ttab|#123456");
  assert.equal(
    psql(RESTORED_DB, "select count(*) from netraven.admin_settings"),
    psql(SOURCE_DB, "select count(*) from netraven.admin_settings"),
  );
});

Deno.test("deno: an old `pg_dump | gzip` file: list names it, verify refuses it, restore --from-pg-dump imports it", async () => {
  await server();
  const old = join(backups!, "netraven_20250403_200520.sql.gz");
  const dump = spawnSync("bash", ["-c", `pg_dump "$URL" | gzip > "$F"`], { env: { PATH: process.env.PATH ?? "", URL: cluster!.url(SOURCE_DB), F: old }, encoding: "utf8" });
  assert.equal(dump.status, 0, dump.stderr);
  const list = netravenDb(["list", "--dir", backups!]);
  expectStatus(list, 0, "list");
  assert.match(list.stdout, /netraven_20250403_200520\.sql\.gz .* pg_dump file \(not made by netraven-db; not verifiable\)\n/);
  const verify = netravenDb(["verify", old]);
  expectStatus(verify, 1, "verify of a pg_dump file");
  assert.match(verify.stderr, /netraven_20250403_200520\.sql\.gz: pg_dump file \(not made by netraven-db; not verifiable\)/);
  const imported = netravenDb(["restore", "--from-pg-dump", "--target-db", "nr_deno_pgdump", old]);
  expectStatus(imported, 0, "restore --from-pg-dump");
  assert.equal(psql("nr_deno_pgdump", "select name || '|' || description from netraven.tags where id = 'tag-deno'"), "Deno|line one\nline two\ttab");
  expectStatus(netravenDb(["validate"], "nr_deno_pgdump"), 0, "validate the imported database");
});

Deno.test("deno: a zstd backup made with --jobs 2 (one frame per table section) verifies and restores in full", async () => {
  await server();
  const dir = mkdtempSync(join(backups!, "jobs-"));
  const backup = netravenDb(["backup", "--dir", dir, "--compress", "zstd", "--jobs", "2", "--keep-days", "0", "--json"]);
  expectStatus(backup, 0, "backup --jobs 2 --compress zstd");
  const file = JSON.parse(backup.stdout).path as string;
  // More than the header frame and one body frame: what Deno's own zstd reads only the first of.
  const frames = spawnSync("bash", ["-c", `grep -a -o $'\\x28\\xb5\\x2f\\xfd' "$F" | wc -l`], { env: { PATH: process.env.PATH ?? "", F: file }, encoding: "utf8" });
  assert.ok(Number(frames.stdout.trim()) > 3, `expected several zstd frames, found ${frames.stdout}`);
  expectStatus(netravenDb(["verify", file]), 0, "verify of the parallel zstd backup");
  const restore = netravenDb(["restore", "--yes", "--target-db", "nr_deno_jobs", file]);
  expectStatus(restore, 0, "restore of the parallel zstd backup");
  for (const table of ["tags", "admin_settings", "netraven_db_version"]) {
    assert.equal(psql("nr_deno_jobs", `select count(*) from netraven.${table}`), psql(SOURCE_DB, `select count(*) from netraven.${table}`), table);
  }
  assert.equal(psql("nr_deno_jobs", "select description from netraven.tags where id = 'tag-deno'"), "line one\nline two\ttab");
});
