// Every command in README.md and docs/*.md, run: the documentation cannot drift from the tool again.
//
// What runs: each fenced shell block (```sh, bash, shell, console) of those files, command by command, in order,
// through /bin/sh as an unprivileged user in a sandbox, with `netraven-db` on PATH being the compiled binary
// (tests/harness/binary.ts), against a throwaway PostgreSQL where the docs' names are real: the role `netraven`
// owning the database `netraven` (TCP with a password, the unix socket trusted as in the postgres image). Before
// each block the world is reset: `netraven` freshly initialised, one backup in the backup directory.
//
// What is checked for each command: the exit status (0, or the `exit N` its comment starts with, e.g.
// `# exit 0 clean, 1 drift`), every "quoted string" in its comment appears in its output (`# must print "...: OK"`),
// and comment lines at the left margin right below it, which the docs use to show output, match an output line
// (revisions, durations and ms may differ). A `restore` without --yes runs on a terminal (script(1)) and is
// answered with the database name, as the docs say it asks.
//
// How the docs' world maps to this machine (SUBSTITUTIONS, worldEnv): /backups, /run/secrets, /usr/local/bin and
// ~ are sandbox directories; the host lists db1,db2 are the cluster twice; db.example.net (and Compose's `db`) is 127.0.0.1 and /var/run/postgresql is the
// cluster's socket directory; the default port 5432 and backup directory /backups are stood in for by PGPORT and
// NETRAVEN_DB_DIR; /backups/netraven_20261125_030000.sql.gz (.sql.zst, .sql) is the newest backup of that kind;
// F and FILE are the newest backup; OLD is an old `pg_dump | gzip` backup of the world's database; DATABASE is a new empty database (one per command). `docker exec [-u U]
// [-e K=V]... netraven-db CMD` runs CMD "in the database container": with those variables and its socket; `docker
// exec ... sh` puts the commands after it in that container.
//
// A command that cannot run here goes into NOT_RUN_HERE (below) with the reason, in one place. A command that is
// neither runnable (every program of it in RUNNABLE_PROGRAMS) nor listed fails the first test (and its block is
// not run at all), so a new example in the docs is run, or consciously listed, never silently ignored.
//
// The messages docs/deployment.md's Troubleshooting quotes are produced too (TROUBLESHOOTING): a new quoted
// message needs an entry there, or in TROUBLESHOOTING_ELSEWHERE with the reason.
//
// Per-block annotations: an HTML comment right above the fence, invisible on the page:
//   <!-- docs-test: context=own-server -->          the environment the surrounding text implies (CONTEXTS)
//   <!-- docs-test: env="K=V K2=V2" -->             more variables (values go through the substitutions)
//   <!-- docs-test: backups=gzip,zstd,none -->      the backups that exist before the block (default: gzip)
//   <!-- docs-test: setup=release -->               the release files (SHA256SUMS, netraven-db-linux-x64) in cwd
//   <!-- docs-test: setup=bucket -->                the bucket (s3://netraven-backups/ at https://s3.example.net)
//                                                   on the real S3 server, with an encrypted backup in prod/, and
//                                                   the identity, secret and password files the page assumes
// A non-shell block shows output; annotated with `run`, its lines are checked against that command's output:
//   <!-- docs-test: context=own-server sql="alter table ..." run="netraven-db validate" exit=1 -->
// (`sql` runs on `netraven` first; a ```json block is compared as JSON).
// YAML blocks (a Kubernetes manifest, a Compose fragment) carry commands too: YAML_BLOCKS extracts the netraven-db
// command and the environment each declares, and runs it; a YAML block missing there fails the coverage test.
//
// Extending (HA connection strings, new storage...): add a context, a substitution for a new placeholder host or
// path, a setup (as `bucket` starts the real S3 server, tests/harness/rgw.ts), or a program to RUNNABLE_PROGRAMS
// once a real server for it runs here; until then list the commands in NOT_RUN_HERE with the reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { ageKeygen, requireAgeCli, type AgeKey } from "./harness/age-cli.ts";
import { requireBinary } from "./harness/binary.ts";
import { createCluster, findPgBin, type Cluster } from "./harness/cluster.ts";
import { fencedBlocks, isShellBlock, shellCommands, shellWords, type DocCommand, type FencedBlock } from "./harness/markdown.ts";
import { rgw, type Rgw } from "./harness/rgw.ts";

const ROOT = resolve(import.meta.dir, "..");
const DOC_FILES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const TIMEOUT = 120_000;
const expectAllTargets = process.env.NETRAVEN_DB_EXPECT_ALL_TARGETS === "1";

// ---------------------------------------------------------------------------------------------------------------
// The commands that do not run here, and why: the one list. Exact command text (continuations joined, comment
// removed); an entry the docs no longer show fails the second test, so the list stays true.
const NOT_RUN_HERE: Record<string, string[]> = {
  "builds the binaries or runs the whole suite (minutes); CI runs exactly these (.ci/run, scripts/test.sh)": [
    "npm ci",
    "npm run build",
    "npm run build:all",
    "npm test",
  ],
  "builds the binary and starts its own PostgreSQL (scripts/demo.sh); the same commands run in this file and tests/commands.test.ts": ["npm run demo"],
  "needs a Docker engine (none here); tests/ship/docker-files.test.ts lints and cross-checks the Dockerfiles": [
    "docker build -t netraven-postgres:15 .",
    "docker build --build-arg PG_VERSION=16 -t netraven-postgres:16 .",
    "docker build -f Dockerfile.alpine -t netraven-postgres:15-alpine .",
  ],
  "needs a Docker engine; tests/ship/hook.test.ts runs this start (secrets, chown, -e/-v options, recovery) under the image's own entrypoint script": [
    "sudo chown 999 secrets/netraven_admin_password",
    "docker run -d --name netraven-db -e POSTGRES_USER=netraven -e POSTGRES_DB=netraven -e POSTGRES_PASSWORD_FILE=/run/secrets/db_password -e NETRAVEN_DB_ADMIN_PASSWORD_FILE=/run/secrets/netraven_admin_password -v \"$PWD/secrets:/run/secrets:ro\" -v pgdata:/var/lib/postgresql/data netraven-postgres:15",
    "docker logs netraven-db 2>&1 | grep netraven",
    "docker rm -f netraven-db",
    "docker volume rm pgdata",
  ],
  "needs a Docker engine; tests/ship/docker-files.test.ts runs db-init's command, the backup loop and this admin command through the service's entrypoint": [
    "docker compose -f docker-compose.example.yml up -d",
    "docker compose -f docker-compose.example.yml logs db-init",
    "docker compose -f docker-compose.example.yml run --rm backup netraven-db list --dir /backups",
  ],
  "needs a Docker engine; tests/ship/docker-files.test.ts runs the backup-offsite loop against the real S3 server with these secrets and settings": [
    "docker compose -f docker-compose.example.yml --profile offsite up -d",
    "docker compose -f docker-compose.example.yml logs backup-offsite",
  ],
};

