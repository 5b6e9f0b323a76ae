// Resolves the connection settings the way libpq does, so every string and variable an admin already uses for psql
// means the same here: the connection string (--url, else NETRAVEN_DB_URL, else DATABASE_URL; each also *_FILE),
// then the service file for what the string leaves out, then the PG* variables, then defaults. Host, hostaddr and
// port are lists (one port for all hosts, or one per host; an empty element means the default), each host gets its
// own password file lookup, and every value is checked once here with a message naming where it came from.
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { readEnvOrFile, type Env } from "../config.ts";
import { DEFAULTS } from "../defaults.ts";
import { Errors } from "../errors.ts";
import { registerSecret } from "../secrets.ts";
import { isUrl, parseConnectionString, quoteValue } from "./conninfo.ts";
import { envVariable, isSecret, KEYWORDS, problemWith, TLS_VERSIONS, type ConnInfo, type Keyword, type SslMode, type TargetSessionAttrs } from "./parameters.ts";
import { homeDirectory } from "./home.ts";
import { lookupPgpass, passfilePath } from "./pgpass.ts";
import { readService } from "./service.ts";

export interface HostTarget {
  /** As written: a host name, an IP address or a unix-socket directory. TLS, .pgpass and messages use this name. */
  host: string;
  /** libpq's hostaddr: the numeric address to connect to instead of looking `host` up. */
  hostaddr?: string;
  port: number;
  /** A unix-socket directory (an absolute path, or @name for Linux's abstract namespace). */
  socket: boolean;
  /** This host's line in the password file, when no password was given. */
  password?: string;
}

export interface TlsSettings {
  /** sslrootcert, or ~/.postgresql/root.crt; "system" for the system's trusted roots. */
  rootcert: string;
  rootcertGiven: boolean;
  cert: string;
  key: string;
  password?: string;
  crl: string;
  crlGiven: boolean;
  crldir?: string;
  sni: boolean;
  /** sslcertmode: whether a client certificate may be sent. */
  sendCert: boolean;
  minVersion: (typeof TLS_VERSIONS)[number];
  maxVersion?: (typeof TLS_VERSIONS)[number];
}

/** How a silent server is noticed: TCP keepalive where the runtime lets us set it, and netraven-db's own checks. */
export interface Liveness {
  enabled: boolean;
  idleSeconds: number;
  intervalSeconds: number;
  count: number;
  /** tcp_user_timeout in milliseconds; 0 = not set. */
  userTimeoutMs: number;
}

export interface ConnectionSettings {
  hosts: HostTarget[];
  user: string;
  database: string;
  /** A password given in the string, the service file or PGPASSWORD(_FILE); hosts may have their own from the file. */
  password?: string;
  /** Where the given password came from, for messages ("--url", "PGPASSWORD"). */
  passwordSource?: string;
  /** The password file consulted when no password was given (none without a home directory). */
  passfile?: string;
  sslmode: SslMode;
  tls: TlsSettings;
  /** Per host, as libpq; null waits as long as the network does. */
  connectTimeoutSeconds: number | null;
  applicationName: string;
  /** libpq's `options`: command-line options sent to the server at connection start (`-c name=value`). */
  options?: string;
  liveness: Liveness;
  targetSessionAttrs: TargetSessionAttrs;
  loadBalanceHosts: "disable" | "random";
  /** The service that filled in settings, for messages. */
  service?: { name: string; file: string };
  /** Where the settings came from, for messages: "--url", "DATABASE_URL", "PG* variables". */
  source: string;
  /** True when the password travelled on the command line, where `ps` shows it to every local user. */
  passwordOnCommandLine: boolean;
}

/** libpq's compiled-in DEF_PGPORT. */
export const DEFAULT_PORT = 5432;

function defaultHost(port: number): { host: string; socket: boolean } {
  // libpq on Debian defaults to the unix socket; fall back to TCP localhost where no socket exists.
  for (const dir of ["/var/run/postgresql", "/tmp"]) {
    if (existsSync(join(dir, `.s.PGSQL.${port}`))) return { host: dir, socket: true };
  }
  return { host: "localhost", socket: false };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres";
  }
}

