// A throwaway PostgreSQL cluster from the installed server binaries: initdb + pg_ctl under a temp folder, on a free
// TCP port and a private unix-socket directory. PostgreSQL refuses to run as root, so as root the cluster runs as
// `nobody` (setpriv). Used by the test preload, the README demo and the benchmarks. Plain node: APIs, so it also
// runs under Deno.
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Cluster {
  host: string;
  port: number;
  socketDir: string;
  dataDir: string;
  user: string;
  password: string;
  /** postgresql://postgres:…@127.0.0.1:port/postgres */
  url(database?: string): string;
  /** Whether the server accepts TLS (self-signed certificate in certFile). */
  certFile?: string;
  start(): void;
  stop(mode?: "fast" | "immediate"): void;
  /** Ends recovery on a standby: it becomes a primary (pg_ctl promote, waiting until it accepts writes). */
  promote(): void;
  destroy(): void;
}

const UNPRIVILEGED = { uid: 65534, gid: 65534 }; // nobody:nogroup on Debian

export function findPgBin(): string {
  const fromConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
  if (fromConfig.status === 0 && existsSync(join(fromConfig.stdout.trim(), "initdb"))) return fromConfig.stdout.trim();
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], "bin");
  }
  throw new Error("PostgreSQL server binaries not found: install the Debian package `postgresql` (apt-get install -y postgresql)");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