/** Programs the sandbox can run. A command using anything else must be listed above. */
const RUNNABLE_PROGRAMS = new Set(["netraven-db", "export", "psql", "gunzip", "zstd", "sha256sum", "install", "mkdir", "umask", "openssl", "chmod", "age-keygen", "your-app", "exec", "echo", "printf"]);

/** The environments the surrounding text implies, for blocks that do not set up their own. */
const CONTEXTS: Record<string, string> = {
  // README "Against your own server", docs/deployment.md "From any machine": a URL without the password, and a file.
  "own-server": "DATABASE_URL=postgresql://netraven@db.example.net:5432/netraven PGPASSWORD_FILE=/run/secrets/db_password",
  // docker-compose.example.yml's `app` service (its DATABASE_URL) with the db_password secret.
  app: "DATABASE_URL=postgresql://netraven@db:5432/netraven PGPASSWORD_FILE=/run/secrets/db_password",
  // psql and friends: the libpq variables and ~/.pgpass.
  libpq: "PGHOST=db.example.net PGUSER=netraven",
};

/** The database container of Pattern 1 (`docker exec ... netraven-db ...`): its socket is the image's default. */
const CONTAINERS: Record<string, (world: World) => Record<string, string>> = {
  "netraven-db": (world) => ({ PGHOST: world.cluster.socketDir }),
};

