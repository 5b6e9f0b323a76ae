// The only importer of postgres.js. A client talks to exactly one host, over the stream connection/socket.ts opens
// (postgres.js's own host lists and target_session_attrs are never used: connection/connect.ts picks the host, so
// it can say why each one was skipped). Here: building that client from explicit settings (postgres.js never falls
// back to its own env/URL parsing), asking a new session what server it is, and turning driver and server errors
// into NetravenErrors with one-line messages that name the host that answered.
import type postgres from "postgres";
import type { RetrySettings } from "./config.ts";
import { describeHost, type ConnectionSettings, type HostTarget } from "./connection/settings.ts";
import { deliberateFailure, failStream, forgetDeliberateFailure, openStream, streamAddress, streamError, type Stream } from "./connection/socket.ts";
import { Errors, isNetravenError, NetravenError } from "./errors.ts";
import { log } from "./log.ts";

export type Sql = postgres.Sql<Record<string, never>>;
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;
/** Either a pool or a transaction: what query helpers accept. */
export type Queryable = Sql | TransactionSql;

/** What a new session found out about the server it reached. */
export interface ServerInfo {
  version: string;
  versionNum: number;
  user: string;
  database: string;
  isSuperuser: boolean;
  /** The host that answered, as the settings name it (a socket directory for a unix socket). */
  host: string;
  hostaddr?: string;
  /** The IP address actually connected to (libpq's PQhostaddr); undefined for a unix socket. */
  address?: string;
  port: number;
  socket: boolean;
  /** pg_is_in_recovery(): true on a standby (and on a server whose promotion has not finished). */
  inRecovery: boolean;
  /** transaction_read_only of a new session: a standby, or a server with default_transaction_read_only on. */
  readOnly: boolean;
  /** pg_last_xact_replay_timestamp() when the session started, ISO 8601 in UTC; null when nothing was replayed. */
  replayTimestamp: string | null;
  applicationName: string;
  clientEncoding: string;
  statementTimeout: string;
  /** The TLS protocol version of this session (TLSv1.3), or null without TLS. */
  tlsVersion: string | null;
}

export interface Connection {
  sql: Sql;
  server: ServerInfo;
  settings: ConnectionSettings;
  close(): Promise<void>;
  /** One more connection to the server that answered (same host, database and settings), for parallel work. */
  another(): Sql;
  /** The answer to ConnectOptions.firstQuery, when one was asked. */
  firstResult?: Promise<unknown>;
}

/** A postgres.js client bound to one host; `abort` ends the connection attempt (connect_timeout, giving up). */
export interface HostClient {
  sql: Sql;
  abort(error: Error & { code: string }): void;
  /** The IP address the stream is connected to, once it is. */
  address(): string | undefined;
  /** Whether the stream is TLS (known once the first query has opened it). */
  encrypted(): boolean;
}