const isSocketPath = (host: string) => host.startsWith("/") || host.startsWith("@");
const listOf = (value: string | undefined) => (value === undefined || value === "" ? undefined : value.split(","));

/** The connection string chosen by precedence, read lazily: a broken DATABASE_URL_FILE must not matter with --url. */
function chooseString(flags: { url?: unknown }, env: Env): { source: string; text: string } | undefined {
  if (flags.url === "") throw Errors.missingValue("--url");
  const flagUrl = typeof flags.url === "string" ? flags.url : undefined;
  const candidates: Array<[string, () => string | undefined]> = [
    ["--url", () => flagUrl],
    ["NETRAVEN_DB_URL", () => readEnvOrFile(env, "NETRAVEN_DB_URL")],
    ["DATABASE_URL", () => readEnvOrFile(env, "DATABASE_URL")],
  ];
  for (const [source, read] of candidates) {
    const text = read();
    if (text !== undefined) return { source, text };
  }
  return undefined;
}

export function resolveConnection(flags: { url?: unknown }, env: Env): ConnectionSettings {
  const chosen = chooseString(flags, env);
  const source = chosen?.source ?? "PG* variables";
  const info: ConnInfo = chosen ? parseConnectionString(chosen.text, chosen.source) : {};
  // Which setting each value came from, so a bad value is blamed on the right one.
  const origin: Partial<Record<Keyword, string>> = {};
  for (const keyword of Object.keys(info) as Keyword[]) origin[keyword] = `connection settings (${source})`;
  const passwordOnCommandLine = source === "--url" && Boolean(info.password);

  // libpq reads an empty PG* variable as unset; every one also works as *_FILE.
  const fromEnv = (keyword: Keyword): string | undefined => {
    const name = envVariable(keyword);
    return name ? readEnvOrFile(env, name, { empty: "unset" }) : undefined;
  };

  const serviceName = info.service ?? fromEnv("service");
  let service: ConnectionSettings["service"];
  if (serviceName) {
    const found = readService(serviceName, env, info.servicefile ?? fromEnv("servicefile"));
    service = { name: found.name, file: found.file };
    for (const entry of found.entries) {
      if (info[entry.keyword] !== undefined) continue;
      info[entry.keyword] = entry.value;
      origin[entry.keyword] = `service "${found.name}" (${entry.where})`;
    }
  }
  let anyVariable = false;
  for (const keyword of KEYWORDS) {
    const value = fromEnv(keyword);
    if (value === undefined) continue;
    anyVariable = true;
    if (info[keyword] !== undefined) continue;
    info[keyword] = value;
    origin[keyword] = envVariable(keyword)!;
  }
  if (!chosen && !anyVariable) throw Errors.noConnectionSettings();

  const bad = (keyword: Keyword, problem: string) => {
    const from = origin[keyword] ?? "connection settings";
    return Errors.config(from, `${keyword} ${problem}`);
  };
  for (const keyword of Object.keys(info) as Keyword[]) {
    const value = info[keyword]!;
    const problem = problemWith(keyword, value);
    if (!problem) continue;
    if (problem.startsWith("not supported: ")) {
      const shown = isSecret(keyword) ? keyword : `${keyword}=${value}`;
      throw Errors.config(origin[keyword] ?? "connection settings", `${shown} is ${problem}`);
    }
    throw bad(keyword, problem);
  }

  const hosts = resolveHosts(info, bad);
  const user = info.user || osUser();
  const database = info.dbname || user;

  // libpq treats an empty password as none given and looks in the password file, per host.
  const password = info.password || undefined;
  const passfile = passfilePath(info.passfile, env);
  if (!password) {
    for (const target of hosts) target.password = lookupPgpass(passfile, { host: target.host || target.hostaddr!, port: target.port, database, user });
  }
  registerSecret(password);
  for (const target of hosts) registerSecret(target.password);
  registerSecret(info.sslpassword);
  if (chosen && isUrl(chosen.text) && info.password !== undefined) registerSecret(encodeURIComponent(info.password));

  const tls = resolveTls(info, env, bad);
  const sslmode = (info.sslmode as SslMode | undefined) ?? (tls.rootcert === "system" ? "verify-full" : "prefer");
  if (tls.rootcert === "system" && sslmode !== "verify-full") {
    throw bad("sslmode", `"${sslmode}" is too weak for sslrootcert=system (the system's roots vouch for any name they signed): use verify-full`);
  }

  const integer = (keyword: Keyword) => (info[keyword] === undefined ? undefined : Number.parseInt(info[keyword]!.trim(), 10));
  // libpq: zero or less waits forever; below 2 s is raised to 2 s, so rounding cannot make it fail at once.
  const timeout = integer("connect_timeout") ?? DEFAULTS.connectTimeoutSeconds;
  const positive = (keyword: Keyword, fallback: number) => {
    const n = integer(keyword);
    return n !== undefined && n > 0 ? n : fallback;
  };

  return {
    hosts,
    user,
    database,
    password,
    passwordSource: password ? origin.password : undefined,
    passfile,
    sslmode,
    tls,
    connectTimeoutSeconds: timeout <= 0 ? null : Math.max(2, timeout),
    applicationName: info.application_name || info.fallback_application_name || "netraven-db",
    options: info.options || undefined,
    liveness: {
      enabled: (integer("keepalives") ?? 1) !== 0,
      idleSeconds: positive("keepalives_idle", DEFAULTS.keepalives.idleSeconds),
      intervalSeconds: positive("keepalives_interval", DEFAULTS.keepalives.intervalSeconds),
      count: positive("keepalives_count", DEFAULTS.keepalives.count),
      userTimeoutMs: Math.max(0, integer("tcp_user_timeout") ?? 0),
    },
    targetSessionAttrs: (info.target_session_attrs as TargetSessionAttrs | undefined) ?? "any",
    loadBalanceHosts: (info.load_balance_hosts as "disable" | "random" | undefined) ?? "disable",
    service,
    source,
    passwordOnCommandLine,
  };
}