// ---------------------------------------------------------------------------------------------------------------
// docs/deployment.md's Troubleshooting says "Every message below was copied from the binary": each message it
// quotes (an inline `error: ...`, `hint: ...`, `Waiting for ...` span) is produced here by a run of the binary.
// Numbers (ports, attempts, seconds) may differ, `...` stands for anything; paths go through the substitutions.
interface QuotedMessages {
  quotes: string[];
  run: string;
  env: (world: World) => Record<string, string>;
  exit: number;
  /** Arranges the failure (and returns how to undo it). */
  arrange?: (world: World) => () => void;
}
const TROUBLESHOOTING: QuotedMessages[] = [
  {
    quotes: ["error: cannot connect to postgres@/var/run/postgresql/.s.PGSQL.5432/netraven: no unix socket there yet; gave up after 2 attempts over 0.2 s"],
    run: "netraven-db init --retry 2 --retry-interval 0.1",
    env: (w) => ({ PGHOST: w.cluster.socketDir, PGPORT: "5432", PGUSER: "postgres", PGDATABASE: "netraven" }),
    exit: 4,
  },
  {
    quotes: [
      "error: cannot connect to postgres@127.0.0.1:39053/postgres: connection refused (is the server running and listening there?); gave up after ...",
      "Waiting for PostgreSQL at ... (attempt 1/30): connection refused ...; retrying in 1.1 s",
      "error: cannot connect to ...: connection refused (...); gave up after 30 attempts over N s",
    ],
    run: "netraven-db init --retry 2 --retry-interval 0.1",
    env: () => ({ DATABASE_URL: "postgresql://postgres@127.0.0.1:9/postgres" }), // port 9 (discard): nothing listens
    exit: 4,
  },
  {
    quotes: ["error: cannot connect to postgres@db.invalid:5432/netraven: host name does not resolve (yet); gave up after ..."],
    run: "netraven-db init --retry 2 --retry-interval 0.1",
    env: () => ({ DATABASE_URL: "postgresql://postgres@db.invalid:5432/netraven" }),
    exit: 4,
  },
  {
    quotes: ['error: password authentication failed for user "postgres" at postgres@127.0.0.1:42003/netraven', "hint: check PGPASSWORD / PGPASSWORD_FILE / the URL password"],
    run: "netraven-db init",
    env: (w) => ({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${w.cluster.port}/netraven`, PGPASSWORD: "not-the-password" }),
    exit: 5,
  },
  {
    quotes: ['error: database "netravn" does not exist at postgres@127.0.0.1:42003', "hint: create it first, or fix the database name in the URL / PGDATABASE"],
    run: "netraven-db init",
    env: (w) => ({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${w.cluster.port}/netravn`, PGPASSWORD: w.cluster.password }),
    exit: 5,
  },
  {
    quotes: ["error: PGPASSWORD: both PGPASSWORD and PGPASSWORD_FILE are set; set only one"],
    run: "netraven-db init",
    env: (w) => ({ PGHOST: "127.0.0.1", PGPASSWORD: ROLE_PASSWORD, PGPASSWORD_FILE: join(w.secrets, "db_password") }),
    exit: 3,
  },
  {
    quotes: ["error: TLS failed with postgres@127.0.0.1:42003/postgres (sslmode=require): the server does not accept TLS connections", "hint: enable ssl on the server, or use sslmode=prefer/disable"],
    run: "netraven-db init",
    env: (w) => ({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${w.cluster.port}/postgres?sslmode=require`, PGPASSWORD: w.cluster.password }),
    exit: 5,
  },
  {
    quotes: ['error: initialise the schema: permission denied: permission denied to create extension "uuid-ossp" [SQLSTATE 42501]'],
    run: "netraven-db init",
    env: (w) => ({ DATABASE_URL: `postgresql://docs_no_create@127.0.0.1:${w.cluster.port}/docs_empty`, PGPASSWORD: ROLE_PASSWORD }),
    exit: 5,
    arrange: () => {
      // A new, empty database and a role that may connect to it but not create anything there.
      superPsql("postgres", "create database docs_empty");
      superPsql("postgres", `create role docs_no_create login password '${ROLE_PASSWORD}'`);
      return () => {
        superPsql("postgres", "drop database docs_empty with (force)");
        superPsql("postgres", "drop role docs_no_create");
      };
    },
  },
  {
    quotes: ["error: NETRAVEN_DB_ADMIN_PASSWORD_FILE: cannot read /run/secrets/netraven_admin_password: permission denied"],
    run: "netraven-db init",
    env: (w) => ({ ...parseEnv(CONTEXTS["own-server"]), NETRAVEN_DB_ADMIN_PASSWORD_FILE: join(w.secrets, "netraven_admin_password") }),
    exit: 3,
    arrange: (w) => {
      chmodSync(join(w.secrets, "netraven_admin_password"), 0o000);
      return () => chmodSync(join(w.secrets, "netraven_admin_password"), 0o600);
    },
  },
  {
    quotes: ["error: --dir /backups: cannot write backups there: permission denied"],
    run: "netraven-db backup --dir /backups",
    env: () => parseEnv(CONTEXTS["own-server"]),
    exit: 3,
    arrange: (w) => {
      chmodSync(w.backups, 0o555);
      return () => chmodSync(w.backups, 0o755);
    },
  },
  {
    quotes: ["error: --dir /backups: does not exist (is the backup volume mounted?)"],
    run: "netraven-db backup --dir /backups",
    env: () => parseEnv(CONTEXTS["own-server"]),
    exit: 3,
    arrange: (w) => {
      rmSync(w.backups, { recursive: true, force: true });
      return () => {
        mkdirSync(w.backups);
        own(w.backups);
      };
    },
  },
];
/** Messages of that section that another test reproduces, or that cannot be reproduced here, and why. */
const TROUBLESHOOTING_ELSEWHERE: Record<string, string> = {
  "netraven-initdb: error: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)": "the hook: tests/ship/hook.test.ts",
  "netraven-initdb: error: netraven-db not found on PATH (...)": "the hook: tests/ship/hook.test.ts",
  "panic(main thread): abort() called": "needs a root file system without /proc (a bare chroot); measured once (../shared/reference/findings.md), tests/ship/rootfs.test.ts mounts /proc because of it",
  "oh no: Bun has crashed": "the same crash's second line",
};

// ---------------------------------------------------------------------------------------------------------------
// YAML in the docs (a Kubernetes manifest, a Compose fragment) holds commands too: the netraven-db command each one
// runs, with the environment it declares, runs here like the shell blocks (setup=bucket's world). Keyed by the
// block's first line; a YAML block that is not here fails the coverage test.
interface YamlRun {
  command: string;
  env: Record<string, string>;
}
const YAML_BLOCKS: Record<string, (doc: any) => YamlRun> = {
  // docs/deployment.md, Kubernetes: the CronJob's container, its command + args and env (the Secret at /secrets,
  // its files mode 0400 as the manifest's defaultMode says).
  "apiVersion: batch/v1": (doc) => {
    const container = doc.spec.jobTemplate.spec.template.spec.containers[0];
    return {
      command: [...container.command, ...container.args].join(" "),
      env: Object.fromEntries(container.env.map((e: { name: string; value: unknown }) => [e.name, String(e.value)])),
    };
  },
  // docs/deployment.md, Docker Compose: the backup service's loop gains a bucket; its netraven-db command, with
  // the service's environment from docker-compose.example.yml (Compose's `db` on this machine) and the fragment's.
  "  backup:": (doc) => {
    const base = (Bun.YAML.parse(readFileSync(join(ROOT, "docker-compose.example.yml"), "utf8")) as any).services.backup.environment;
    const script = (doc.backup.command as string[]).join(" ");
    const command = script.match(/netraven-db [^;]+/)?.[0];
    if (!command) throw new Error(`no netraven-db command in the Compose fragment's command: ${script}`);
    return {
      command,
      env: { ...base, PGHOST: "127.0.0.1", PGPORT: String(world.cluster.port), PGUSER: "netraven", PGDATABASE: "netraven", ...doc.backup.environment },
    };
  },
};

const ANNOTATION_KEYS = new Set(["context", "env", "backups", "setup", "run", "exit", "sql"]);
const ROLE_PASSWORD = "Docs-role-pw-3e9c";
const ADMIN_PASSWORD = "Docs-admin-pw-51aa";

// ---------------------------------------------------------------------------------------------------------------

/** The bucket the docs call netraven-backups, on the real S3 server (Ceph RGW), with an encrypted backup in prod/. */
interface Bucket {
  server: Rgw;
  name: string;
  key: AgeKey;
  /** The object name under prod/ that the docs' netraven_20261125_030000.sql.gz.age stands for. */
  backup: string;
}

interface World {
  cluster: Cluster;
  bucket?: Bucket;
  root: string;
  cwd: string;
  home: string;
  backups: string;
  tools: string;
  installDir: string;
  secrets: string;
  /** Where the CronJob mounts its Secret (/secrets). */
  k8sSecrets: string;
  runAs?: { uid: number; gid: number };
  scratchDatabases: string[];
}

let world: World;

const isRoot = () => process.getuid?.() === 0;
const UNPRIVILEGED = { uid: 65534, gid: 65534 };

function own(path: string): void {
  if (world.runAs) chownSync(path, world.runAs.uid, world.runAs.gid);
}

function superPsql(database: string, sqlText: string): string {
  const result = spawnSync(join(findPgBin(), "psql"), ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", world.cluster.socketDir, "-p", String(world.cluster.port), "-U", "postgres", "-d", database, "-c", sqlText], { encoding: "utf8", env: { ...process.env, PGPASSWORD: world.cluster.password } });
  if (result.status !== 0) throw new Error(`psql ${sqlText}: ${result.stderr}`);
  return result.stdout.trim();
}

interface Ran {
  status: number | null;
  output: string;
}

/** Runs a shell command line in the sandbox as the unprivileged user, optionally on a terminal with `answer` typed. */
function sh(line: string, env: Record<string, string>, options: { terminalAnswer?: string } = {}): Promise<Ran> {
  const inner = options.terminalAnswer === undefined ? ["/bin/sh", "-c", line] : ["script", "-q", "-e", "-c", line, "/dev/null"];
  const argv = world.runAs ? ["setpriv", `--reuid=${world.runAs.uid}`, `--regid=${world.runAs.gid}`, "--clear-groups", ...inner] : inner;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: world.cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (output += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ status, output: output.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "") });
    });
    child.stdin.end(options.terminalAnswer === undefined ? "" : `${options.terminalAnswer}\n`);
  });
}