// postgres.js reads PGTARGETSESSIONATTRS from the environment whatever its options say, and would then drop
// connections on its own; host selection is ours (connection/connect.ts).
function withoutVariables<T>(names: string[], make: () => T): T {
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return make();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

/** `native`: connect over Bun's own socket (connection/native-socket.ts), for a command that moves no bulk data. */
// postgres.js is loaded when the first connection is made (loadDriver), after that connection's stream has been
// dialled (connect.ts): evaluating the module (~4 ms in the binary) then overlaps the server starting the session.
let driver: typeof postgres | undefined;

export async function loadDriver(): Promise<void> {
  driver ??= (await import("postgres")).default;
}

export interface ClientOptions {
  database: string;
  max?: number;
  /** Connect over Bun's own socket (connection/native-socket.ts), for a command that moves no bulk data. */
  native?: boolean;
  /** Aborts the connection attempt (connect_timeout); one of the client's own when not given. */
  controller?: AbortController;
  /** The first connection's stream, already being opened (connect.ts dials it before loading postgres.js). */
  firstStream?: Promise<Stream>;
}

/** A password is at hand for this host (the server may ask for one: SCRAM is then worth warming up, socket.ts). */
export const passwordFor = (settings: ConnectionSettings, target: HostTarget): string | undefined => settings.password ?? target.password;

/** Needs loadDriver() first. */
export function createClient(settings: ConnectionSettings, target: HostTarget, options: ClientOptions): HostClient {
  if (!driver) throw new Error("createClient before loadDriver");
  const postgresJs = driver;
  const max = options.max ?? 1;
  const controller = options.controller ?? new AbortController();
  let opened = 0;
  let current: Stream | undefined;
  const password = passwordFor(settings, target);
  forgetDeliberateFailure();
  const sql = withoutVariables(["PGTARGETSESSIONATTRS"], () =>
    postgresJs({
      host: [target.host || target.hostaddr!],
      port: [target.port],
      // postgres.js reconnects on its own after a connection is lost; a command never wants a new session in the
      // middle of its work (its transaction is gone), so each of the `max` connections is opened once.
      socket: async () => {
        if (++opened > max) throw streamError("CONNECTION_CLOSED", "the connection to the server was lost");
        current = await (opened === 1 && options.firstStream ? options.firstStream : openStream(settings, target, controller.signal, { native: options.native, password: Boolean(password) }));
        return current;
      },
      ssl: false,
      sslnegotiation: null,
      user: settings.user,
      // Asked only when the server wants a password. With none, libpq stops without sending anything ("no password
      // supplied"); so do we, instead of letting the server log a failed login for an empty password.
      pass: () => {
        if (password) return password;
        if (current) failStream(current, streamError("NO_PASSWORD", "the server asked for a password and none was given"));
        return new Promise<string>(() => undefined);
      },
      database: options.database,
      max,
      connect_timeout: null,
      idle_timeout: 0,
      max_lifetime: null,
      max_pipeline: 100,
      backoff: 0,
      keep_alive: null,
      fetch_types: false,
      prepare: true,
      publications: "alltables",
      onnotice: (notice: postgres.Notice) => log.debug(`server notice: ${notice.message}`),
      connection: { application_name: settings.applicationName, ...(settings.options ? { options: settings.options } : {}) },
      debug: false,
    } as unknown as postgres.Options<Record<string, never>>),
  ) as unknown as Sql;
  return {
    sql,
    abort(error) {
      controller.abort(error);
      if (current) failStream(current, error);
    },
    address: () => (target.socket || !current ? undefined : streamAddress(current)),
    encrypted: () => Boolean(current && (current as { encrypted?: boolean }).encrypted),
  };
}

/**
 * What the new session's server is; one round trip, also what target_session_attrs is judged by. Only settings and
 * functions: on a new backend every catalog or view a query names costs its cold cache (pg_roles and pg_stat_ssl
 * took the server 4 ms of a 7 ms probe), so superuser comes from the is_superuser setting (it follows current_user)
 * and the TLS version is asked for only when the stream is TLS.
 */
export async function probe(client: Pick<HostClient, "sql" | "encrypted">, target: HostTarget): Promise<ServerInfo> {
  const [row] = await client.sql<
    {
      version: string;
      version_num: number;
      usr: string;
      db: string;
      su: string;
      in_recovery: boolean;
      read_only: string;
      replayed_at: string | null;
      application_name: string;
      client_encoding: string;
      statement_timeout: string;
    }[]
  >`
    select current_setting('server_version') as version,
           current_setting('server_version_num')::int as version_num,
           current_user as usr, current_database() as db,
           current_setting('is_superuser') as su,
           pg_is_in_recovery() as in_recovery,
           current_setting('transaction_read_only') as read_only,
           to_char(pg_last_xact_replay_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as replayed_at,
           current_setting('application_name') as application_name,
           current_setting('client_encoding') as client_encoding,
           current_setting('statement_timeout') as statement_timeout`;
  const tls = client.encrypted() ? (await client.sql<{ version: string | null }[]>`select version from pg_stat_ssl where pid = pg_backend_pid() and ssl`)[0] : undefined;
  return {
    version: row!.version,
    versionNum: row!.version_num,
    user: row!.usr,
    database: row!.db,
    isSuperuser: row!.su === "on",
    host: target.host,
    hostaddr: target.hostaddr,
    port: target.port,
    socket: target.socket,
    inRecovery: Boolean(row!.in_recovery),
    readOnly: row!.read_only === "on",
    replayTimestamp: row!.replayed_at,
    applicationName: row!.application_name,
    clientEncoding: row!.client_encoding,
    statementTimeout: row!.statement_timeout,
    tlsVersion: tls?.version ?? null,
  };
}

/** Why a host was skipped: a short word for the retry line ("refused"), and the sentence for a single host. */
export interface Skip {
  kind: "skip";
  word: string;
  detail: string;
}

export type Verdict = Skip | { kind: "fatal"; error: NetravenError };

const NETWORK: Record<string, [string, string]> = {
  ECONNREFUSED: ["refused", "connection refused (is the server running and listening there?)"],
  ENOENT: ["no socket", "no unix socket there yet"],
  ETIMEDOUT: ["timeout", "connection timed out"],
  CONNECT_TIMEOUT: ["timeout", "no answer within connect_timeout"],
  ENOTFOUND: ["unknown host", "host name does not resolve (yet)"],
  EAI_AGAIN: ["unknown host", "host name lookup failed temporarily"],
  ECONNRESET: ["reset", "connection reset by the server"],
  EPIPE: ["reset", "connection reset by the server"],
  EHOSTUNREACH: ["unreachable", "no route to the host"],
  ENETUNREACH: ["unreachable", "network unreachable"],
  EHOSTDOWN: ["unreachable", "host is down"],
  EADDRNOTAVAIL: ["unreachable", "address not available"],
  CONNECTION_CLOSED: ["closed", "the server closed the connection"],
  CONNECTION_DESTROYED: ["closed", "the connection was closed"],
  CONNECTION_ENDED: ["closed", "the connection was closed"],
  SERVER_SILENT: ["timeout", "the server stopped answering"],
};
const RETRYABLE_SQLSTATE: Record<string, [string, string]> = {
  "57P03": ["starting up", "the server is starting up"],
  "53300": ["too many connections", "too many connections"],
  "57P01": ["shutting down", "the server is shutting down"],
  "57P02": ["restarting", "the server crashed and is restarting"],
  "08006": ["failed", "connection failure"],
  "08001": ["failed", "the server could not establish the connection"],
};

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO|TLS_/;

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errno?: unknown };
  return typeof e?.code === "string" ? e.code : typeof e?.errno === "string" ? e.errno : undefined;
}