/** libpq's pqConnectOptions2: as many hosts as hostaddr (else host) elements; one port for all, or one each. */
function resolveHosts(info: ConnInfo, bad: (keyword: Keyword, problem: string) => Error): HostTarget[] {
  const hostaddrs = listOf(info.hostaddr);
  const names = listOf(info.host);
  const count = hostaddrs?.length ?? names?.length ?? 1;
  if (hostaddrs && names && names.length !== count) throw bad("host", `lists ${names.length} host names for ${count} hostaddr values (libpq needs one name per address)`);
  const ports = listOf(info.port);
  if (ports && ports.length !== 1 && ports.length !== count) throw bad("port", `lists ${ports.length} ports for ${count} hosts (give one port for all hosts, or one per host)`);
  return Array.from({ length: count }, (_, i) => {
    const raw = (ports?.length === 1 ? ports[0] : ports?.[i])?.trim() ?? "";
    if (raw !== "" && !/^\d+$/.test(raw)) throw bad("port", `must be a number (got ${JSON.stringify(raw)})`);
    const port = raw === "" ? DEFAULT_PORT : Number(raw);
    if (port < 1 || port > 65535) throw bad("port", `must be a whole number between 1 and 65535 (got ${JSON.stringify(raw)})`);
    const hostaddr = hostaddrs?.[i] || undefined;
    const name = names?.[i] ?? "";
    if (hostaddr) return { host: name, hostaddr, port, socket: false };
    if (name) return { host: name, port, socket: isSocketPath(name) };
    return { ...defaultHost(port), port };
  });
}