function worldEnv(): Record<string, string> {
  return {
    PATH: `${world.installDir}:${world.tools}:/usr/bin:/bin`,
    HOME: world.home,
    LANG: "C.UTF-8",
    // Stand-ins for the defaults the docs assume: port 5432 and the backup directory /backups.
    PGPORT: String(world.cluster.port),
    NETRAVEN_DB_DIR: world.backups,
  };
}

/** The docs' placeholders and fixed paths, mapped into the sandbox in one left-to-right pass (no result is mapped again). */
const SUBSTITUTIONS: Array<[RegExp, (match: string) => string]> = [
  // The README's host lists (a primary and its standby): every host is the one cluster, so the lists parse, are
  // tried in order and connect, as they would to db1 and db2.
  [/db1:5432,db2:5433/, () => `127.0.0.1:${world.cluster.port},127.0.0.1:${world.cluster.port}`],
  [/host=db1,db2,\/var\/run\/postgresql port=5432,5433,5432/, () => `host=127.0.0.1,127.0.0.1,${world.cluster.socketDir} port=${world.cluster.port},${world.cluster.port},${world.cluster.port}`],
  [/PGHOST=db1,db2 PGPORT=5432/, () => `PGHOST=127.0.0.1,127.0.0.1 PGPORT=${world.cluster.port}`],
  [/s3:\/\/netraven-backups\/prod\/netraven_20261125_030000\.sql\.gz\.age\b/, () => `s3://${bucket().name}/prod/${bucket().backup}`],
  [/s3:\/\/netraven-backups\//, () => `s3://${bucket().name}/`],
  [/https:\/\/s3\.example\.net/, () => bucket().server.endpoint],
  [/(?<=AWS_ACCESS_KEY_ID=)\.\.\./, () => bucket().server.accessKeyId],
  [/(?<=AWS_SECRET_ACCESS_KEY=)\.\.\./, () => bucket().server.secretAccessKey],
  [/(?<=NETRAVEN_BACKUP_RECIPIENT=)age1\.\.\./, () => bucket().key.publicKey],
  [/\/backups\/netraven_20261125_030000\.sql(?:\.gz|\.zst)?\b/, (m) => join(world.backups, newestBackup(m.slice(m.indexOf(".sql"))))],
  [/netraven_20261125_030000\.sql(?:\.gz|\.zst)?\b/, (m) => newestBackup(m.slice(m.indexOf(".sql")))],
  [/(?<=\s)(?:F|FILE)(?=\s|$)/, () => join(world.backups, newestBackup(".sql.gz"))],
  [/(?<=\s)OLD(?=\s|$)/, () => oldPgDumpFile()],
  [/(?<=\s)DATABASE(?=\s|$)/, () => scratchDatabase()],
  [/\/backups\b/, () => world.backups],
  [/\/run\/secrets\b/, () => world.secrets],
  [/\/usr\/local\/bin\b/, () => world.installDir],
  [/%2Fvar%2Frun%2Fpostgresql/, () => encodeURIComponent(world.cluster.socketDir)],
  [/\/var\/run\/postgresql\b/, () => world.cluster.socketDir],
  [/db\.example\.net:5432/, () => `127.0.0.1:${world.cluster.port}`],
  [/localhost:5432/, () => `127.0.0.1:${world.cluster.port}`],
  [/@netraven-db:5432\//, () => `@127.0.0.1:${world.cluster.port}/`], // the CronJob's Kubernetes service name
  [/(?<=^|\s|=)\/secrets\//, () => `${world.k8sSecrets}/`], // the CronJob's Secret mount
  [/db\.example\.net/, () => "127.0.0.1"],
  [/@db:5432\//, () => `@127.0.0.1:${world.cluster.port}/`],
];

function bucket(): Bucket {
  if (!world.bucket) throw new Error("the docs name the bucket (s3://netraven-backups/, s3.example.net): add setup=bucket to the block's docs-test annotation");
  return world.bucket;
}

function substitute(text: string): string {
  return substitutedParts(text)
    .map((p) => p.text)
    .join("");
}

/** The text in pieces: what the page says as written, and what a substitution put in its place. */
function substitutedParts(text: string): Array<{ text: string; substituted: boolean }> {
  const parts: Array<{ text: string; substituted: boolean }> = [];
  const literal = (ch: string) => {
    const last = parts.at(-1);
    if (last && !last.substituted) last.text += ch;
    else parts.push({ text: ch, substituted: false });
  };
  let i = 0;
  scan: while (i < text.length) {
    for (const [pattern, replace] of SUBSTITUTIONS) {
      const sticky = new RegExp(pattern.source, "y");
      sticky.lastIndex = i;
      const match = sticky.exec(text);
      if (match && match[0].length > 0) {
        parts.push({ text: replace(match[0]), substituted: true });
        i += match[0].length;
        continue scan;
      }
    }
    literal(text[i++]!);
  }
  return parts;
}

/** The newest backup whose name ends with `suffix` (".sql.gz", ".sql.zst", ".sql"). */
function newestBackup(suffix: string): string {
  const name = readdirSync(world.backups).filter((f) => /^netraven_\d{8}_\d{6}\.sql(\.gz|\.zst)?$/.test(f) && f.endsWith(suffix)).sort().at(-1);
  if (!name) throw new Error(`the docs name a backup ending in ${suffix}, but none was made: add backups=... to the block's docs-test annotation`);
  return name;
}

/** OLD: an old NetRaven backup, `pg_dump | gzip` of the world's database as the old script made it (made once). */
function oldPgDumpFile(): string {
  const file = join(world.backups, "netraven_20250403_200520.sql.gz");
  if (!existsSync(file)) {
    const pgDump = join(findPgBin(), "pg_dump");
    const result = spawnSync("bash", ["-c", `"$PG_DUMP" -h "$H" -p "$P" -U postgres netraven | gzip > "$F"`], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, PGPASSWORD: world.cluster.password, PG_DUMP: pgDump, H: world.cluster.socketDir, P: String(world.cluster.port), F: file },
    });
    if (result.status !== 0) throw new Error(`pg_dump | gzip for OLD failed: ${result.stderr}`);
    own(file);
  }
  return file;
}

function scratchDatabase(): string {
  const name = `docs_scratch_${world.scratchDatabases.length + 1}`;
  superPsql("postgres", `create database ${name} owner netraven`);
  world.scratchDatabases.push(name);
  return name;
}

/** `K=V K2=V2` → entries, each value substituted. */
function parseEnv(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of text ? shellWords(text, { HOME: world.home }) : []) {
    // The whole word: a placeholder may depend on the variable it is the value of (AWS_ACCESS_KEY_ID=...).
    const mapped = substitute(word);
    const at = mapped.indexOf("=");
    out[mapped.slice(0, at)] = mapped.slice(at + 1);
  }
  return out;
}

/** The programs a command line runs: first word of each pipeline element, after `VAR=value` and `exec`. */
function programsOf(text: string): string[] {
  const programs: string[] = [];
  for (const part of text.split(/&&|\|\||[|;()]/)) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
    if (words[0] === "exec" && words.length > 1) words.shift();
    if (words[0]) programs.push(words[0]);
  }
  return programs;
}

