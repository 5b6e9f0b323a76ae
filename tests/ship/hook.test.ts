// docker/initdb-netraven.sh, run the way the postgres image's entrypoint runs it: against a server that listens on
// the unix socket only, with POSTGRES_USER/POSTGRES_DB/POSTGRES_PASSWORD (or their *_FILE variants) set, the
// PGPASSWORD the entrypoint exports, and netraven-db on PATH. The image executes executable hooks and sources the
// others into its `set -Eeo pipefail` bash; both ways are run here. /var/run/postgresql is not ours on this
// machine, so PGHOST points at the throwaway cluster's socket directory (the hook honours a PGHOST that names a
// socket directory).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { requireBinary } from "../harness/binary.ts";
import { createCluster, type Cluster } from "../harness/cluster.ts";
import { commandWorks, optionalTool, useTool } from "../harness/tools.ts";

const HOOK = resolve(import.meta.dir, "..", "..", "docker", "initdb-netraven.sh");
const SECRET = "hook-Secret-pw-7f3a";
const TIMEOUT = 120_000; // per test: bunfig may not set one, and bun's default is 5 s

let trustCluster: Cluster; // the image's init phase: socket only, trust auth
let scramCluster: Cluster; // POSTGRES_INITDB_ARGS=--auth-local=scram-sha-256: the socket asks for a password
let work: string;
let binDir: string;

function psqlSocket(cluster: Cluster, database: string, sqlText: string): string {
  const env = { ...process.env, PGPASSWORD: cluster.password };
  const result = spawnSync("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", cluster.socketDir, "-p", String(cluster.port), "-U", "postgres", "-d", database, "-c", sqlText], { encoding: "utf8", env });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

interface HookRun {
  status: number | null;
  output: string;
}