const CLOSED = new Set(["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED"]);

/** postgres.js's "connection closed" when we closed it on purpose: the reason we had (socket.ts). */
function realCause(error: unknown): unknown {
  return CLOSED.has(errorCode(error) ?? "") ? (deliberateFailure() ?? error) : error;
}

function isServerError(error: unknown): error is { code: string; message: string; severity?: string; detail?: string; hint?: string } {
  const e = error as { severity?: unknown; code?: unknown };
  return typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) && typeof e?.severity === "string";
}

/** Where netraven-db looks for a password, for "no password supplied". */
function passwordPlaces(settings: ConnectionSettings): string {
  const service = settings.service ? `, service "${settings.service.name}" in ${settings.service.file}` : "";
  return `the connection string (--url, NETRAVEN_DB_URL, DATABASE_URL)${service}, PGPASSWORD, PGPASSWORD_FILE and ${settings.passfile ? `the password file ${settings.passfile}` : "a password file (none: no home directory for ~/.pgpass)"} (passfile / PGPASSFILE)`;
}

/** A failed connection attempt to one host: skip to the next host (and maybe retry later), or stop. */
export function classifyConnectError(reported: unknown, settings: ConnectionSettings, target: HostTarget, database: string): Verdict {
  const error = realCause(reported);
  if (isNetravenError(error)) return { kind: "fatal", error };
  const code = errorCode(error);
  const host = describeHost(target);
  const where = `${settings.user}@${host}/${database}`;
  const message = (error as Error)?.message ?? String(error);
  if (isServerError(error)) {
    const retryable = RETRYABLE_SQLSTATE[error.code];
    if (retryable) return { kind: "skip", word: retryable[0], detail: `${retryable[1]} (SQLSTATE ${error.code})` };
    if (error.code === "28P01") {
      const fromFile = !settings.password && target.password !== undefined;
      return {
        kind: "fatal",
        error: Errors.authFailed(`password authentication failed for user "${settings.user}" at ${where}${fromFile ? ` (password from ${settings.passfile})` : ""}`, "check PGPASSWORD / PGPASSWORD_FILE / the URL password / the password file", error),
      };
    }
    if (error.code === "28000") return { kind: "fatal", error: Errors.authFailed(`the server refused user "${settings.user}" at ${where}: ${error.message}`, undefined, error) };
    if (error.code === "3D000") return { kind: "fatal", error: Errors.databaseNotFound(database, `${settings.user}@${host}`) };
    if (error.code === "42501") return { kind: "fatal", error: Errors.permissionDenied(`permission denied connecting to ${where}: ${error.message}`, undefined, error) };
    return { kind: "fatal", error: Errors.cannotConnect(where, `${error.message} (SQLSTATE ${error.code})`) };
  }
  if (code === "NO_PASSWORD") return { kind: "fatal", error: Errors.noPassword(settings.user, host, passwordPlaces(settings)) };
  if (code === "TLS_REFUSED") return { kind: "fatal", error: Errors.tlsFailed(where, settings.sslmode, message, "enable ssl on the server, or use sslmode=prefer/disable") };
  if (code && (TLS_CODES.test(code) || (/certificate|ssl|tls/i.test(message) && !NETWORK[code]))) {
    return { kind: "fatal", error: Errors.tlsFailed(where, settings.sslmode, message, "check sslmode and sslrootcert") };
  }
  if (code && NETWORK[code]) return { kind: "skip", word: NETWORK[code][0], detail: NETWORK[code][1] };
  if (code === "SASL_SIGNATURE_MISMATCH" || code === "AUTH_TYPE_NOT_IMPLEMENTED") {
    return { kind: "fatal", error: Errors.authFailed(`authentication with ${where} failed: ${message}`) };
  }
  return { kind: "fatal", error: Errors.cannotConnect(where, message) };
}