interface DockerExec {
  env: Record<string, string>;
  container: string;
  argv: string[];
}

function dockerExec(text: string): DockerExec | undefined {
  if (!text.startsWith("docker exec ")) return undefined;
  const words = shellWords(text);
  const env: Record<string, string> = {};
  let i = 2;
  for (; i < words.length && words[i]!.startsWith("-"); i++) {
    const flag = words[i]!;
    if (flag === "-e") {
      const [key, ...value] = words[++i]!.split("=");
      env[key!] = value.join("=");
    } else if (flag === "-u") i++; // the OS user: the sandbox user stands in
  }
  return { env, container: words[i]!, argv: words.slice(i + 1) };
}

function listedReason(text: string): string | undefined {
  return Object.entries(NOT_RUN_HERE).find(([, commands]) => commands.includes(text))?.[0];
}

/** Why a command is neither run here nor listed, or undefined when it is one of them. */
function uncovered(command: DocCommand): string | undefined {
  if (listedReason(command.text)) return undefined;
  const exec = dockerExec(command.text);
  if (exec) {
    if (!CONTAINERS[exec.container]) return `docker exec into "${exec.container}", a container this test does not know`;
    if (exec.argv.length === 1 && /^(ba)?sh$/.test(exec.argv[0]!)) return undefined;
    const unknown = programsOf(exec.argv.join(" ")).filter((p) => !RUNNABLE_PROGRAMS.has(p));
    return unknown.length ? `runs ${unknown.join(", ")} in the container` : undefined;
  }
  const unknown = programsOf(command.text).filter((p) => !RUNNABLE_PROGRAMS.has(p));
  return unknown.length ? `runs ${unknown.join(", ")}` : undefined;
}

// Volatile parts of output the docs show: revisions, durations.
function looseLine(shown: string): RegExp {
  const escaped = shown.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(
    escaped
      .replace(/\b[0-9a-f]{12}\b/g, "[0-9a-f]{12}(?:-dirty)?")
      .replace(/\b\d+ ms\b/g, "\\d+ ms")
      .replace(/\b\d+\\\.\d+ s\b/g, "\\d+\\.\\d+ s"),
  );
}

function where(command: DocCommand | FencedBlock): string {
  return `${relative(ROOT, "block" in command ? command.block.file : command.file)}:${command.line}`;
}

// ---------------------------------------------------------------------------------------------------------------

