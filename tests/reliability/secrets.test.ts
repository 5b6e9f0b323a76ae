// Secrets and TLS, proven through the compiled binary against a real PostgreSQL.
//
// A dedicated login role with a distinctive password (two random tokens around characters that URLs, pgpass files
// and JSON all have to escape) owns the test databases. For every way of handing over the password (--url,
// DATABASE_URL, PGPASSWORD, PGPASSWORD_FILE, DATABASE_URL_FILE, PGPASSFILE, ~/.pgpass) every command runs with and
// without --json, succeeding and failing, and the password must appear nowhere: stdout, stderr, the JSON document,
// the backup files (raw and decompressed), the manifests, and the command line of any process the tool starts
// (found by scanning /proc for descendants while it runs: there must be none). When the test itself puts the
// password into argv with --url, the tool must warn about it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { createCluster, type Cluster } from "../harness/cluster.ts";
import { adminSql, client, createTestDatabase, testServer, type TestDatabase } from "../harness/db.ts";
import { tempDir as makeTempDir } from "../harness/cleanup.ts";

const rand = () => Math.random().toString(36).slice(2, 10);
const tempDir = (name: string) => makeTempDir(`sec-${name}`);

// ---- the secret -------------------------------------------------------------------------------------------------

const TOKEN_A = `Kq${rand()}`;
const TOKEN_B = `Zv${rand()}`;
/** The real password: characters a URL, a pgpass line, a keyword/value string and JSON must all escape. */
const PASSWORD = `${TOKEN_A}:p@s s/w%rd'"\\é#?&=${TOKEN_B}`;
const WRONG_TOKEN = `Wx${rand()}`;
/** A wrong password is a secret too: the user typed it. */
const WRONG_PASSWORD = `${WRONG_TOKEN}:wr@ng'"\\pw`;
const ADMIN_TOKEN = `Ad${rand()}`;
/** NETRAVEN_DB_ADMIN_PASSWORD: init stores only its bcrypt hash. */
const ADMIN_PASSWORD = `${ADMIN_TOKEN}-admin-pw`;
const ROLE = `nr_sec_${rand()}`;

/** Every form a leak could take: raw, URL-encoded, JSON-escaped, and the random tokens on their own. */
function secretForms(): string[] {
  const forms = new Set<string>();
  for (const secret of [PASSWORD, WRONG_PASSWORD, ADMIN_PASSWORD]) {
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  for (const token of [TOKEN_A, TOKEN_B, WRONG_TOKEN, ADMIN_TOKEN]) forms.add(token);
  return [...forms];
}

function expectNoSecret(text: string, where: string): void {
  for (const form of secretForms()) {
    if (text.includes(form)) throw new Error(`${where} contains the password (as ${JSON.stringify(form)}):\n${text.slice(0, 2000)}`);
  }
}

// ---- watching the process tree ----------------------------------------------------------------------------------

interface Watched {
  /** Every command line the watched pid had (before exec it is briefly the test runner's). */
  selfCmdlines: string[];
  /** Descendant processes seen while it ran, with their command lines. */
  descendants: Array<{ pid: number; cmdline: string }>;
}

const readProc = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Polls /proc for processes whose PPid is the watched pid (or one of its descendants) until stopped. */
function watchProcessTree(pid: number): { stop(): Watched } {
  const family = new Set([pid]);
  const descendants = new Map<number, string>();
  const selfCmdlines = new Set<string>();
  let stopped = false;
  const scan = () => {
    const self = readProc(`/proc/${pid}/cmdline`);
    if (self) selfCmdlines.add(self.replace(/\0/g, " ").trim());
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const other = Number(entry);
      if (family.has(other)) {
        if (descendants.has(other) && !descendants.get(other)) descendants.set(other, (readProc(`/proc/${entry}/cmdline`) ?? "").replace(/\0/g, " "));
        continue;
      }
      const status = readProc(`/proc/${entry}/status`);
      if (!status) continue;
      const ppid = Number(status.match(/^PPid:\s+(\d+)/m)?.[1]);
      const tgid = Number(status.match(/^Tgid:\s+(\d+)/m)?.[1]);
      if (tgid !== other || !family.has(ppid)) continue; // threads are not processes
      family.add(other);
      descendants.set(other, (readProc(`/proc/${entry}/cmdline`) ?? "").replace(/\0/g, " "));
    }
  };
  const loop = () => {
    if (stopped) return;
    scan();
    setTimeout(loop, 3);
  };
  loop();
  return {
    stop() {
      stopped = true;
      return { selfCmdlines: [...selfCmdlines], descendants: [...descendants].map(([p, cmdline]) => ({ pid: p, cmdline })) };
    },
  };
}