export function backoffDelay(attempt: number, retry: Pick<RetrySettings, "intervalMs" | "maxIntervalMs">, random = Math.random): number {
  const base = Math.min(retry.maxIntervalMs, retry.intervalMs * 1.5 ** (attempt - 1));
  // ±20% jitter so twenty containers that start together do not knock in lockstep.
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Ends the client: postgres.js sends Terminate on its next turn, then waits for the server to close the socket,
 * which the caller does not need to see. Resolves once Terminate is on its way (or the end is complete).
 */
export async function closeWithoutWaiting(sql: Sql): Promise<void> {
  const ending = sql.end({ timeout: 5 });
  await Promise.race([ending, new Promise((resolve) => setTimeout(resolve, 0))]);
}

/** Server and driver errors after connecting → NetravenError (SQLSTATE kept in the message). */
export function translateError(reported: unknown, doing: string): NetravenError {
  if (reported instanceof NetravenError) return reported;
  const error = realCause(reported);
  if (isServerError(error)) {
    const suffix = `${error.detail ? ` (${error.detail})` : ""} [SQLSTATE ${error.code}]`;
    // The server's hint names the missing privilege ("Must have CREATE privilege on current database ...").
    if (error.code === "42501") return new NetravenError("PERMISSION_DENIED", `${doing}: permission denied: ${error.message}${suffix}`, { cause: error, hint: error.hint });
    if (error.code === "55P03") {
      return new NetravenError("LOCK_TIMEOUT", `${doing}: timed out waiting for a table lock held by another session: ${error.message}${suffix}`, { cause: error, hint: "stop the app (or wait for its transactions to end) and try again, or raise --lock-timeout" });
    }
    if (/^(57P0[123]|08)/.test(error.code)) return Errors.connectionLost(doing, `the server ended the connection: ${error.message}${suffix}`, error);
    return new NetravenError("SQL_FAILED", `${doing}: ${error.message}${suffix}`, { cause: error });
  }
  const code = errorCode(error);
  // The watchdog's message already names the server and what it waited for.
  if (code === "SERVER_SILENT") return Errors.connectionLost(doing, (error as Error).message, error);
  if (code && NETWORK[code]) return Errors.connectionLost(doing, `lost the connection to the server (${NETWORK[code][1]})`, error);
  return new NetravenError("INTERNAL", `${doing}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