function resolveTls(info: ConnInfo, env: Env, bad: (keyword: Keyword, problem: string) => Error): TlsSettings {
  // libpq's defaults live in ~/.postgresql; a default file that does not exist (or no home) simply is not used.
  const home = homeDirectory(env);
  const dir = home ? join(home, ".postgresql") : "";
  const inDir = (name: string) => (dir ? join(dir, name) : "");
  const minVersion = (info.ssl_min_protocol_version as TlsSettings["minVersion"] | undefined) ?? "TLSv1.2";
  const maxVersion = info.ssl_max_protocol_version as TlsSettings["maxVersion"];
  if (maxVersion && TLS_VERSIONS.indexOf(maxVersion) < TLS_VERSIONS.indexOf(minVersion)) {
    throw bad("ssl_max_protocol_version", `${maxVersion} is below ssl_min_protocol_version ${minVersion}`);
  }
  return {
    rootcert: info.sslrootcert || inDir("root.crt"),
    rootcertGiven: Boolean(info.sslrootcert),
    cert: info.sslcert || inDir("postgresql.crt"),
    key: info.sslkey || inDir("postgresql.key"),
    password: info.sslpassword || undefined,
    crl: info.sslcrl || inDir("root.crl"),
    crlGiven: Boolean(info.sslcrl),
    crldir: info.sslcrldir || undefined,
    sni: (info.sslsni ?? "1") === "1",
    sendCert: (info.sslcertmode ?? "allow") !== "disable",
    minVersion,
    maxVersion,
  };
}

/** One host for messages: `db.example:5432`, `[::1]:5433`, `/var/run/postgresql/.s.PGSQL.5432`, `db (10.0.0.5):5432`. */
export function describeHost(target: Pick<HostTarget, "host" | "hostaddr" | "port" | "socket">): string {
  if (target.socket) return `${target.host}/.s.PGSQL.${target.port}`;
  const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);
  if (target.hostaddr) return target.host ? `${bracket(target.host)} (${target.hostaddr}):${target.port}` : `${bracket(target.hostaddr)}:${target.port}`;
  return `${bracket(target.host)}:${target.port}`;
}

/** How to name the server(s) in messages: never includes the password. */
export function describeServer(settings: { hosts: readonly HostTarget[]; user: string; database: string }): string {
  return `${settings.user}@${settings.hosts.map(describeHost).join(",")}/${settings.database}`;
}

/** The resolved settings as libpq keyword=value pairs, for --verbose (never the password). */
export function describeSettings(settings: ConnectionSettings): string {
  const list = (pick: (h: HostTarget) => string) => settings.hosts.map(pick).join(",");
  const l = settings.liveness;
  const pairs: Array<[string, string | undefined]> = [
    ["host", list((h) => h.host)],
    ["hostaddr", settings.hosts.some((h) => h.hostaddr) ? list((h) => h.hostaddr ?? "") : undefined],
    ["port", list((h) => String(h.port))],
    ["dbname", settings.database],
    ["user", settings.user],
    ["password_source", settings.password ? (settings.passwordSource ?? "given") : settings.hosts.some((h) => h.password) ? "password file" : "none"],
    ["passfile", settings.passfile],
    ["service", settings.service?.name],
    ["sslmode", settings.sslmode],
    ["target_session_attrs", settings.targetSessionAttrs],
    ["load_balance_hosts", settings.loadBalanceHosts],
    ["connect_timeout", settings.connectTimeoutSeconds === null ? "0" : String(settings.connectTimeoutSeconds)],
    ["keepalives", l.enabled ? "1" : "0"],
    ["keepalives_idle", String(l.idleSeconds)],
    ["keepalives_interval", String(l.intervalSeconds)],
    ["keepalives_count", String(l.count)],
    ["tcp_user_timeout", String(l.userTimeoutMs)],
    ["application_name", settings.applicationName],
    ["options", settings.options],
    ["sslsni", settings.tls.sni ? "1" : "0"],
    ["ssl_min_protocol_version", settings.tls.minVersion],
    ["ssl_max_protocol_version", settings.tls.maxVersion],
  ];
  return pairs.flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${quoteValue(value)}`])).join(" ");
}