const allBlocks = DOC_FILES.flatMap((file) => fencedBlocks(join(ROOT, file)));
const shellBlocks = allBlocks.filter(isShellBlock);
const allCommands = shellBlocks.flatMap(shellCommands);

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), "netraven-docs-"));
  chmodSync(root, 0o755);
  const cluster = await createCluster();
  world = {
    cluster,
    root,
    cwd: join(root, "cwd"),
    home: join(root, "home"),
    backups: join(root, "backups"),
    tools: join(root, "tools"),
    installDir: join(root, "usr", "local", "bin"),
    secrets: join(root, "run", "secrets"),
    k8sSecrets: join(root, "k8s-secrets"),
    runAs: isRoot() ? UNPRIVILEGED : undefined,
    scratchDatabases: [],
  };
  // The socket is trusted, as in the postgres image; TCP asks for the password.
  writeFileSync(join(cluster.dataDir, "pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n");
  superPsql("postgres", "select pg_reload_conf()");
  superPsql("postgres", `create role netraven login createdb password '${ROLE_PASSWORD}'`);

  for (const dir of [world.cwd, world.home, world.backups, world.tools, world.installDir, world.secrets, world.k8sSecrets, join(root, "run"), join(root, "usr"), join(root, "usr", "local")]) {
    mkdirSync(dir, { recursive: true });
    own(dir);
  }
  symlinkSync(requireBinary(), join(world.tools, "netraven-db"));
  symlinkSync(join(findPgBin(), "psql"), join(world.tools, "psql"));
  writeFileSync(join(world.tools, "your-app"), '#!/bin/sh\necho "your-app started"\n', { mode: 0o755 });
  // The secrets the docs refer to.
  const secret = (path: string, value: string) => {
    mkdirSync(resolve(path, ".."), { recursive: true });
    own(resolve(path, ".."));
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    own(path);
  };
  secret(join(world.secrets, "db_password"), ROLE_PASSWORD);
  secret(join(world.secrets, "netraven_admin_password"), ADMIN_PASSWORD);
  secret(join(world.home, ".secrets", "netraven-db"), ROLE_PASSWORD);
  secret(join(world.home, ".pgpass"), `*:*:*:netraven:${ROLE_PASSWORD}`);
}, TIMEOUT);

afterAll(async () => {
  if (world?.bucket) await world.bucket.server.deleteBucket(world.bucket.name).catch(() => undefined); // the server: the preload stops it
  world?.cluster.destroy();
  if (world) rmSync(world.root, { recursive: true, force: true });
});

/**
 * setup=bucket: the real S3 server, a bucket standing for netraven-backups, an age key pair (the identity stands for
 * netraven-backup-key.txt and key.txt), and one encrypted backup of `netraven` under prod/. Made once.
 */
async function ensureBucket(): Promise<Bucket> {
  if (world.bucket) return world.bucket;
  requireAgeCli();
  const server = await rgw();
  const name = await server.createBucket({ objectLock: true }); // the CronJob asks for --object-lock-days
  const keys = join(world.root, "keys");
  mkdirSync(keys, { recursive: true });
  const key = ageKeygen(keys);
  world.bucket = { server, name, key, backup: "" };
  const env = { ...worldEnv(), ...parseEnv(CONTEXTS["own-server"]), ...server.env };
  const made = await sh(`netraven-db backup --dir s3://${name}/prod/ --encrypt-to ${key.publicKey}`, env);
  const object = made.output.match(/netraven_\d{8}_\d{6}\.sql\.gz\.age/)?.[0];
  if (made.status !== 0 || !object) throw new Error(`world: the encrypted backup to the bucket failed: ${made.output}`);
  world.bucket.backup = object;
  return world.bucket;
}

/** What a reader of the bucket pages has in the current directory and /run/secrets. */
function placeBucketFiles(b: Bucket): void {
  const put = (path: string, content: string, mode: number) => {
    rmSync(path, { force: true }); // a 0400 file from the last block cannot be rewritten by a non-root owner
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    own(path);
  };
  const identity = readFileSync(b.key.identityFile, "utf8");
  put(join(world.cwd, "netraven-backup-key.txt"), identity, 0o644); // as copied over; the guide's chmod 600 comes first
  put(join(world.cwd, "key.txt"), identity, 0o600);
  put(join(world.cwd, "s3_secret"), `${b.server.secretAccessKey}\n`, 0o600);
  put(join(world.cwd, "db_password"), `${ROLE_PASSWORD}\n`, 0o600);
  put(join(world.secrets, "s3_secret"), `${b.server.secretAccessKey}\n`, 0o600);
  // The secrets the Kubernetes Secret and the Compose secrets hold, by file name.
  for (const dir of [world.secrets, world.k8sSecrets]) {
    put(join(dir, "db_password"), `${ROLE_PASSWORD}\n`, 0o400);
    put(join(dir, "backup_recipient"), `${b.key.publicKey}\n`, 0o400);
    put(join(dir, "s3_access_key_id"), `${b.server.accessKeyId}\n`, 0o400);
    put(join(dir, "s3_secret_access_key"), `${b.server.secretAccessKey}\n`, 0o400);
  }
}

/** Before each block: `netraven` initialised from scratch, the requested backups, nothing else. */
async function resetWorld(block: FencedBlock): Promise<void> {
  for (const name of ["netraven", "netraven_check", ...world.scratchDatabases.splice(0)]) superPsql("postgres", `drop database if exists ${name} with (force)`);
  superPsql("postgres", "create database netraven owner netraven");
  rmSync(world.backups, { recursive: true, force: true });
  mkdirSync(world.backups);
  own(world.backups);
  for (const entry of readdirSync(world.cwd)) rmSync(join(world.cwd, entry), { recursive: true, force: true });
  rmSync(world.installDir, { recursive: true, force: true });
  mkdirSync(world.installDir);
  own(world.installDir);
  const env = { ...worldEnv(), ...parseEnv(CONTEXTS["own-server"]) };
  const init = await sh("netraven-db init", env);
  if (init.status !== 0) throw new Error(`world reset: init failed: ${init.output}`);
  for (const compress of (block.annotation?.backups ?? "gzip").split(",")) {
    const backup = await sh(`netraven-db backup --compress ${compress}`, env);
    if (backup.status !== 0) throw new Error(`world reset: backup failed: ${backup.output}`);
  }
  if (block.annotation?.setup === "release") placeRelease();
  if (block.annotation?.setup === "bucket") placeBucketFiles(await ensureBucket());
}

