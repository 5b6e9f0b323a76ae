// The only importer of postgres.js. Builds clients from explicit, already-validated settings (postgres.js never
// falls back to its own env/URL parsing), waits for a server that is not up yet, and turns driver and server
// errors into NetravenErrors with one-line messages.
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import postgres from "postgres";
import { describeServer, type ConnectionSettings, type RetrySettings } from "./config.ts";
import { NetravenError } from "./errors.ts";
import { describeFsError } from "./files.ts";
import { log } from "./log.ts";

export type Sql = postgres.Sql<Record<string, never>>;
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;
/** Either a pool or a transaction: what query helpers accept. */
export type Queryable = Sql | TransactionSql;

export interface ServerInfo {
  version: string;
  versionNum: number;
  user: string;
  database: string;
  isSuperuser: boolean;
}

export interface Connection {
  sql: Sql;
  server: ServerInfo;
  settings: ConnectionSettings;
  close(): Promise<void>;
}

function tlsOptions(settings: ConnectionSettings): postgres.Options<Record<string, never>>["ssl"] {
  if (settings.host.startsWith("/")) return false; // libpq ignores sslmode on unix sockets
  switch (settings.sslmode) {
    case "disable":
      return false;
    case "allow":
    case "prefer":
      return "prefer";
    case "require":
      return "require";
    case "verify-ca":
    case "verify-full": {
      const read = (file: string | undefined, what: string) => {
        if (!file || file === "system") return undefined;
        try {
          return readFileSync(file);
        } catch (error) {
          throw new NetravenError("CONFIG_INVALID", `${what}: cannot read ${file}: ${describeFsError(error)}`);
        }
      };
      return {
        rejectUnauthorized: true,
        host: settings.host,
        ca: read(settings.sslrootcert, "sslrootcert"),
        cert: read(settings.sslcert, "sslcert"),
        key: read(settings.sslkey, "sslkey"),
        ...(settings.sslmode === "verify-ca" ? { checkServerIdentity: () => undefined } : {}),
      };
    }
  }
}

export function createClient(settings: ConnectionSettings, options: { max?: number; database?: string } = {}): Sql {
  return postgres({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    pass: settings.password ?? "",
    database: options.database ?? settings.database,
    ssl: tlsOptions(settings),
    max: options.max ?? 1,
    connect_timeout: settings.connectTimeoutSeconds,
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    prepare: true,
    onnotice: (notice) => log.debug(`server notice: ${notice.message}`),
    connection: { application_name: settings.applicationName },
    // postgres.js would otherwise read PGSSL*, PGMAX... behind our back.
    debug: false,
  } as postgres.Options<Record<string, never>>) as unknown as Sql;
}

type Classified = { retry: true; reason: string } | { retry: false; error: NetravenError };

const RETRYABLE_NETWORK = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ECONNRESET",
  "EPIPE",
  "EADDRNOTAVAIL",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
]);
const RETRYABLE_SQLSTATE: Record<string, string> = {
  "57P03": "the server is starting up",
  "53300": "too many connections",
  "57P01": "the server is shutting down",
  "57P02": "the server crashed and is restarting",
  "08006": "connection failure",
  "08001": "the server could not establish the connection",
};
const NETWORK_REASON: Record<string, string> = {
  ECONNREFUSED: "connection refused (is the server running and listening there?)",
  ENOENT: "no unix socket there yet",
  ETIMEDOUT: "connection timed out",
  CONNECT_TIMEOUT: "connection timed out",
  ENOTFOUND: "host name does not resolve (yet)",
  EAI_AGAIN: "host name lookup failed temporarily",
  ECONNRESET: "connection reset by the server",
  CONNECTION_CLOSED: "the server closed the connection",
};

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO/;

function pgCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errno?: unknown };
  return typeof e?.code === "string" ? e.code : typeof e?.errno === "string" ? e.errno : undefined;
}

function isServerError(error: unknown): error is { code: string; message: string; severity?: string; detail?: string; hint?: string } {
  const e = error as { severity?: unknown; code?: unknown };
  return typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e?.severity === "string";
}

