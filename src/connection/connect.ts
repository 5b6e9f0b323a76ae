// The connect loop: tries the hosts in order (or shuffled, load_balance_hosts=random), one at a time with
// connect_timeout each, and skips a host that is down, refuses, times out or is the wrong kind of server for
// target_session_attrs and the command, as libpq does; a failure that retrying cannot fix (password, role, database,
// TLS) stops at once. When every host was skipped for a reason that can heal (a server not up yet; with --retry,
// also a standby where the primary is needed: a promotion may be under way), it waits and tries the whole list
// again. Each wait is one line naming every host tried and why it was skipped.
import type { RetrySettings } from "../config.ts";
import { backoffDelay, classifyConnectError, closeWithoutWaiting, createClient, loadDriver, passwordFor, probe, type Connection, type HostClient, type Sql } from "../db.ts";
import { Errors } from "../errors.ts";
import { log } from "../log.ts";
import { quoteValue } from "./conninfo.ts";
import type { TargetSessionAttrs } from "./parameters.ts";
import { describeHost, describeServer, type ConnectionSettings, type HostTarget } from "./settings.ts";
import { openStream, streamError } from "./socket.ts";
import { effectiveTarget, mismatch, orderHosts, type Needs } from "./target.ts";

export interface ConnectOptions {
  /** What the command needs: "primary" (it writes) or "any" (what target_session_attrs allows). */
  needs: Needs;
  /** The command, for messages: "init needs the writable primary". */
  command?: string;
  /** Connect to this database instead of the settings' one (restore --target-db). */
  database?: string;
  max?: number;
  /** Say so when needs "primary" overrides the string's target_session_attrs (off for a helper connection). */
  explainOverride?: boolean;
  /**
   * A read-only query sent right behind the probe, in the same round trip (init's fast path): its promise becomes
   * the connection's `firstResult`. On a host that is skipped it is simply dropped.
   */
  firstQuery?: (sql: Sql) => Promise<unknown>;
  /**
   * Connect over Bun's own socket instead of node:net (native-socket.ts): ~7 ms less start-up, for a command that
   * moves no bulk data. Connections from `another()` always use node:net.
   */
  native?: boolean;
}

/** One host that was tried and skipped. `role` is set when the server answered but is the wrong kind. */
interface Tried {
  target: HostTarget;
  word: string;
  detail: string;
  role?: string;
}