/** Runs the hook with exactly `env` (plus PATH with netraven-db first), executed or sourced like the entrypoint does. */
function runHook(env: Record<string, string>, mode: "execute" | "source" = "execute"): Promise<HookRun> {
  const fullEnv = { PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`, HOME: work, ...env };
  const [file, args] =
    mode === "execute"
      ? [HOOK, []]
      : ["bash", ["-Eeo", "pipefail", "-c", '. "$1"; echo "entrypoint continued after the hook"', "entrypoint", HOOK]];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env: fullEnv, cwd: work, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (output += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ status, output });
    });
  });
}

/** The environment the entrypoint gives a hook: POSTGRES_* exported, PGPASSWORD=$POSTGRES_PASSWORD. */
function entrypointEnv(cluster: Cluster, database: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    POSTGRES_USER: "postgres",
    POSTGRES_DB: database,
    POSTGRES_PASSWORD: SECRET,
    PGPASSWORD: SECRET,
    PGHOST: cluster.socketDir,
    PGPORT: String(cluster.port),
    ...extra,
  };
}

function tableCount(cluster: Cluster, database: string): number {
  return Number(psqlSocket(cluster, database, "select count(*) from information_schema.tables where table_schema = 'netraven'"));
}

let dbCounter = 0;
function newDatabase(cluster: Cluster): string {
  const name = `hook_${++dbCounter}`;
  psqlSocket(cluster, "postgres", `create database ${name}`); // the entrypoint creates POSTGRES_DB before running hooks
  return name;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "netraven-hook-"));
  binDir = join(work, "bin");
  spawnSync("mkdir", ["-p", binDir]);
  symlinkSync(requireBinary(), join(binDir, "netraven-db"));
  trustCluster = await createCluster({ socketOnly: true });
  scramCluster = await createCluster({ socketOnly: true });
  // Make the second cluster's socket ask for a password (initdb set it from the cluster's pwfile), as
  // POSTGRES_INITDB_ARGS=--auth-local=scram-sha-256 does in the image.
  writeFileSync(join(scramCluster.dataDir, "pg_hba.conf"), "local all all scram-sha-256\n");
  psqlSocket(scramCluster, "postgres", "select pg_reload_conf()");
}, TIMEOUT);

afterAll(() => {
  trustCluster?.destroy();
  scramCluster?.destroy();
  rmSync(work, { recursive: true, force: true });
});

describe("the hook file", () => {
  test("is executable, so the image executes it instead of sourcing it", () => {
    expect(statSync(HOOK).mode & 0o111).toBe(0o111);
    const tracked = spawnSync("git", ["ls-files", "-s", "docker/initdb-netraven.sh"], { cwd: resolve(HOOK, "..", ".."), encoding: "utf8" }).stdout;
    expect(tracked.startsWith("100755")).toBe(true);
  }, TIMEOUT);

  const shellcheck = optionalTool("shellcheck", commandWorks(["shellcheck", "--version"]), "apt-get install -y shellcheck");
  test(`passes shellcheck as POSIX sh and as bash (the entrypoint sources non-executable hooks into bash)${shellcheck.note}`, () => {
    // Without shellcheck (outside CI), only the syntax check below runs.
    if (useTool(shellcheck)) {
      for (const shell of ["sh", "bash"]) {
        const result = spawnSync("shellcheck", ["-s", shell, HOOK], { encoding: "utf8" });
        expect(`${shell}: ${result.stdout}`).toBe(`${shell}: `);
        expect(result.status).toBe(0);
      }
    }
    for (const shell of ["sh", "bash"]) expect(spawnSync(shell, ["-n", HOOK]).status).toBe(0);
  }, TIMEOUT);
});

describe("on the image's init-phase server (socket only, trust)", () => {
  test("executed: creates the schema, names the socket, prints no password; a second run is a no-op", async () => {
    const database = newDatabase(trustCluster);
    const run = await runHook(entrypointEnv(trustCluster, database));
    expect(run.output).toContain(`initialising database "${database}" as "postgres" through ${trustCluster.socketDir}/.s.PGSQL.${trustCluster.port}`);
    expect(run.output).toContain(`Created schema "netraven" in database "${database}"`);
    expect(run.status).toBe(0);
    expect(run.output).not.toContain(SECRET);
    expect(tableCount(trustCluster, database)).toBe(14);

    const again = await runHook(entrypointEnv(trustCluster, database));
    expect(again.output).toContain("is up to date");
    expect(again.status).toBe(0);
  }, TIMEOUT);

  test("sourced into `bash -Eeo pipefail` (a copy without the x bit): works and leaves the entrypoint running", async () => {
    const database = newDatabase(trustCluster);
    const run = await runHook(entrypointEnv(trustCluster, database), "source");
    expect(run.output).toContain("Created schema");
    expect(run.output).toContain("entrypoint continued after the hook");
    expect(run.status).toBe(0);
    expect(tableCount(trustCluster, database)).toBe(14);
  }, TIMEOUT);

  test("a database that does not exist: the hook exits non-zero, executed or sourced, and prints no password", async () => {
    const env = entrypointEnv(trustCluster, "no_such_database");
    const executed = await runHook(env);
    expect(executed.output).toContain('database "no_such_database" does not exist');
    expect(executed.output).toContain("netraven-db init failed with exit status 5");
    expect(executed.status).not.toBe(0);
    expect(executed.output).not.toContain(SECRET);

    const sourced = await runHook(env, "source");
    expect(sourced.status).not.toBe(0);
    expect(sourced.output).not.toContain("entrypoint continued");
  }, TIMEOUT);

  test("a DATABASE_URL meant for the app does not redirect the hook away from the socket", async () => {
    const database = newDatabase(trustCluster);
    const run = await runHook(entrypointEnv(trustCluster, database, { DATABASE_URL: `postgresql://app:${SECRET}@127.0.0.1:1/elsewhere` }));
    expect(run.status).toBe(0);
    expect(run.output).not.toContain(SECRET);
    expect(tableCount(trustCluster, database)).toBe(14);
  }, TIMEOUT);

  test("without netraven-db on PATH it fails instead of skipping the schema", async () => {
    const run = await runHook({ ...entrypointEnv(trustCluster, "postgres"), NETRAVEN_DB_BIN: "netraven-db-missing" });
    expect(run.output).toContain("netraven-db-missing not found on PATH");
    expect(run.status).toBe(1);
  }, TIMEOUT);
});