/** The files of a release, as the download step expects them in the current directory. */
function placeRelease(): void {
  const dist = resolve(requireBinary(), "..");
  const sums = join(dist, "SHA256SUMS");
  if (existsSync(sums) && existsSync(join(dist, "netraven-db-linux-x64"))) {
    copyFileSync(sums, join(world.cwd, "SHA256SUMS"));
    copyFileSync(join(dist, "netraven-db-linux-x64"), join(world.cwd, "netraven-db-linux-x64"));
  } else {
    if (expectAllTargets) throw new Error(`${sums} or dist/netraven-db-linux-x64 is missing although NETRAVEN_DB_EXPECT_ALL_TARGETS=1: run npm run build:all`);
    // Without `npm run build:all` (a local run): the host build under the release name, with a SHA256SUMS that
    // also lists a file that is not here, as a release's does (--ignore-missing).
    copyFileSync(requireBinary(), join(world.cwd, "netraven-db-linux-x64"));
    const sum = spawnSync("sha256sum", ["netraven-db-linux-x64"], { cwd: world.cwd, encoding: "utf8" }).stdout;
    writeFileSync(join(world.cwd, "SHA256SUMS"), `${"0".repeat(64)}  netraven-db-linux-arm64\n${sum}`);
  }
  for (const f of ["SHA256SUMS", "netraven-db-linux-x64"]) own(join(world.cwd, f));
}

function expectedStatus(command: DocCommand): number {
  const stated = command.comment.match(/^exit (\d+)\b/);
  return stated ? Number(stated[1]) : 0;
}

function checkOutput(label: string, ran: Ran, command: DocCommand, expected: number): void {
  if (ran.status !== expected) throw new Error(`${label}\nexited ${ran.status}, the docs say or imply ${expected}; it printed:\n${ran.output}`);
  for (const [, quoted] of command.comment.matchAll(/"([^"]+)"/g)) {
    if (!ran.output.includes(quoted!)) throw new Error(`${label}\nits comment quotes "${quoted}", which it did not print; it printed:\n${ran.output}`);
  }
  const lines = ran.output.split("\n");
  for (const shown of command.shownOutput) {
    if (!lines.some((l) => looseLine(shown).test(l))) throw new Error(`${label}\nthe docs show "${shown}" below it, which it did not print; it printed:\n${ran.output}`);
  }
}

describe("the commands in README.md and docs/*.md", () => {
  test("every one is run by this file or listed in NOT_RUN_HERE with the reason", () => {
    const missing = allCommands.map((c) => [c, uncovered(c)] as const).filter(([, why]) => why).map(([c, why]) => `${where(c)}: ${c.text}  (${why})`);
    expect(missing).toEqual([]);
    expect(allCommands.length).toBeGreaterThan(30);
  });

  test("NOT_RUN_HERE lists only commands the docs still show", () => {
    const shown = new Set(allCommands.map((c) => c.text));
    const stale = Object.values(NOT_RUN_HERE).flat().filter((c) => !shown.has(c));
    expect(stale).toEqual([]);
  });

  test("every YAML block has its command run (YAML_BLOCKS)", () => {
    const unknown = allBlocks.filter((b) => /^ya?ml$/.test(b.lang) && !YAML_BLOCKS[b.text.split("\n")[0]!]).map((b) => `${where(b)}: ${b.text.split("\n")[0]}`);
    expect(unknown).toEqual([]);
  });

  test("annotations use known keys and contexts", () => {
    for (const block of allBlocks.filter((b) => b.annotation)) {
      for (const key of Object.keys(block.annotation!)) expect(`${where(block)}: ${key}`).toBe(`${where(block)}: ${ANNOTATION_KEYS.has(key) ? key : "an unknown key"}`);
      const context = block.annotation!.context;
      if (context) expect(`${where(block)}: context ${context}`).toBe(`${where(block)}: context ${CONTEXTS[context] ? context : "unknown"}`);
    }
  });
});

for (const block of shellBlocks) {
  const commands = shellCommands(block);
  const runnable = commands.filter((c) => !listedReason(c.text));
  if (runnable.length === 0) continue;
  describe(`${where(block)}`, () => {
    test(
      runnable.map((c) => c.text).join("; "),
      async () => {
        // Never run what nobody vetted: a command that is neither runnable here nor listed stops the block first.
        for (const command of runnable) {
          const why = uncovered(command);
          if (why) throw new Error(`${where(command)}: ${command.text}\nnot run: it ${why}; make it runnable here or list it in NOT_RUN_HERE with the reason`);
        }
        await resetWorld(block);
        let env: Record<string, string> = { ...worldEnv(), ...parseEnv(CONTEXTS[block.annotation?.context ?? ""]), ...parseEnv(block.annotation?.env) };
        for (const command of runnable) {
          const label = `${where(command)}: ${command.text}`;
          const exec = dockerExec(command.text);
          let line = command.text;
          let runEnv = env;
          if (exec) {
            const container = { ...CONTAINERS[exec.container]!(world), ...exec.env };
            if (exec.argv.length === 1 && /^(ba)?sh$/.test(exec.argv[0]!)) {
              env = { ...env, ...container }; // the commands below this one run in that container's shell
              continue;
            }
            line = exec.argv.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(" ");
            runEnv = { ...env, ...container };
          }
          line = substitute(line);
          if (programsOf(command.text)[0] === "export") {
            // The variables it exports stay for the commands below it, as in the reader's shell.
            const ran = await sh(`${line} && echo '--- environment ---' && env`, runEnv);
            if (ran.status !== 0) throw new Error(`${label}\nexited ${ran.status}: ${ran.output}`);
            env = {};
            for (const l of ran.output.slice(ran.output.indexOf("--- environment ---\n") + 20).split("\n")) {
              const at = l.indexOf("=");
              if (at > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(l.slice(0, at)) && !["PWD", "OLDPWD", "SHLVL", "_"].includes(l.slice(0, at))) env[l.slice(0, at)] = l.slice(at + 1);
            }
            continue;
          }
          // `restore` without --yes asks on the terminal for the database name: answer it as an admin would.
          const interactive = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*netraven-db restore\b/.test(command.text) && !/\s(--yes|-y)\b/.test(command.text);
          const target = command.text.match(/--target-db[= ](\S+)/)?.[1] ?? "netraven";
          const ran = await sh(line, runEnv, interactive ? { terminalAnswer: target } : {});
          checkOutput(label, ran, command, expectedStatus(command));
          // Into the world's database, which holds data, it must have asked (a new --target-db never asks).
          if (interactive && target === "netraven" && !ran.output.includes(`Type the database name (${target}) to continue:`)) {
            throw new Error(`${label}\nthe docs say it asks for the database name; it did not ask:\n${ran.output}`);
          }
        }
      },
      TIMEOUT,
    );
  });
}