export function classifyConnectError(error: unknown, settings: ConnectionSettings): Classified {
  const code = pgCode(error);
  const where = describeServer(settings);
  const message = (error as Error)?.message ?? String(error);
  if (isServerError(error)) {
    if (RETRYABLE_SQLSTATE[error.code]) return { retry: true, reason: `${RETRYABLE_SQLSTATE[error.code]} (SQLSTATE ${error.code})` };
    if (error.code === "28P01")
      return { retry: false, error: new NetravenError("AUTH_FAILED", `password authentication failed for user "${settings.user}" at ${where}`, { hint: "check PGPASSWORD / PGPASSWORD_FILE / the URL password" }) };
    if (error.code === "28000")
      return { retry: false, error: new NetravenError("AUTH_FAILED", `the server refused user "${settings.user}" at ${where}: ${error.message}`) };
    if (error.code === "3D000")
      return { retry: false, error: new NetravenError("DATABASE_NOT_FOUND", `database "${settings.database}" does not exist at ${where}`, { hint: "create it first, or fix the database name in the URL / PGDATABASE" }) };
    if (error.code === "42501") return { retry: false, error: new NetravenError("PERMISSION_DENIED", `permission denied connecting to ${where}: ${error.message}`) };
    return { retry: false, error: new NetravenError("CONNECT_FAILED", `cannot connect to ${where}: ${error.message} (SQLSTATE ${error.code})`) };
  }
  if (code && TLS_CODES.test(code)) {
    return { retry: false, error: new NetravenError("TLS_FAILED", `TLS failed with ${where} (sslmode=${settings.sslmode}): ${message}`, { hint: "check sslmode and sslrootcert" }) };
  }
  if (/certificate|ssl|tls/i.test(message) && !RETRYABLE_NETWORK.has(code ?? "")) {
    return { retry: false, error: new NetravenError("TLS_FAILED", `TLS failed with ${where} (sslmode=${settings.sslmode}): ${message}`) };
  }
  if (code && RETRYABLE_NETWORK.has(code)) return { retry: true, reason: NETWORK_REASON[code] ?? code };
  if (code === "SASL_SIGNATURE_MISMATCH" || code === "AUTH_TYPE_NOT_IMPLEMENTED") {
    return { retry: false, error: new NetravenError("AUTH_FAILED", `authentication with ${where} failed: ${message}`) };
  }
  return { retry: false, error: new NetravenError("CONNECT_FAILED", `cannot connect to ${where}: ${message}`) };
}

export function backoffDelay(attempt: number, retry: RetrySettings, random = Math.random): number {
  const base = Math.min(retry.maxIntervalMs, retry.intervalMs * 1.5 ** (attempt - 1));
  // ±20% jitter so twenty containers that start together do not knock in lockstep.
  return Math.round(base * (0.8 + 0.4 * random()));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function probe(sql: Sql): Promise<ServerInfo> {
  const [row] = await sql<{ version: string; version_num: number; usr: string; db: string; su: boolean }[]>`
    select current_setting('server_version') as version,
           current_setting('server_version_num')::int as version_num,
           current_user as usr, current_database() as db,
           (select rolsuper from pg_roles where rolname = current_user) as su`;
  return { version: row!.version, versionNum: row!.version_num, user: row!.usr, database: row!.db, isSuperuser: Boolean(row!.su) };
}

/**
 * Asks the server whether it speaks TLS (the 8-byte SSLRequest; the answer is one byte, S or N). postgres.js goes
 * ahead with a TLS handshake after an N, which the server answers by closing the socket: that looks like a
 * connection reset and would be retried. Returns undefined when the server cannot be asked (not up yet).
 */
function serverAcceptsTls(host: string, port: number, timeoutMs: number): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (answer: boolean | undefined) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once("error", () => done(undefined));
    socket.once("connect", () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.once("data", (data: Buffer) => done(data[0] === 0x53 ? true : data[0] === 0x4e ? false : undefined));
  });
}