describe("secrets and *_FILE variants (socket with scram-sha-256, as with --auth-local=scram-sha-256)", () => {
  test("POSTGRES_PASSWORD: the right password initialises, the wrong one fails with exit != 0 and is never printed", async () => {
    const database = newDatabase(scramCluster);
    const good = await runHook({ ...entrypointEnv(scramCluster, database), POSTGRES_PASSWORD: scramCluster.password, PGPASSWORD: scramCluster.password });
    expect(good.output).toContain("Created schema");
    expect(good.status).toBe(0);
    expect(good.output).not.toContain(scramCluster.password);

    const other = newDatabase(scramCluster);
    const bad = await runHook(entrypointEnv(scramCluster, other));
    expect(bad.output).toMatch(/password authentication failed|authentication .*failed/);
    expect(bad.output).toContain("netraven-db init failed with exit status 5");
    expect(bad.status).not.toBe(0);
    expect(bad.output).not.toContain(SECRET);
    expect(tableCount(scramCluster, other)).toBe(0);
  }, TIMEOUT);

  test("POSTGRES_USER_FILE, POSTGRES_DB_FILE, POSTGRES_PASSWORD_FILE and NETRAVEN_DB_ADMIN_PASSWORD_FILE", async () => {
    const database = newDatabase(scramCluster);
    const secrets = join(work, `secrets-${database}`);
    spawnSync("mkdir", ["-p", secrets]);
    const file = (name: string, content: string) => {
      const path = join(secrets, name);
      writeFileSync(path, content);
      chmodSync(path, 0o600);
      return path;
    };
    const adminPassword = "Admin-file-pw-91c2";
    const run = await runHook({
      POSTGRES_USER_FILE: file("user", "postgres\n"),
      POSTGRES_DB_FILE: file("db", `${database}\n`),
      POSTGRES_PASSWORD_FILE: file("password", `${scramCluster.password}\n`),
      NETRAVEN_DB_ADMIN_PASSWORD_FILE: file("admin", `${adminPassword}\n`),
      PGHOST: scramCluster.socketDir,
      PGPORT: String(scramCluster.port),
    });
    expect(run.output).toContain(`initialising database "${database}" as "postgres"`);
    expect(run.output).toContain("the admin user");
    expect(run.status).toBe(0);
    expect(run.output).not.toContain(scramCluster.password);
    expect(run.output).not.toContain(adminPassword);
    expect(tableCount(scramCluster, database)).toBe(14);
    const admin = psqlSocket(scramCluster, database, "select username || ' ' || left(password_hash, 4) from netraven.users");
    expect(admin).toMatch(/^admin \$2[aby]\$$/);
  }, TIMEOUT);

  test("POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE together are refused, as the image refuses them", async () => {
    const path = join(work, "pw-both");
    writeFileSync(path, scramCluster.password);
    const run = await runHook({ ...entrypointEnv(scramCluster, "postgres"), POSTGRES_PASSWORD_FILE: path });
    expect(run.output).toContain("both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set");
    expect(run.status).toBe(1);
    expect(run.output).not.toContain(SECRET);
  }, TIMEOUT);

  test("an unreadable POSTGRES_DB_FILE fails the hook", async () => {
    const run = await runHook({ ...entrypointEnv(scramCluster, ""), POSTGRES_DB: "", POSTGRES_DB_FILE: join(work, "missing-file") });
    expect(run.output).toContain("POSTGRES_DB_FILE: cannot read");
    expect(run.status).toBe(1);
  }, TIMEOUT);
});