const ROLE_SENTENCE: Record<string, string> = {
  standby: "is a standby in recovery",
  "read-only": "is read-only (default_transaction_read_only is on)",
  primary: "is a primary, not a standby",
  "read-write": "is not read-only",
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type PerClient = Pick<ConnectOptions, "firstQuery" | "native">;

async function tryHost(settings: ConnectionSettings, target: HostTarget, wanted: TargetSessionAttrs, database: string, max: number, { firstQuery, native }: PerClient): Promise<Connection | Tried> {
  const controller = new AbortController();
  let client: HostClient | undefined;
  const seconds = settings.connectTimeoutSeconds;
  // libpq's connect_timeout: per host, for everything up to a usable session.
  const timer =
    seconds === null
      ? undefined
      : setTimeout(() => {
          const error = streamError("CONNECT_TIMEOUT", `no answer within connect_timeout (${seconds} s)`);
          if (client) client.abort(error);
          else controller.abort(error);
        }, seconds * 1000);
  // Dialled before postgres.js is loaded (the first time): the server forks and starts the session meanwhile.
  const firstStream = openStream(settings, target, controller.signal, { native, password: Boolean(passwordFor(settings, target)) });
  // Handled here so a failure is not an unhandled rejection before postgres.js awaits it; postgres.js still sees it.
  firstStream.catch(() => undefined);
  try {
    await loadDriver();
    client = createClient(settings, target, { database, max, native, controller, firstStream });
    const probing = probe(client, target);
    const firstResult = firstQuery?.(client.sql);
    // Handled here so a skipped host's failure is not an unhandled rejection; the caller still sees it.
    firstResult?.catch(() => undefined);
    const server = { ...(await probing), address: client.address() };
    const role = mismatch(wanted, server);
    const sql = client.sql;
    if (role) {
      await closeWithoutWaiting(sql);
      return { target, word: role, detail: `the server ${ROLE_SENTENCE[role]}`, role };
    }
    return {
      sql,
      server,
      settings: { ...settings, database },
      close: () => closeWithoutWaiting(sql),
      firstResult,
      another: () => createClient(settings, target, { database }).sql,
    };
  } catch (error) {
    if (client) await client.sql.end({ timeout: 0 }).catch(() => undefined);
    else void firstStream.then((stream) => stream.destroy(), () => undefined);
    const verdict = classifyConnectError(error, settings, target, database);
    if (verdict.kind === "fatal") throw verdict.error;
    return { target, word: verdict.word, detail: verdict.detail };
  } finally {
    clearTimeout(timer);
  }
}

const isConnection = (result: Connection | Tried): result is Connection => "sql" in result;
const listTried = (tried: Tried[]) => tried.map((t) => `${describeHost(t.target)} ${t.word}`).join(", ");
const hostsDetail = (tried: Tried[]) => ({ hosts_tried: tried.map((t) => ({ host: describeHost(t.target), result: t.word })) });

/** One attempt over the host list: the connection, or every host with why it was skipped. */
async function tryAll(settings: ConnectionSettings, wanted: TargetSessionAttrs, database: string, max: number, perClient: PerClient): Promise<Connection | Tried[]> {
  const tried: Tried[] = [];
  for (const target of orderHosts(settings.hosts, settings.loadBalanceHosts)) {
    const result = await tryHost(settings, target, wanted, database, max, perClient);
    if (isConnection(result)) return result;
    log.debug(`skipped ${describeHost(target)}: ${result.detail}`);
    tried.push(result);
  }
  if (wanted === "prefer-standby") {
    // libpq's second pass: no standby answered, so any server will do; only those that answered can be used now.
    for (const [index, skipped] of tried.entries()) {
      if (!skipped.role) continue;
      const result = await tryHost(settings, skipped.target, "any", database, max, perClient);
      if (isConnection(result)) return result;
      tried[index] = result;
    }
  }
  return tried;
}

/** The debug line a test (and an admin with --verbose) compares with what psql reports for the same string. */
function describeSession(connection: Connection, wanted: TargetSessionAttrs): string {
  const s = connection.server;
  // As psql's \conninfo shows them: the host as named (none for hostaddr alone), and the address actually
  // connected to (PQhostaddr) when it differs from that.
  const host = s.host || undefined;
  const pairs: Array<[string, string | undefined]> = [
    ["host", host],
    ["hostaddr", s.address && s.address !== host ? s.address : undefined],
    ["port", String(s.port)],
    ["dbname", s.database],
    ["user", s.user],
    ["target_session_attrs", wanted],
    ["in_recovery", s.inRecovery ? "on" : "off"],
    ["transaction_read_only", s.readOnly ? "on" : "off"],
    ["application_name", s.applicationName],
    ["client_encoding", s.clientEncoding],
    ["statement_timeout", s.statementTimeout],
    ["ssl", s.tlsVersion ?? "off"],
    ["server_version", s.version],
  ];
  return pairs.flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${quoteValue(value)}`])).join(" ");
}

export async function connect(settings: ConnectionSettings, retry: RetrySettings, options: ConnectOptions): Promise<Connection> {
  const database = options.database ?? settings.database;
  const max = options.max ?? 1;
  const command = options.command ?? "this command";
  const asked = settings.targetSessionAttrs;
  const wanted = effectiveTarget(asked, options.needs);
  if (options.needs === "primary" && options.explainOverride !== false && !["any", "read-write", "primary"].includes(asked)) {
    log.warn(`${command} writes, so it connects to the writable primary; target_session_attrs=${asked} does not apply to it`);
  }
  const all = { ...settings, database };
  const single = settings.hosts.length === 1;
  const started = Date.now();
  let tried: Tried[] = [];
  let attempt = 0;
  while (attempt < retry.attempts) {
    attempt++;
    const result = await tryAll(settings, wanted, database, max, { firstQuery: options.firstQuery, native: options.native });
    if (!Array.isArray(result)) {
      if (attempt > 1) log.info(`Connected to ${result.server.user}@${describeHost(result.server)}/${database} after ${attempt} attempts (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      log.debug(`connected: ${describeSession(result, wanted)}`);
      return result;
    }
    tried = result;
    // A wrong-role server heals only by a promotion (or a new standby): worth waiting for when asked to wait.
    const canHeal = tried.some((t) => !t.role) || retry.explicit;
    if (!canHeal || attempt === retry.attempts) break;
    const delay = backoffDelay(attempt, retry);
    const why = single ? `${tried[0]!.detail}${tried[0]!.role ? " (a promotion may be under way)" : ""}` : listTried(tried);
    log.info(`Waiting for PostgreSQL${single ? ` at ${describeServer(all)}` : ""} (attempt ${attempt}/${retry.attempts}): ${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    await sleep(delay);
  }
  const waited = attempt > 1 ? `; gave up after ${attempt} attempts over ${((Date.now() - started) / 1000).toFixed(1)} s` : "";
  const retryHint = "start the server, or wait longer with --retry N / --retry-interval S";
  if (tried.every((t) => t.role)) {
    const first = tried[0]!;
    const subject = single ? `${settings.user}@${describeHost(first.target)}/${database} ${ROLE_SENTENCE[first.role!]}` : `no ${wanted === "read-only" || wanted === "standby" ? "standby" : "writable primary"} among ${describeServer(all)}: ${listTried(tried)}`;
    if (wanted === "read-only" || wanted === "standby") {
      throw Errors.notStandby(`${subject}, and target_session_attrs=${wanted} asks for a standby${waited}`, "list a standby in the connection string, or use target_session_attrs=prefer-standby to fall back to the primary", hostsDetail(tried));
    }
    const needsWhat = options.needs === "primary" ? `${command} needs the writable primary` : `target_session_attrs=${wanted} asks for the writable primary`;
    throw Errors.notPrimary(
      `${subject}, and ${needsWhat}: list the primary in the connection string, or all hosts with target_session_attrs=read-write${waited}`,
      retry.explicit ? retryHint : "during a failover, wait for the promotion with --retry N",
      hostsDetail(tried),
    );
  }
  const reasons = single ? tried[0]!.detail : listTried(tried);
  const gaveUp = `; gave up after ${attempt} attempt${attempt === 1 ? "" : "s"} over ${((Date.now() - started) / 1000).toFixed(1)} s`;
  throw Errors.cannotConnect(describeServer(all), `${reasons}${gaveUp}`, retryHint, hostsDetail(tried));
}
