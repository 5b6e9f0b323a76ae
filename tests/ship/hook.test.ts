// docker/initdb-netraven.sh, run the way the postgres image's entrypoint runs it: against a server that listens on
// the unix socket only, with POSTGRES_USER/POSTGRES_DB/POSTGRES_PASSWORD (or their *_FILE variants) set, the
// PGPASSWORD the entrypoint exports, and netraven-db on PATH. The image executes executable hooks and sources the
// others into its `set -Eeo pipefail` bash; both ways are run here. /var/run/postgresql is not ours on this
// machine, so PGHOST points at the throwaway cluster's socket directory (the hook honours a PGHOST that names a
// socket directory).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { requireBinary } from "../harness/binary.ts";
import { commandWorks, optionalTool, useTool } from "../harness/tools.ts";
import { createCluster, findPgBin, freePort, type Cluster } from "../harness/cluster.ts";
import { fencedBlocks, isShellBlock, shellCommands, shellWords, type DocCommand } from "../harness/markdown.ts";

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

  test("a POSTGRES_DB_FILE or NETRAVEN_DB_*_FILE that does not exist or is a directory fails the hook with one line naming it", async () => {
    const missing = join(work, "missing-file");
    const db = await runHook({ ...entrypointEnv(scramCluster, ""), POSTGRES_DB: "", POSTGRES_DB_FILE: missing });
    expect(db.output).toBe(`netraven-initdb: error: POSTGRES_DB_FILE: ${missing} does not exist (is the secrets directory mounted there, and does the file name match?)\n`);
    expect(db.status).toBe(1);

    const admin = await runHook({ ...entrypointEnv(scramCluster, "postgres"), NETRAVEN_DB_ADMIN_PASSWORD_FILE: work });
    expect(admin.output).toBe(`netraven-initdb: error: NETRAVEN_DB_ADMIN_PASSWORD_FILE: ${work} is a directory, not a file\n`);
    expect(admin.status).toBe(1);
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------------------------------------------
// docs/deployment.md, Pattern 1, followed to the letter under the official image's own entrypoint script
// (tests/fixtures/postgres-image/docker-entrypoint.sh, byte-for-byte upstream). Everything the guide says is read
// from the guide: the secrets setup line, the `docker run` options (-e and -v), the chown step and the recovery,
// so the test breaks when the page drifts. What Docker would do is stood in for: the entrypoint runs as root with
// PGDATA in a temporary "volume"; `gosu postgres` becomes setpriv to this machine's `postgres` user, standing in
// for the image's uid 999; the -v mount becomes a path mapping; the guide's commands on the host run as another
// unprivileged user (`nobody`, the host user who owns the secrets); `docker stop` kills what the container left.

const ROOT = resolve(import.meta.dir, "..", "..");
const GUIDE = join(ROOT, "docs", "deployment.md");
const ENTRYPOINT = join(ROOT, "tests", "fixtures", "postgres-image", "docker-entrypoint.sh");
const HOST_USER = { uid: 65534, gid: 65534 }; // the admin's own account on the host: owns the secrets it creates

function idOf(user: string, flag: "-u" | "-g"): number {
  const result = spawnSync("id", [flag, user], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`this test needs the OS user "${user}" (the postgresql package creates it): ${result.stderr}`);
  return Number(result.stdout.trim());
}

/** Every command of the guide's shell blocks (continuations joined, comments removed). */
function guide(): DocCommand[] {
  return fencedBlocks(GUIDE).filter(isShellBlock).flatMap(shellCommands);
}

function guideCommand(description: string, match: (c: DocCommand) => boolean): DocCommand {
  const found = guide().filter(match);
  if (found.length !== 1) throw new Error(`docs/deployment.md: expected exactly one command that ${description}, found ${found.length}: ${found.map((c) => c.text).join(" | ")}`);
  return found[0]!;
}

/** Pattern 1's `docker run`: the container's -e environment and its -v mounts (host path by container path). */
function pattern1Run(hostDir: string): { env: Record<string, string>; mounts: Map<string, string>; volume: string } {
  const command = guideCommand("is `docker run` with POSTGRES_* (Pattern 1)", (c) => c.text.startsWith("docker run ") && c.text.includes("POSTGRES_"));
  const words = shellWords(command.text, { PWD: hostDir });
  const env: Record<string, string> = {};
  const mounts = new Map<string, string>();
  let volume = "";
  for (let i = 2; i < words.length; i++) {
    const word = words[i]!;
    if (word === "-e") {
      const [key, ...value] = words[++i]!.split("=");
      env[key!] = value.join("=");
    } else if (word === "-v") {
      const [source, target] = words[++i]!.split(":");
      if (source!.startsWith("/")) mounts.set(target!, source!);
      else if (target === "/var/lib/postgresql/data") volume = source!;
    }
  }
  return { env, mounts, volume };
}

/** A path inside the container, as the host path behind its -v mount. */
function hostPath(path: string, mounts: Map<string, string>): string {
  for (const [target, source] of mounts) if (path === target || path.startsWith(`${target}/`)) return source + path.slice(target.length);
  return path;
}

interface ContainerRun {
  status: number | null;
  output: string;
  /** The server accepted connections (then `check` ran and the server was stopped). */
  ready: boolean;
}

/** The official image on this machine: entrypoint, initdb.d with our hook, PGDATA on a temporary "volume". */
class PostgresImage {
  readonly root = mkdtempSync(join(tmpdir(), "netraven-image-"));
  readonly data = join(this.root, "volume", "data");
  readonly socketDir = join(this.root, "run-postgresql");
  readonly initdbDir = join(this.root, "docker-entrypoint-initdb.d");
  readonly binDir = join(this.root, "bin");
  readonly home = join(this.root, "home-postgres");
  readonly postgresUid = idOf("postgres", "-u");
  readonly postgresGid = idOf("postgres", "-g");
  readonly pgBin = findPgBin();
  port = 0;

  /** `sourced`: the hook installed without its x bit, so the entrypoint sources it into its own bash. */
  async prepare(options: { sourced?: boolean } = {}): Promise<this> {
    if (process.getuid?.() !== 0) throw new Error("the image's entrypoint starts as root and steps down with gosu: this test needs root (CI runs as root)");
    this.port = await freePort();
    chmodSync(this.root, 0o755);
    for (const dir of [join(this.root, "volume"), this.socketDir, this.initdbDir, this.binDir, this.home]) mkdirSync(dir, { recursive: true });
    chownSync(this.home, this.postgresUid, this.postgresGid);
    // The entrypoint, with its two fixed paths moved to ours.
    const script = readFileSync(ENTRYPOINT, "utf8").replaceAll("/docker-entrypoint-initdb.d", this.initdbDir).replaceAll("/var/run/postgresql", this.socketDir);
    writeFileSync(join(this.binDir, "docker-entrypoint.sh"), script, { mode: 0o755 });
    // As the Dockerfile installs them.
    copyFileSync(HOOK, join(this.initdbDir, "10-netraven-db.sh"));
    chmodSync(join(this.initdbDir, "10-netraven-db.sh"), options.sourced ? 0o644 : 0o755);
    symlinkSync(requireBinary(), join(this.binDir, "netraven-db"));
    // gosu: the image's step-down from root to postgres.
    writeFileSync(join(this.binDir, "gosu"), `#!/bin/sh\n[ "$1" = postgres ] || { echo "gosu stand-in: only postgres" >&2; exit 1; }\nshift\nexec setpriv --reuid=${this.postgresUid} --regid=${this.postgresGid} --init-groups env HOME=${this.home} "$@"\n`, { mode: 0o755 });
    // psql: the entrypoint's own SQL goes to the default socket directory (PGHOST= emptied), ours is elsewhere.
    writeFileSync(join(this.binDir, "psql"), `#!/bin/sh\n[ -n "\${PGHOST:-}" ] || PGHOST=${this.socketDir}\nexport PGHOST\nexec ${this.pgBin}/psql "$@"\n`, { mode: 0o755 });
    return this;
  }

  /**
   * `docker run` / `docker start`: the entrypoint as root with the image's environment and `env` (the -e options).
   * Resolves when the container exits, or once the server accepts connections: then `check` runs against it and
   * the server is stopped as `docker stop` would.
   */
  start(env: Record<string, string>, check: () => void | Promise<void> = () => undefined): Promise<ContainerRun> {
    const imageEnv = {
      PATH: `${this.binDir}:${this.pgBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      PGDATA: this.data,
      PG_MAJOR: basename(dirname(this.pgBin)),
      LANG: "C.UTF-8",
      // Stand-ins: the image's socket directory is /var/run/postgresql and its port 5432.
      PGHOST: this.socketDir,
      PGPORT: String(this.port),
      ...env,
    };
    const args = ["postgres", "-c", `unix_socket_directories=${this.socketDir}`, "-c", "listen_addresses="];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(join(this.binDir, "docker-entrypoint.sh"), args, { env: imageEnv, cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      let ready = false;
      let checking: Promise<void> | undefined;
      let checkError: unknown;
      const onData = (chunk: string) => {
        output += chunk;
        // The second "ready" is the real server (the first one is the temporary server of the init phase).
        const phaseDone = output.includes("PostgreSQL init process complete") || output.includes("Skipping initialization");
        if (!checking && phaseDone && /database system is ready to accept connections[\s\S]*$/.test(output.slice(output.search(/init process complete|Skipping initialization/)))) {
          ready = true;
          checking = Promise.resolve()
            .then(check)
            .catch((error) => (checkError = error))
            .finally(() => child.kill("SIGINT")); // fast shutdown, as docker stop's SIGTERM+timeout would end it
        }
      };
      child.stdout.setEncoding("utf8").on("data", onData);
      child.stderr.setEncoding("utf8").on("data", onData);
      const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
      child.on("error", reject);
      let status: number | null = null;
      // A failed init leaves the temporary server running, holding our pipes: stop it when the entrypoint exits.
      child.on("exit", (code) => {
        status = code;
        this.killLeftovers();
      });
      child.on("close", async () => {
        clearTimeout(timer);
        await checking;
        if (checkError) reject(checkError);
        else resolvePromise({ status, output, ready });
      });
    });
  }

  /** What stopping the container does to the processes it leaves (the temporary server of a failed init). */
  killLeftovers(): void {
    if (!existsSync(join(this.data, "postmaster.pid"))) return;
    spawnSync("setpriv", [`--reuid=${this.postgresUid}`, `--regid=${this.postgresGid}`, "--init-groups", join(this.pgBin, "pg_ctl"), "-D", this.data, "-m", "immediate", "-w", "stop"], { encoding: "utf8" });
  }

  /** psql over the socket as the image's postgres user (local connections are trusted in the image). */
  psql(user: string, database: string, sqlText: string): string {
    const result = spawnSync("setpriv", [`--reuid=${this.postgresUid}`, `--regid=${this.postgresGid}`, "--init-groups", join(this.pgBin, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", this.socketDir, "-p", String(this.port), "-U", user, "-d", database, "-c", sqlText], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
    return result.stdout.trim();
  }

  /** `docker volume rm`: the data directory goes. */
  removeVolume(): void {
    rmSync(join(this.root, "volume", "data"), { recursive: true, force: true });
  }

  destroy(): void {
    this.killLeftovers();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The admin's working directory on the host, owned by the host user, where the guide's commands run. */
function hostDirectory(image: PostgresImage): string {
  const dir = join(image.root, "host");
  mkdirSync(dir);
  chownSync(dir, HOST_USER.uid, HOST_USER.gid);
  return dir;
}

/** A command from the guide, run on the host as the host user (through /bin/sh, as typed). */
function onHost(dir: string, command: string): void {
  const result = spawnSync("setpriv", [`--reuid=${HOST_USER.uid}`, `--regid=${HOST_USER.gid}`, "--clear-groups", "/bin/sh", "-c", command], { cwd: dir, env: { PATH: "/usr/bin:/bin", HOME: dir }, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command}: exit ${result.status}: ${result.stderr}`);
}

/** The guide's secrets step, exactly as written: `umask 077`, files owned by the host user. */
function createSecrets(dir: string): void {
  onHost(dir, guideCommand("creates the database secrets with umask 077", (c) => c.text.includes("umask 077") && c.text.includes("secrets/db_password")).text);
}

/** The guide's ownership step for the image's postgres user (`chown 999 ...`), with this machine's stand-in uid. */
function giveSecretsToPostgres(dir: string, image: PostgresImage): string {
  const command = guideCommand("chowns a secret to the image's postgres user", (c) => /^(sudo )?chown /.test(c.text));
  const words = shellWords(command.text, { PWD: dir });
  const argv = (words[0] === "sudo" ? words.slice(1) : words).map((w) => (w === "999" ? String(image.postgresUid) : w));
  expect(argv.slice(0, 2)).toEqual(["chown", String(image.postgresUid)]); // the image's uid, not a name the host may not have
  const result = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command.text}: ${result.stderr}`);
  return command.text;
}

describe("docs/deployment.md Pattern 1, followed to the letter under the official entrypoint", () => {
  test("every *_FILE of the `docker run` names a file that the guide's secrets step creates", () => {
    const host = mkdtempSync(join(tmpdir(), "netraven-guide-"));
    try {
      chownSync(host, HOST_USER.uid, HOST_USER.gid);
      createSecrets(host);
      const { env, mounts } = pattern1Run(host);
      const files = Object.entries(env).filter(([key]) => key.endsWith("_FILE"));
      expect(files.map(([key]) => key).sort()).toEqual(["NETRAVEN_DB_ADMIN_PASSWORD_FILE", "POSTGRES_PASSWORD_FILE"]);
      for (const [key, path] of files) expect(`${key}=${path}: ${existsSync(hostPath(path, mounts)) ? "created" : "never created by the guide"}`).toBe(`${key}=${path}: created`);
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  }, TIMEOUT);

  test("with the guide's chown step: the first start creates the schema and the admin user, the server comes up, a restart keeps it", async () => {
    const image = await new PostgresImage().prepare();
    try {
      const host = hostDirectory(image);
      createSecrets(host);
      giveSecretsToPostgres(host, image);
      const { env, mounts } = pattern1Run(host);
      const containerEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, hostPath(v, mounts)]));
      const database = env.POSTGRES_DB!;
      let tables = -1;
      let admin = "";
      const first = await image.start(containerEnv, () => {
        tables = Number(image.psql(env.POSTGRES_USER!, database, "select count(*) from information_schema.tables where table_schema = 'netraven'"));
        admin = image.psql(env.POSTGRES_USER!, database, "select username from netraven.users");
      });
      expect(first.output).toContain(`running ${image.initdbDir}/10-netraven-db.sh`);
      expect(first.output).toContain(`Created schema "netraven" in database "${database}"`);
      expect(first.output).toContain("the admin user");
      expect(first.output).toContain("netraven-initdb: done");
      expect(first.ready).toBe(true);
      expect(tables).toBe(14);
      expect(admin).toBe("admin");
      for (const secret of ["db_password", "netraven_admin_password"]) {
        const value = readFileSync(join(host, "secrets", secret), "utf8").trim();
        expect(first.output).not.toContain(value);
      }

      // The output the guide shows for this start is what the hook prints, with the image's socket and port.
      const shown = fencedBlocks(GUIDE).find((b) => b.lang === "" && b.text.includes("netraven-initdb: initialising"));
      expect(shown).toBeDefined();
      const printed = first.output.split("\n").filter((l) => /^netraven-(initdb|db): /.test(l)).map((l) => l.replaceAll(`${image.socketDir}/.s.PGSQL.${image.port}`, "/var/run/postgresql/.s.PGSQL.5432").replace(/\(\d+ ms\)/, "(N ms)"));
      expect(printed).toEqual(shown!.text.split("\n").map((l) => l.replace(/\(\d+ ms\)/, "(N ms)")));

      const restart = await image.start(containerEnv);
      expect(restart.output).toContain("Skipping initialization");
      expect(restart.ready).toBe(true);
    } finally {
      image.destroy();
    }
  }, TIMEOUT);

  test("without the chown step: the hook names the file, owner, mode and fix; the start stops; a restart refuses to serve an empty database; the guide's recovery works", async () => {
    const image = await new PostgresImage().prepare();
    try {
      const host = hostDirectory(image);
      createSecrets(host); // umask 077: mode 0600, owned by the host user
      const { env, mounts, volume } = pattern1Run(host);
      const containerEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, hostPath(v, mounts)]));
      const adminFile = containerEnv.NETRAVEN_DB_ADMIN_PASSWORD_FILE!;

      const first = await image.start(containerEnv);
      expect(first.ready).toBe(false);
      expect(first.status).not.toBe(0);
      const line = first.output.split("\n").find((l) => l.includes("NETRAVEN_DB_ADMIN_PASSWORD_FILE"));
      expect(line).toBe(
        `netraven-initdb: error: NETRAVEN_DB_ADMIN_PASSWORD_FILE: ${adminFile} is not readable by uid ${image.postgresUid} (postgres), which runs the init hooks: it belongs to uid ${HOST_USER.uid}, gid ${HOST_USER.gid}, mode 0600; give it to uid ${image.postgresUid} on the host (sudo chown ${image.postgresUid} on the file mounted there; mode 0600 can stay)`,
      );
      // The guide quotes this line (for the image's uid 999 and a host user 1000): the same words.
      const guideText = readFileSync(GUIDE, "utf8");
      const guideLine = [...guideText.matchAll(/`(netraven-initdb: error: NETRAVEN_DB_ADMIN_PASSWORD_FILE:[^`]+)`/g)].map((m) => m[1]!.replace(/\s*\n\s*/g, " "));
      expect(guideLine).toHaveLength(1);
      const pattern = guideLine[0]!.replaceAll("/run/secrets", mounts.get("/run/secrets")!).replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\d+/g, "\\d+");
      expect(line).toMatch(new RegExp(`^${pattern}$`));
      expect(first.output).not.toContain("netraven-db: error"); // caught before netraven-db ran
      expect(first.output).toContain("is marked as failed (netraven_db_init_failed in postgresql.auto.conf)");
      expect(first.output).not.toContain("PostgreSQL init process complete");

      // `docker start` / a restart policy: the entrypoint skips the hooks now, and PostgreSQL refuses the marked
      // directory instead of serving a database without the schema.
      const restart = await image.start(containerEnv);
      expect(restart.output).toContain("Skipping initialization");
      expect(restart.output).toContain('unrecognized configuration parameter "netraven_db_init_failed"');
      // ... in the words the guide quotes (its lines without the timestamp prefix, with the image's PGDATA).
      const quoted = fencedBlocks(GUIDE).find((b) => b.lang === "" && b.text.includes("netraven_db_init_failed"));
      expect(quoted).toBeDefined();
      for (const line of quoted!.text.split("\n")) expect(restart.output).toContain(line.replaceAll("/var/lib/postgresql/data", image.data));
      expect(restart.ready).toBe(false);
      expect(restart.status).not.toBe(0);

      // The guide's recovery: remove the data volume (the one Pattern 1 mounts), fix the cause, start again.
      const recovery = guide().map((c) => c.text);
      expect(recovery).toContain(`docker volume rm ${volume}`);
      image.removeVolume();
      giveSecretsToPostgres(host, image);
      let tables = -1;
      const fixed = await image.start(containerEnv, () => {
        tables = Number(image.psql(env.POSTGRES_USER!, env.POSTGRES_DB!, "select count(*) from information_schema.tables where table_schema = 'netraven'"));
      });
      expect(fixed.output).toContain("the admin user");
      expect(fixed.ready).toBe(true);
      expect(tables).toBe(14);
    } finally {
      image.destroy();
    }
  }, TIMEOUT);

  test("sourced (a copy without the x bit): a failure also stops the start and marks the data directory", async () => {
    const image = await new PostgresImage().prepare({ sourced: true });
    try {
      const host = hostDirectory(image);
      createSecrets(host);
      const { env, mounts } = pattern1Run(host);
      const containerEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, hostPath(v, mounts)]));
      const first = await image.start(containerEnv);
      expect(first.output).toContain(`sourcing ${image.initdbDir}/10-netraven-db.sh`);
      expect(first.output).toContain("is not readable by uid");
      expect(first.output).toContain("is marked as failed");
      expect(first.status).not.toBe(0);
      const restart = await image.start(containerEnv);
      expect(restart.output).toContain('unrecognized configuration parameter "netraven_db_init_failed"');
      expect(restart.ready).toBe(false);
    } finally {
      image.destroy();
    }
  }, TIMEOUT);

  test("a failed hook outside the entrypoint's first start (a server in service) never marks that data directory", async () => {
    // PGDATA of a running server that listens on TCP: the marker must not touch it.
    const cluster = await createCluster();
    try {
      const before = readFileSync(join(cluster.dataDir, "postgresql.auto.conf"), "utf8");
      const run = await runHook({ ...entrypointEnv(trustCluster, "no_such_database"), PGDATA: cluster.dataDir });
      expect(run.output).toContain("netraven-db init failed with exit status 5");
      expect(run.status).not.toBe(0);
      expect(run.output).not.toContain("marked as failed");
      expect(readFileSync(join(cluster.dataDir, "postgresql.auto.conf"), "utf8")).toBe(before);
    } finally {
      cluster.destroy();
    }
  }, TIMEOUT);
});