interface CheckedRun extends RunResult {
  watched: Watched;
  json?: any;
}

/** Runs the binary while watching its process tree and checks what every run must satisfy. */
async function runWatched(args: string[], env: Record<string, string>, options: { passwordInArgv?: boolean } = {}): Promise<CheckedRun> {
  let watcher: { stop(): Watched } | undefined;
  const run = await runBinary(args, { env, onSpawn: (pid) => (watcher = watchProcessTree(pid)) });
  const watched = watcher!.stop();
  const label = `netraven-db ${args.map((a) => (a.includes(TOKEN_A) || a.includes(WRONG_TOKEN) ? "<url with password>" : a)).join(" ")} (exit ${run.status})`;
  expectNoSecret(run.stdout, `stdout of ${label}`);
  expectNoSecret(run.stderr, `stderr of ${label}`);
  // The tool starts no process at all, so no command line can carry the password.
  expect({ run: label, descendants: watched.descendants }).toEqual({ run: label, descendants: [] });
  if (!options.passwordInArgv) for (const cmdline of watched.selfCmdlines) expectNoSecret(cmdline, `/proc/<pid>/cmdline of ${label}`);
  let json: any;
  if (args.includes("--json") && run.stdout.trim() !== "") {
    json = JSON.parse(run.stdout);
    expectNoSecret(JSON.stringify(json), `--json of ${label}`);
  }
  expect(run.signal).toBeNull();
  return { ...run, watched, json };
}

/** Every file below `dir`: raw bytes, and decompressed when gzip; each backup and manifest is mode 0600. */
function expectDirectoryClean(dir: string): number {
  let backups = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      backups += expectDirectoryClean(path);
      continue;
    }
    const bytes = readFileSync(path);
    expectNoSecret(bytes.toString("latin1"), path);
    expectNoSecret(bytes.toString("utf8"), path);
    if (name.endsWith(".gz")) {
      const text = gunzipSync(bytes).toString("utf8");
      expect(text).toContain("-- end of netraven-db backup");
      expectNoSecret(text, `${path} (decompressed)`);
    }
    if (/\.sql(\.gz|\.zst)?$/.test(name)) {
      backups++;
      expect({ path, mode: (statSync(path).mode & 0o777).toString(8) }).toEqual({ path, mode: "600" });
      expect({ path: `${path}.json`, mode: (statSync(`${path}.json`).mode & 0o777).toString(8) }).toEqual({ path: `${path}.json`, mode: "600" });
    }
  }
  return backups;
}

// ---- how the password reaches the tool ---------------------------------------------------------------------------

interface Target {
  database: string;
  password: string;
}

interface Channel {
  name: string;
  /** Args that select the connection (only --url puts anything there). */
  args(target: Target): string[];
  env(target: Target): Record<string, string>;
  passwordInArgv?: boolean;
}

let secretsDir: string;

function server() {
  const s = testServer();
  return { host: s.host.startsWith("/") ? "127.0.0.1" : s.host, port: s.port };
}

function urlFor(target: Target, withPassword = true): string {
  const { host, port } = server();
  const auth = withPassword ? `${encodeURIComponent(ROLE)}:${encodeURIComponent(target.password)}` : encodeURIComponent(ROLE);
  return `postgresql://${auth}@${host}:${port}/${encodeURIComponent(target.database)}`;
}