/** The inline code spans of deployment.md's Troubleshooting section that quote output. */
function troubleshootingQuotes(): string[] {
  const text = readFileSync(join(ROOT, "docs", "deployment.md"), "utf8");
  const section = text.slice(text.indexOf("\n## Troubleshooting"), text.indexOf("\n## ", text.indexOf("\n## Troubleshooting") + 5));
  return [...section.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s*\n\s*/g, " ")).filter((q) => /^(error|hint|netraven-initdb|Waiting for|panic|oh no)\b/.test(q));
}

/** A quoted message as a pattern: numbers may differ, `...`/`(...)`/N stand for anything, paths are substituted. */
function quotePattern(quote: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const number = "\\d+(?:\\.\\d+)?";
  // "...", numbers and N are placeholders only in the page's own words: a substituted path (a temp dir such as
  // netraven-docs-N54arn) is matched exactly.
  const pattern = substitutedParts(quote)
    .map((p) => (p.substituted ? escape(p.text) : escape(p.text).replace(/\\\.\\\.\\\./g, ".*").replace(/\d+(\\\.\d+)?/g, number).replace(/\bN\b/g, number)))
    .join("");
  return new RegExp(pattern);
}

describe("docs/deployment.md Troubleshooting: every message it quotes is what the binary prints", () => {
  test("each quoted message is reproduced here or listed with the reason", () => {
    const covered = new Set([...TROUBLESHOOTING.flatMap((t) => t.quotes), ...Object.keys(TROUBLESHOOTING_ELSEWHERE)]);
    expect(troubleshootingQuotes().filter((q) => !covered.has(q))).toEqual([]);
    const quoted = new Set(troubleshootingQuotes());
    expect([...covered].filter((q) => !quoted.has(q))).toEqual([]); // and nothing listed that the page no longer quotes
  });

  for (const entry of TROUBLESHOOTING) {
    test(entry.quotes[0]!, async () => {
      // No reset: each of these fails before it touches a database, or uses its own.
      const undo = entry.arrange?.(world);
      try {
        const ran = await sh(substitute(entry.run), { ...worldEnv(), ...entry.env(world) });
        const label = `${entry.run} (${JSON.stringify(entry.env(world))})`;
        if (ran.status !== entry.exit) throw new Error(`${label}\nexited ${ran.status}, the page says ${entry.exit}; it printed:\n${ran.output}`);
        for (const quote of entry.quotes) {
          if (!ran.output.split("\n").some((l) => quotePattern(quote).test(l))) throw new Error(`${label}\nthe page quotes "${quote}", which it did not print; it printed:\n${ran.output}`);
        }
      } finally {
        undo?.();
      }
    }, TIMEOUT);
  }
});

for (const block of allBlocks.filter((b) => /^ya?ml$/.test(b.lang) && YAML_BLOCKS[b.text.split("\n")[0]!])) {
  test(`${where(block)}: the netraven-db command of this YAML, with its environment`, async () => {
    await resetWorld({ ...block, annotation: { setup: "bucket" } });
    const { command, env } = YAML_BLOCKS[block.text.split("\n")[0]!]!(Bun.YAML.parse(block.text));
    const mapped = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, substitute(String(v))]));
    const line = substitute(command);
    const ran = await sh(line, { ...worldEnv(), ...mapped });
    const label = `${where(block)}: ${command}`;
    if (ran.status !== 0) throw new Error(`${label}\nexited ${ran.status}; it printed:\n${ran.output}`);
    if (!/\.sql\.gz\.age\b/.test(ran.output)) throw new Error(`${label}\nwrote no encrypted backup; it printed:\n${ran.output}`);
  }, TIMEOUT);
}

for (const block of allBlocks.filter((b) => !isShellBlock(b) && b.annotation?.run)) {
  test(`${where(block)}: the output shown is what \`${block.annotation!.run}\` prints`, async () => {
    await resetWorld(block);
    if (block.annotation!.sql) superPsql("netraven", `set role netraven; set search_path to netraven; ${block.annotation!.sql}`);
    const env = { ...worldEnv(), ...parseEnv(CONTEXTS[block.annotation!.context ?? ""]), ...parseEnv(block.annotation!.env) };
    const ran = await sh(substitute(block.annotation!.run!), env);
    const label = `${where(block)}: ${block.annotation!.run}`;
    expect(`${label}: exit ${ran.status}`).toBe(`${label}: exit ${block.annotation!.exit ?? "0"}`);
    if (block.lang === "json") {
      expect(JSON.parse(ran.output)).toEqual(JSON.parse(block.text));
    } else {
      const printed = ran.output.split("\n").map((l) => l.trimEnd());
      for (const line of block.text.split("\n")) expect(`${label}: ${line}`).toBe(`${label}: ${printed.includes(line.trimEnd()) ? line : `(not printed; it printed:\n${ran.output})`}`);
    }
  }, TIMEOUT);
}