const TLS_REQUIRED = new Set(["require", "verify-ca", "verify-full"]);

/**
 * Ends the client: postgres.js sends Terminate on its next turn, then waits for the server to close the socket,
 * which the caller does not need to see. Resolves once Terminate is on its way (or the end is complete).
 */
async function closeWithoutWaiting(sql: Sql): Promise<void> {
  const ending = sql.end({ timeout: 5 });
  await Promise.race([ending, new Promise((resolve) => setTimeout(resolve, 0))]);
}

/** Connects, retrying only what can heal (server not up yet, socket missing, DNS not resolvable, starting up). */
export async function connect(settings: ConnectionSettings, retry: RetrySettings, options: { max?: number; database?: string } = {}): Promise<Connection> {
  const target = { ...settings, database: options.database ?? settings.database };
  const started = Date.now();
  let lastReason = "";
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    if (TLS_REQUIRED.has(settings.sslmode) && !settings.host.startsWith("/")) {
      if ((await serverAcceptsTls(settings.host, settings.port, settings.connectTimeoutSeconds * 1000)) === false) {
        throw new NetravenError("TLS_FAILED", `TLS failed with ${describeServer(target)} (sslmode=${settings.sslmode}): the server does not accept TLS connections`, {
          hint: "enable ssl on the server, or use sslmode=prefer/disable",
        });
      }
    }
    const sql = createClient(settings, options);
    try {
      const server = await probe(sql);
      if (attempt > 1) log.info(`Connected to ${describeServer(target)} after ${attempt} attempts (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return { sql, server, settings: target, close: () => closeWithoutWaiting(sql) };
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => undefined);
      const verdict = classifyConnectError(error, target);
      if (!verdict.retry) throw verdict.error;
      lastReason = verdict.reason;
      if (attempt < retry.attempts) {
        const delay = backoffDelay(attempt, retry);
        log.info(`Waiting for PostgreSQL at ${describeServer(target)} (attempt ${attempt}/${retry.attempts}): ${verdict.reason}; retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
      }
    }
  }
  const waited = ((Date.now() - started) / 1000).toFixed(1);
  throw new NetravenError("CONNECT_FAILED", `cannot connect to ${describeServer(target)}: ${lastReason}; gave up after ${retry.attempts} attempt${retry.attempts === 1 ? "" : "s"} over ${waited} s`, {
    hint: "start the server, or wait longer with --retry N / --retry-interval S",
  });
}

/** Server and driver errors after connecting → NetravenError (SQLSTATE kept in the message). */
export function translateError(error: unknown, doing: string): NetravenError {
  if (error instanceof NetravenError) return error;
  if (isServerError(error)) {
    const suffix = `${error.detail ? ` (${error.detail})` : ""} [SQLSTATE ${error.code}]`;
    // The server's hint names the missing privilege ("Must have CREATE privilege on current database ...").
    if (error.code === "42501") return new NetravenError("PERMISSION_DENIED", `${doing}: permission denied: ${error.message}${suffix}`, { cause: error, hint: error.hint });
    if (error.code === "55P03") {
      return new NetravenError("LOCK_TIMEOUT", `${doing}: timed out waiting for a table lock held by another session: ${error.message}${suffix}`, { cause: error, hint: "stop the app (or wait for its transactions to end) and try again, or raise --lock-timeout" });
    }
    if (/^(57P0[123]|08)/.test(error.code)) return new NetravenError("CONNECTION_LOST", `${doing}: the server ended the connection: ${error.message}${suffix}`, { cause: error });
    return new NetravenError("SQL_FAILED", `${doing}: ${error.message}${suffix}`, { cause: error });
  }
  const code = pgCode(error);
  if (code && RETRYABLE_NETWORK.has(code)) {
    return new NetravenError("CONNECTION_LOST", `${doing}: lost the connection to the server (${NETWORK_REASON[code] ?? code})`, { cause: error });
  }
  return new NetravenError("INTERNAL", `${doing}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

export { quoteIdent, quoteLiteral } from "./quote.ts";