function pgVars(target: Target): Record<string, string> {
  const { host, port } = server();
  return { PGHOST: host, PGPORT: String(port), PGUSER: ROLE, PGDATABASE: target.database };
}

function secretFile(content: string): string {
  const path = join(secretsDir, `secret-${rand()}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** A ~/.pgpass line: `\` and `:` escaped, database `*` so both test databases match. */
function pgpassLine(password: string): string {
  const { host, port } = server();
  const escape = (s: string) => s.replace(/[\\:]/g, "\\$&");
  return `# netraven test\n${escape(host)}:${port}:*:${escape(ROLE)}:${escape(password)}\n`;
}

const CHANNELS: Channel[] = [
  { name: "--url", args: (t) => ["--url", urlFor(t)], env: () => ({}), passwordInArgv: true },
  { name: "DATABASE_URL", args: () => [], env: (t) => ({ DATABASE_URL: urlFor(t) }) },
  { name: "PGPASSWORD", args: () => [], env: (t) => ({ ...pgVars(t), PGPASSWORD: t.password }) },
  { name: "PGPASSWORD_FILE", args: () => [], env: (t) => ({ ...pgVars(t), PGPASSWORD_FILE: secretFile(`${t.password}\n`) }) },
  { name: "DATABASE_URL_FILE", args: () => [], env: (t) => ({ DATABASE_URL_FILE: secretFile(`${urlFor(t)}\n`) }) },
  { name: "PGPASSFILE", args: () => [], env: (t) => ({ DATABASE_URL: urlFor(t, false), PGPASSFILE: secretFile(pgpassLine(t.password)) }) },
  {
    name: "~/.pgpass",
    args: () => [],
    env: (t) => {
      const home = mkdtempSync(join(secretsDir, "home-"));
      writeFileSync(join(home, ".pgpass"), pgpassLine(t.password), { mode: 0o600 });
      return { ...pgVars(t), HOME: home };
    },
  },
];

// ---- fixtures ---------------------------------------------------------------------------------------------------

let source: TestDatabase;
let restoreTarget: TestDatabase;
const quotedPassword = () => `'${PASSWORD.replace(/'/g, "''")}'`;

beforeAll(async () => {
  secretsDir = tempDir("files");
  await adminSql().unsafe(`create role ${ROLE} login password ${quotedPassword()}`);
  source = await createTestDatabase("nrsec");
  restoreTarget = await createTestDatabase("nrsec_target");
  for (const db of [source, restoreTarget]) await adminSql().unsafe(`alter database "${db.name}" owner to ${ROLE}`);
  // Tables and rows to back up: init as the role itself, then a few rows.
  const init = await runBinary(["init"], { env: { DATABASE_URL: urlFor({ database: source.name, password: PASSWORD }) } });
  expect(init.stderr).toContain("Created schema");
  expect(init.status).toBe(0);
  await source.sql.unsafe(`insert into netraven.tags (id, name, description, color, created_at) values ('t1', 'core', 'core routers', '#ff0000', now()), ('t2', 'edge', null, '#00ff00', now())`);
});

afterAll(async () => {
  const admin = adminSql();
  for (const db of [source, restoreTarget]) {
    await db?.sql.end({ timeout: 1 });
    if (db) await admin.unsafe(`drop database if exists "${db.name}" with (force)`);
  }
  await admin.unsafe(`drop role if exists ${ROLE}`).catch(() => undefined);
});

// ---- every command, every channel --------------------------------------------------------------------------------

interface Step {
  name: string;
  args: (channel: Channel, t: { source: Target; target: Target; dir: string; file: () => string }) => string[];
  /** Which database the connection args point at. */
  db: "source" | "target" | "none";
  /** Expected exit status. */
  status: number;
  /** The run connects, so a --url password must be warned about. */
  connects: boolean;
  wrongPassword?: boolean;
  env?: Record<string, string>;
  /** The step itself puts the password into argv (the tool cannot hide its own command line). */
  passwordInArgs?: boolean;
}

const good = (database: string): Target => ({ database, password: PASSWORD });

describe("the password never leaks, whichever way it is given", () => {
  const counts = { runs: 0, backups: 0 };

  for (const channel of CHANNELS) {
    test(`${channel.name}: init, validate, backup, verify, list, restore succeed and fail without showing it`, async () => {
      const dir = tempDir(`bk-${channel.name.replace(/\W/g, "")}`);
      let lastBackup = "";
      const steps: Step[] = [];
      for (const json of [false, true]) {
        const out = json ? ["--json"] : ["--verbose"];
        steps.push(
          { name: "init", args: () => ["init", ...out], db: "source", status: 0, connects: true, env: { NETRAVEN_DB_ADMIN_PASSWORD: ADMIN_PASSWORD } },
          { name: "init --dry-run", args: () => ["init", "--dry-run", ...out], db: "source", status: 0, connects: true, env: { NETRAVEN_DB_ADMIN_PASSWORD_FILE: secretFile(ADMIN_PASSWORD) } },
          { name: "validate", args: () => ["validate", ...out], db: "source", status: 0, connects: true },
          { name: "backup", args: (_c, t) => ["backup", "--dir", t.dir, ...out], db: "source", status: 0, connects: true },
          { name: "backup --compress none", args: (_c, t) => ["backup", "--dir", t.dir, "--compress", "none", ...out], db: "source", status: 0, connects: true },
          { name: "verify", args: (_c, t) => ["verify", t.file(), ...out], db: "none", status: 0, connects: false },
          { name: "verify --db", args: (_c, t) => ["verify", t.file(), "--db", ...out], db: "source", status: 0, connects: true },
          { name: "list", args: (_c, t) => ["list", "--dir", t.dir, ...out], db: "none", status: 0, connects: false },
          { name: "restore", args: (_c, t) => ["restore", t.file(), "--yes", ...out], db: "target", status: 0, connects: true },
          { name: "restore --target-db", args: (_c, t) => ["restore", t.file(), "--yes", "--target-db", t.target.database, ...out], db: "source", status: 0, connects: true },
        );
        // Failures: wrong database, wrong password, bad flags, unreadable input.
        steps.push(
          { name: "init, wrong database", args: () => ["init", ...out], db: "source", status: 5, connects: true, env: {} },
          { name: "init, wrong password", args: () => ["init", ...out], db: "source", status: 5, connects: true, wrongPassword: true },
          { name: "validate, wrong password", args: () => ["validate", ...out], db: "source", status: 2, connects: true, wrongPassword: true },
          { name: "validate, bad flag", args: () => ["validate", "--retry", "abc", ...out], db: "source", status: 3, connects: false },
          { name: "backup, wrong password", args: (_c, t) => ["backup", "--dir", t.dir, ...out], db: "source", status: 5, connects: true, wrongPassword: true },
          { name: "backup, bad flag", args: (_c, t) => ["backup", "--dir", t.dir, "--compress", "rar", ...out], db: "source", status: 3, connects: false },
          { name: "verify --db, wrong password", args: (_c, t) => ["verify", t.file(), "--db", ...out], db: "source", status: 2, connects: true, wrongPassword: true },
          { name: "verify, missing file", args: (_c, t) => ["verify", join(t.dir, "missing.sql.gz"), ...out], db: "none", status: 2, connects: false },
          { name: "list, unknown flag carrying the password", args: () => ["list", `--password=${PASSWORD}`, ...out], db: "none", status: 3, connects: false, passwordInArgs: true },
          { name: "restore, wrong password", args: (_c, t) => ["restore", t.file(), "--yes", ...out], db: "target", status: 5, connects: true, wrongPassword: true },
          { name: "restore, bad flag", args: (_c, t) => ["restore", t.file(), "--yes", "--lock-timeout", "soon", ...out], db: "target", status: 3, connects: false },
        );
      }

      for (const step of steps) {
        const database = step.name.includes("wrong database") ? `nope_${rand()}` : step.db === "target" ? restoreTarget.name : source.name;
        const target: Target = { database, password: step.wrongPassword ? WRONG_PASSWORD : PASSWORD };
        const context = { source: good(source.name), target: good(restoreTarget.name), dir, file: () => lastBackup };
        const args = [...step.args(channel, context), ...(step.db === "none" ? [] : channel.args(target))];
        const env = { ...channel.env(target), ...step.env };
        const run = await runWatched(args, env, { passwordInArgv: step.passwordInArgs || (channel.passwordInArgv && step.db !== "none") });
        counts.runs++;
        const label = `${channel.name}: ${step.name}${args.includes("--json") ? " --json" : ""}`;
        expect({ step: label, status: run.status }).toEqual({ step: label, status: step.status });
        if (args.includes("--json")) {
          expect({ step: label, ok: run.json?.ok }).toEqual({ step: label, ok: step.status === 0 });
          if (step.status !== 0) expect(run.json.error.exit_status).toBe(step.status);
        }
        if (step.status !== 0) {
          // One line saying what failed (plus at most a hint), never a stack trace.
          const errors = run.stderr.split("\n").filter((l) => l.startsWith("netraven-db: error:"));
          expect({ step: label, errors: errors.length }).toEqual({ step: label, errors: 1 });
          expect(run.stderr).not.toContain("    at ");
        }
        if (channel.passwordInArgv && step.connects) {
          expect({ step: label, warned: run.stderr.includes("the --url password is visible to other local users") }).toEqual({ step: label, warned: true });
        }
        if (step.name.startsWith("backup") && step.status === 0) {
          lastBackup = args.includes("--json") ? run.json.path : run.stderr.match(/Backup written: (.+?) \(/)![1]!;
          expect(statSync(lastBackup).isFile()).toBe(true);
        }
      }
      counts.backups += expectDirectoryClean(dir);
      // The admin user was created from NETRAVEN_DB_ADMIN_PASSWORD and stored as a bcrypt hash only.
      const [admin] = await source.sql`select password_hash from netraven.users where username = 'admin'`;
      expect(admin?.password_hash).toMatch(/^\$2[aby]\$/);
      expect(admin?.password_hash).not.toContain(ADMIN_TOKEN);
    });
  }

  test("every channel was exercised", () => {
    // 7 channels x 2 output modes x (10 succeeding + 11 failing) runs; 4 backups per channel.
    expect(counts).toEqual({ runs: CHANNELS.length * 2 * 21, backups: CHANNELS.length * 4 });
  });
});

describe("connection failures never echo the password, even when they quote the connection string", () => {
  const { host, port } = { host: "127.0.0.1", port: 1 };
  const p = encodeURIComponent(PASSWORD);
  const cases: Array<[string, string, number]> = [
    ["bad port", `postgresql://${ROLE}:${p}@${host}:notaport/db`, 3],
    ["port out of range", `postgresql://${ROLE}:${p}@${host}:99999/db`, 3],
    ["bad sslmode", `postgresql://${ROLE}:${p}@${host}:5432/db?sslmode=bogus`, 3],
    ["unknown parameter", `postgresql://${ROLE}:${p}@${host}:5432/db?bogus=1`, 3],
    ["malformed percent-encoding in the password", `postgresql://${ROLE}:${TOKEN_A}%zz${TOKEN_B}@${host}:5432/db`, 3],
    ["raw @ and : in the password", `postgresql://${ROLE}:${TOKEN_A}:x@y${TOKEN_B}@${host}:${port}/db`, 4],
    ["host list that does not resolve", `postgresql://${ROLE}:${p}@no-such-host-1.invalid,no-such-host-2.invalid/db`, 4],
    ["unterminated IPv6 host", `postgresql://${ROLE}:${p}@[::1/db`, 3],
    ["connection refused", `postgresql://${ROLE}:${p}@${host}:${port}/db`, 4],
    ["host that does not resolve", `postgresql://${ROLE}:${p}@no-such-host.invalid:5432/db`, 4],
    ["password in the query", `postgresql://${ROLE}@${host}:${port}/db?password=${p}`, 4],
    ["keyword/value string", `host=${host} port=${port} user=${ROLE} password='${PASSWORD.replace(/[\\']/g, "\\$&")}' dbname=db`, 4],
    ["keyword/value, unterminated quote", `host=${host} password='${TOKEN_A}x${TOKEN_B}`, 3],
    ["URL without its scheme", `${ROLE}:${TOKEN_A}x${TOKEN_B}@${host}:5432/db`, 3],
    ["URL without its scheme, with a query", `${ROLE}:${TOKEN_A}x${TOKEN_B}@${host}:5432/db?sslmode=require`, 3],
    ["misspelt scheme", `postgresq://${ROLE}:${TOKEN_A}x${TOKEN_B}@${host}:5432/db`, 3],
    ["JDBC URL", `jdbc:postgresql://${host}:5432/db?user=${ROLE}&password=${TOKEN_A}x${TOKEN_B}`, 3],
  ];
  for (const [name, url, status] of cases) {
    for (const via of ["--url", "DATABASE_URL"] as const) {
      test(`${name} (${via})`, async () => {
        const args = ["validate", "--retry", "1", ...(via === "--url" ? ["--url", url] : [])];
        const env: Record<string, string> = via === "DATABASE_URL" ? { DATABASE_URL: url } : {};
        for (const json of [false, true]) {
          const run = await runWatched(json ? [...args, "--json"] : [...args, "--verbose"], env, { passwordInArgv: via === "--url" });
          // validate is a checker: every failure that is not a usage error is "could not check" (2).
          expect({ name, status: run.status }).toEqual({ name, status: status === 3 ? 3 : 2 });
          const backupArgs = ["backup", "--dir", tempDir("x"), ...args.slice(1), json ? "--json" : "--verbose"];
          const backup = await runWatched(backupArgs, env, { passwordInArgv: via === "--url" });
          expect({ name, status: backup.status }).toEqual({ name, status });
        }
      });
    }
  }

  test("the connection string given before the command is refused without echoing it", async () => {
    const run = await runWatched(["--url", urlFor(good("db")), "validate"], {}, { passwordInArgv: true });
    expect(run.status).toBe(3);
  });
});

// ---- TLS --------------------------------------------------------------------------------------------------------

describe("TLS against a server that accepts only TLS connections (hostssl)", () => {
  let cluster: Cluster;
  let otherCa: string;
  let tlsEnv: Record<string, string>;

  beforeAll(async () => {
    cluster = await createCluster({ tls: true, settings: { listen_addresses: "'localhost'" } });
    writeFileSync(
      join(cluster.dataDir, "pg_hba.conf"),
      ["local all all scram-sha-256", "hostssl all all 127.0.0.1/32 scram-sha-256", "hostssl all all ::1/128 scram-sha-256", "hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject", ""].join("\n"),
    );
    cluster.stop();
    cluster.start();
    // A certificate the server does not use: a root that must not verify it.
    const dir = tempDir("ca");
    otherCa = join(dir, "other.crt");
    const gen = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", join(dir, "other.key"), "-out", otherCa], { encoding: "utf8" });
    if (gen.status !== 0) throw new Error(gen.stderr);
    tlsEnv = { PGUSER: "postgres", PGPASSWORD: cluster.password, PGPORT: String(cluster.port), PGDATABASE: "postgres" };
  });

  afterAll(() => cluster?.destroy());

  test("the server really refuses unencrypted connections, and a TLS session is encrypted", async () => {
    const plain = client(`postgresql://postgres:${encodeURIComponent(cluster.password)}@127.0.0.1:${cluster.port}/postgres`, { ssl: false, max: 1 });
    await expect(plain`select 1`).rejects.toThrow(/no encryption|pg_hba/);
    await plain.end({ timeout: 1 });
    const tls = client(`postgresql://postgres:${encodeURIComponent(cluster.password)}@127.0.0.1:${cluster.port}/postgres`, { ssl: "require", max: 1 });
    const [row] = await tls`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    expect(row!.ssl).toBe(true);
    await tls.end({ timeout: 1 });
  });

  async function tlsRun(args: string[], env: Record<string, string>) {
    const run = await runBinary(["validate", "--retry", "3", "--retry-interval", "10", ...args], { env: { ...tlsEnv, ...env }, timeoutMs: 60_000 });
    // No schema in that database: validate reaches the server and reports drift (1), or fails to connect (2).
    return run;
  }

  const connected = (run: RunResult) => {
    expect(run.stderr).not.toContain("error:");
    expect(run.stdout).toContain(`Nothing to compare: schema "netraven" does not exist`); // validate reached the server and looked
    expect(run.status).toBe(1);
  };

  /** Exit 5 from a command that is not a checker, one TLS line, no retry. */
  const refusedTls = async (args: string[], env: Record<string, string>, pattern: RegExp) => {
    const run = await runBinary(["backup", "--dir", tempDir("tls"), "--retry", "3", "--retry-interval", "10", ...args], { env: { ...tlsEnv, ...env }, timeoutMs: 60_000 });
    const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^netraven-db: error: TLS failed with /);
    expect(errors[0]).toMatch(pattern);
    expect(run.stderr).not.toContain("Waiting for PostgreSQL");
    expect(run.status).toBe(5);
    expectNoSecret(run.stderr, "TLS error");
    expect(run.stderr).not.toContain(cluster.password);
    const json = await runBinary(["validate", "--retry", "3", "--retry-interval", "10", "--json", ...args], { env: { ...tlsEnv, ...env } });
    expect(JSON.parse(json.stdout).error.code).toBe("TLS_FAILED");
    expect(json.status).toBe(2);
  };

  /**
   * What the server says about the tool's own session: a test session holds the schema lock, so `init` waits and
   * its connection (application_name netraven-db) can be looked up in pg_stat_ssl; then the lock is released.
   */
  async function toolSessionSsl(adminUrl: string, database: string, env: Record<string, string>, sslForAdmin: "require" | false): Promise<{ ssl: boolean; status: number | null }> {
    const admin = client(adminUrl, { ssl: sslForAdmin, max: 1 });
    await admin.unsafe(`drop database if exists ${database}`);
    await admin.unsafe(`create database ${database}`);
    await admin.end({ timeout: 1 });
    // Advisory locks are per database: hold init's schema lock in the target database.
    const locker = client(adminUrl, { ssl: sslForAdmin, max: 1, database });
    const observer = client(adminUrl, { ssl: sslForAdmin, max: 1, database });
    try {
      await locker`select pg_advisory_lock(hashtext('netraven-db'), hashtext('netraven'))`;
      const running = runBinary(["init", "--lock-timeout", "30"], { env: { ...env, PGDATABASE: database } });
      let ssl: boolean | undefined;
      for (let i = 0; i < 200 && ssl === undefined; i++) {
        const rows = await observer`select s.ssl from pg_stat_ssl s join pg_stat_activity a on a.pid = s.pid where a.application_name = 'netraven-db' and a.datname = ${database}`;
        if (rows.length) ssl = rows[0]!.ssl;
        else await Bun.sleep(50);
      }
      await locker`select pg_advisory_unlock_all()`;
      const run = await running;
      if (ssl === undefined) throw new Error(`never saw the tool's session: ${run.stderr}`);
      return { ssl, status: run.status };
    } finally {
      await locker.end({ timeout: 1 });
      await observer.end({ timeout: 1 });
    }
  }

  test("the tool's own session is encrypted (pg_stat_ssl) with require and verify-full, and not with disable", async () => {
    const adminUrl = `postgresql://postgres:${encodeURIComponent(cluster.password)}@127.0.0.1:${cluster.port}/postgres`;
    expect(await toolSessionSsl(adminUrl, "ssl_require", { ...tlsEnv, PGHOST: "127.0.0.1", PGSSLMODE: "require" }, "require")).toEqual({ ssl: true, status: 0 });
    expect(await toolSessionSsl(adminUrl, "ssl_verify_full", { ...tlsEnv, PGHOST: "localhost", PGSSLMODE: "verify-full", PGSSLROOTCERT: cluster.certFile! }, "require")).toEqual({ ssl: true, status: 0 });
    // The control: on the shared test server, which also accepts plain connections, sslmode=disable shows ssl = false.
    const server = testServer();
    const shared = { PGUSER: server.user, PGPASSWORD: server.password, PGPORT: String(server.port), PGHOST: server.host.startsWith("/") ? "127.0.0.1" : server.host, PGSSLMODE: "disable" };
    const name = `nrsec_plain_${rand()}`;
    const result = await toolSessionSsl(server.url("postgres"), name, shared, false);
    await adminSql().unsafe(`drop database if exists ${name} with (force)`);
    expect(result).toEqual({ ssl: false, status: 0 });
  });

  test("sslmode=require connects (without checking the certificate)", async () => {
    connected(await tlsRun([], { PGHOST: "127.0.0.1", PGSSLMODE: "require" }));
    connected(await tlsRun(["--url", `postgresql://postgres@127.0.0.1:${cluster.port}/postgres?sslmode=require`], {}));
  });

  test("the default (prefer) uses TLS when the server offers it", async () => {
    connected(await tlsRun([], { PGHOST: "127.0.0.1" }));
  });

  test("sslmode=verify-full with sslrootcert and the certificate's host name connects", async () => {
    connected(await tlsRun([], { PGHOST: "localhost", PGSSLMODE: "verify-full", PGSSLROOTCERT: cluster.certFile! }));
    connected(await tlsRun(["--url", `postgresql://postgres@localhost:${cluster.port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(cluster.certFile!)}`], {}));
  });

  test("sslmode=verify-ca checks the chain but not the name: 127.0.0.1 connects", async () => {
    connected(await tlsRun([], { PGHOST: "127.0.0.1", PGSSLMODE: "verify-ca", PGSSLROOTCERT: cluster.certFile! }));
  });

  test("verify-full against 127.0.0.1 (name mismatch) fails at once: exit 5, one TLS line, no retry", async () => {
    await refusedTls([], { PGHOST: "127.0.0.1", PGSSLMODE: "verify-full", PGSSLROOTCERT: cluster.certFile! }, /sslmode=verify-full/);
  });

  test("verify-full without the server's root certificate fails at once", async () => {
    await refusedTls([], { PGHOST: "localhost", PGSSLMODE: "verify-full" }, /sslmode=verify-full/);
    await refusedTls([], { PGHOST: "localhost", PGSSLMODE: "verify-full", PGSSLROOTCERT: otherCa }, /sslmode=verify-full/);
    await refusedTls([], { PGHOST: "localhost", PGSSLMODE: "verify-ca", PGSSLROOTCERT: otherCa }, /sslmode=verify-ca/);
  });

  test("sslmode=disable against the hostssl-only server is refused: exit 5, no retry", async () => {
    const run = await runBinary(["backup", "--dir", tempDir("tls"), "--retry", "3", "--retry-interval", "10"], { env: { ...tlsEnv, PGHOST: "127.0.0.1", PGSSLMODE: "disable" } });
    const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("no encryption");
    expect(run.stderr).not.toContain("Waiting for PostgreSQL");
    expect(run.status).toBe(5);
  });
});