function runAsServerUser(command: string, args: string[], options: { env?: Record<string, string> } = {}): void {
  const [file, argv] = isRoot()
    ? ["setpriv", [`--reuid=${UNPRIVILEGED.uid}`, `--regid=${UNPRIVILEGED.gid}`, "--clear-groups", "--", command, ...args]]
    : [command, args];
  const result = spawnSync(file, argv, { encoding: "utf8", env: { ...process.env, LC_ALL: "C", ...options.env } });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}`);
  }
}

function own(path: string): void {
  if (isRoot()) chownSync(path, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
}

export interface ClusterOptions {
  port?: number;
  /** Also accept TLS with a self-signed certificate for CN=localhost. */
  tls?: boolean;
  /** Listen on the unix socket only, with trust auth there: what the postgres image's init phase looks like. */
  socketOnly?: boolean;
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string>;
  /** With tls: use this certificate and key (PEM files) instead of a self-signed one; `ca` makes the server ask
   * clients for a certificate signed by it (ssl_ca_file). */
  certificate?: { cert: string; key: string; ca?: string };
  /** pg_hba.conf lines put before initdb's own (first match wins), e.g. `hostssl all certuser 127.0.0.1/32 cert`. */
  hba?: string[];
  start?: boolean;
}

/** Creates (and by default starts) a cluster. Always call destroy(). */
export async function createCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const bin = findPgBin();
  const root = mkdtempSync(join(tmpdir(), "netraven-pg-"));
  try {
    return await setUpCluster(bin, root, options);
  } catch (error) {
    // Failed half-way (initdb, openssl, a port taken at start): no caller holds a Cluster to destroy, so undo here.
    const dataDir = join(root, "data");
    if (existsSync(join(dataDir, "postmaster.pid"))) {
      try {
        runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
      } catch {
        // not running after all
      }
    }
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

async function setUpCluster(bin: string, root: string, options: ClusterOptions): Promise<Cluster> {
  chmodSync(root, 0o755);
  own(root);
  const dataDir = join(root, "data");
  const socketDir = join(root, "sock");
  execFileSync("mkdir", ["-p", socketDir]);
  own(socketDir);
  const password = `pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
  const pwfile = join(root, "pwfile");
  writeFileSync(pwfile, `${password}\n`);
  own(pwfile);
  const port = options.port ?? (await freePort());

  runAsServerUser(join(bin, "initdb"), [
    "-D", dataDir, "-U", "postgres", "--pwfile", pwfile, "-E", "UTF8", "--locale=C",
    `--auth-local=${options.socketOnly ? "trust" : "scram-sha-256"}`, "--auth-host=scram-sha-256", "--no-sync",
  ]);
  rmSync(pwfile);

  let certFile: string | undefined;
  const conf: Record<string, string> = {
    port: String(port),
    listen_addresses: options.socketOnly ? "''" : "'127.0.0.1'",
    unix_socket_directories: `'${socketDir}'`,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "200",
    shared_buffers: "128MB",
    log_min_messages: "warning",
    ...options.settings,
  };
  if (options.tls) {
    certFile = join(dataDir, "server.crt");
    const keyFile = join(dataDir, "server.key");
    if (options.certificate) {
      copyFileSync(options.certificate.cert, certFile);
      copyFileSync(options.certificate.key, keyFile);
      if (options.certificate.ca) {
        copyFileSync(options.certificate.ca, join(dataDir, "root.crt"));
        own(join(dataDir, "root.crt"));
        conf.ssl_ca_file = `'${join(dataDir, "root.crt")}'`;
      }
    } else {
      const gen = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", keyFile, "-out", certFile], { encoding: "utf8" });
      if (gen.status !== 0) throw new Error(`openssl failed: ${gen.stderr}`);
    }
    chmodSync(keyFile, 0o600);
    own(keyFile);
    own(certFile);
    conf.ssl = "on";
    conf.ssl_cert_file = `'${certFile}'`;
    conf.ssl_key_file = `'${keyFile}'`;
  }
  writeFileSync(join(dataDir, "postgresql.auto.conf"), Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n");
  if (options.hba) writeFileSync(join(dataDir, "pg_hba.conf"), `${options.hba.join("\n")}\n${readFileSync(join(dataDir, "pg_hba.conf"), "utf8")}`);
  own(join(dataDir, "postgresql.auto.conf"));

  const logFile = join(root, "server.log");
  const cluster: Cluster = {
    host: options.socketOnly ? socketDir : "127.0.0.1",
    port,
    socketDir,
    dataDir,
    user: "postgres",
    password,
    certFile,
    url: (database = "postgres") => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    start() {
      runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"]);
    },
    stop(mode = "fast") {
      if (existsSync(join(dataDir, "postmaster.pid"))) {
        runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);
      }
    },
    promote() {
      runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-w", "-t", "60", "promote"]);
    },
    destroy() {
      try {
        cluster.stop("immediate");
      } catch {
        // already gone
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (options.start !== false) cluster.start();
  return cluster;
}

/**
 * A hot standby of `primary`, as an admin makes one: pg_basebackup -R (which writes standby.signal and the
 * primary_conninfo) into a new data directory, its own port and socket directory, hot_standby=on. It streams from
 * the primary until promoted. The same roles and password as the primary; destroy() removes it.
 */
export async function createStandby(primary: Cluster, options: { port?: number; start?: boolean } = {}): Promise<Cluster> {
  const bin = findPgBin();
  const root = mkdtempSync(join(tmpdir(), "netraven-pg-"));
  chmodSync(root, 0o755);
  own(root);
  const dataDir = join(root, "data");
  const socketDir = join(root, "sock");
  execFileSync("mkdir", ["-p", socketDir]);
  own(socketDir);
  const port = options.port ?? (await freePort());
  try {
    runAsServerUser(join(bin, "pg_basebackup"), ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", dataDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"], {
      env: { PGPASSWORD: primary.password, PGSSLMODE: "disable" },
    });
    // pg_basebackup copied the primary's postgresql.auto.conf and appended primary_conninfo; later lines win.
    const conf: Record<string, string> = { port: String(port), unix_socket_directories: `'${socketDir}'`, hot_standby: "on" };
    if (primary.certFile) {
      conf.ssl_cert_file = `'${join(dataDir, "server.crt")}'`;
      conf.ssl_key_file = `'${join(dataDir, "server.key")}'`;
    }
    appendFileSync(join(dataDir, "postgresql.auto.conf"), Object.entries(conf).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n");
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  const logFile = join(root, "server.log");
  const standby: Cluster = {
    host: "127.0.0.1",
    port,
    socketDir,
    dataDir,
    user: primary.user,
    password: primary.password,
    certFile: primary.certFile ? join(dataDir, "server.crt") : undefined,
    url: (database = "postgres") => `postgresql://postgres:${encodeURIComponent(primary.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    start() {
      runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"]);
    },
    stop(mode = "fast") {
      if (existsSync(join(dataDir, "postmaster.pid"))) runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);
    },
    promote() {
      runAsServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-w", "-t", "60", "promote"]);
    },
    destroy() {
      try {
        standby.stop("immediate");
      } catch {
        // already gone
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (options.start !== false) {
    try {
      standby.start();
    } catch (error) {
      standby.destroy();
      throw error;
    }
  }
  return standby;
}
