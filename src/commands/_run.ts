// The frame every command body runs in: set verbosity, take over SIGINT/SIGTERM/SIGHUP, show progress on a
// terminal, resolve the connection, and map any failure to one line on stderr (or a JSON error document on stdout
// with --json) and an exit status. Commands never call process.exit.
import { resolveRetry, type Env } from "../config.ts";
import type { AgeIdentities } from "../age/identities.ts";
import { connect } from "../connection/connect.ts";
import { describeSettings, resolveConnection } from "../connection/settings.ts";
import type { Needs } from "../connection/target.ts";
import type { Connection, Sql } from "../db.ts";
import { createDatabase } from "../database.ts";
import { Errors, exitStatusFor, isNetravenError, type ExitStatus } from "../errors.ts";
import { reportError, type OutputFlags } from "../failure.ts";
import { onInterrupt } from "../interrupt.ts";
import { log, setVerbosity, verbosityFrom } from "../log.ts";
import { progressLine, type OnProgress } from "../progress.ts";

/** What a command body gets from the frame. */
export interface CommandRun {
  /** Fires on the first SIGINT/SIGTERM/SIGHUP; its reason is the INTERRUPTED error to report. */
  signal: AbortSignal;
  /** Progress for long work; draws only on a terminal, never with --quiet or --json. */
  onProgress: OnProgress;
}

/** How an interrupted command describes what it left behind: "backup", "removed the partial backup". */
export interface StopReport {
  doing: string;
  outcome: string;
}

/** `contract` as in exitStatusFor: the JSON document's exit_status is the status the process really exits with. */
export async function runBody(flags: OutputFlags, contract: "default" | "checker", stop: StopReport, body: (run: CommandRun) => Promise<ExitStatus>): Promise<ExitStatus> {
  setVerbosity(verbosityFrom(flags));
  const controller = new AbortController();
  const release = onInterrupt((signal) => controller.abort(Errors.interrupted(signal, stop.doing, stop.outcome)));
  const progress = progressLine(!flags.json && !flags.quiet);
  try {
    const status = await body({ signal: controller.signal, onProgress: progress.update });
    progress.clear();
    return status;
  } catch (error) {
    progress.clear();
    // After a signal, whatever failed next (a dropped connection, an aborted stream) is a consequence of it.
    const failure = controller.signal.aborted ? controller.signal.reason : error;
    reportError(failure, flags, contract);
    return exitStatusFor(failure, contract);
  } finally {
    release();
  }
}

/** --identity FILE, else the file NETRAVEN_DB_IDENTITY_FILE names (a path, not a *_FILE twin): the age key. */
export async function readIdentities(flag: unknown, env: Env): Promise<AgeIdentities | undefined> {
  const path = typeof flag === "string" ? flag : env.NETRAVEN_DB_IDENTITY_FILE;
  if (path === undefined) return undefined;
  if (path === "") throw Errors.emptyVariable("NETRAVEN_DB_IDENTITY_FILE");
  const { readIdentityFile } = await import("../age/identities.ts");
  return readIdentityFile(path, typeof flag === "string" ? "--identity" : "NETRAVEN_DB_IDENTITY_FILE");
}

export interface ConnectFlags {
  url?: unknown;
  retry?: unknown;
  retryInterval?: unknown;
  retryMaxInterval?: unknown;
}

export interface ConnectOptions {
  /**
   * What the command needs from the server: "primary" (it writes: init, restore, verify --db), whatever the
   * connection string's target_session_attrs says, or "any" (it reads: backup, validate), which that attribute decides.
   */
  needs: Needs;
  /** The command, for messages ("init needs the writable primary"). */
  command: string;
  /** Say so when needs "primary" overrides the string's target_session_attrs (off for a helper connection). */
  explainOverride?: boolean;
  database?: string;
  max?: number;
  /**
   * Drop the connection at the first signal, so whatever waits on the server fails at once (the server rolls
   * back). False for work that stops itself at a safe point instead (restore, verify --db).
   */
  closeOnInterrupt?: boolean;
  /** Create `database` first when it does not exist (restore --target-db). */
  create?: boolean;
  /** A read-only query sent with the connection's probe; its answer is the connection's firstResult (connect.ts). */
  firstQuery?: (sql: Sql) => Promise<unknown>;
  /** Connect over Bun's own socket, not node:net: faster start-up, for a command that moves no bulk data (connect.ts). */
  native?: boolean;
}

export async function openConnection(flags: ConnectFlags, env: Env, options: ConnectOptions): Promise<Connection> {
  const settings = resolveConnection(flags, env);
  const retry = resolveRetry(flags, env);
  if (settings.passwordOnCommandLine) {
    log.warn("the --url password is visible to other local users in the process list; prefer PGPASSWORD_FILE, DATABASE_URL_FILE or ~/.pgpass");
  }
  const service = settings.service ? ` and service "${settings.service.name}" in ${settings.service.file}` : "";
  log.debug(`connection settings (from ${settings.source}${service}): ${describeSettings({ ...settings, database: options.database ?? settings.database })}`);
  const wanted = { needs: options.needs, command: options.command, database: options.database, max: options.max, explainOverride: options.explainOverride, firstQuery: options.firstQuery, native: options.native };
  try {
    return await connect(settings, retry, wanted);
  } catch (error) {
    if (!options.create || !options.database || !isNetravenError(error) || error.code !== "DATABASE_NOT_FOUND") throw error;
  }
  // CREATE DATABASE writes: the primary, whatever the string says.
  const maintenance = await connect(settings, retry, { needs: "primary", command: options.command, max: 1 });
  try {
    await createDatabase(maintenance, options.database);
  } finally {
    await maintenance.close();
  }
  return connect(settings, retry, wanted);
}

/** Rejects with the signal's reason once it fires. */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Runs `body` with an open connection and always closes it, so the process can exit on its own. */
export async function withConnection<T>(flags: ConnectFlags, env: Env, run: CommandRun, body: (connection: Connection) => Promise<T>, options: ConnectOptions): Promise<T> {
  // A signal while waiting for the server (--retry 30) stops the wait.
  const connection = await Promise.race([openConnection(flags, env, options), whenAborted(run.signal)]);
  const drop = () => void connection.sql.end({ timeout: 0 }).catch(() => undefined);
  if (options.closeOnInterrupt !== false) run.signal.addEventListener("abort", drop, { once: true });
  try {
    return await body(connection);
  } finally {
    run.signal.removeEventListener("abort", drop);
    await connection.close().catch(() => undefined);
  }
}
