// The frame every command body runs in: set verbosity, resolve the connection, map any failure to one line on
// stderr (or a JSON error document on stdout with --json) and an exit status. Commands never call process.exit.
import { describeServer, resolveConnection, resolveRetry, type Env } from "../config.ts";
import { connect, type Connection } from "../db.ts";
import { exitStatusFor, type ExitStatus } from "../errors.ts";
import { reportError, type OutputFlags } from "../failure.ts";
import { log, setVerbosity, verbosityFrom } from "../log.ts";


/** `contract` as in exitStatusFor: the JSON document's exit_status is the status the process really exits with. */
export async function runBody(flags: OutputFlags, contract: "default" | "checker", body: () => Promise<ExitStatus>): Promise<ExitStatus> {
  setVerbosity(verbosityFrom(flags));
  try {
    return await body();
  } catch (error) {
    reportError(error, flags, contract);
    return exitStatusFor(error, contract);
  }
}

export interface ConnectFlags {
  url?: unknown;
  retry?: unknown;
  retryInterval?: unknown;
  retryMaxInterval?: unknown;
}

export async function openConnection(flags: ConnectFlags, env: Env, options: { database?: string; max?: number } = {}): Promise<Connection> {
  const settings = resolveConnection(flags, env);
  const retry = resolveRetry(flags, env);
  if (settings.passwordOnCommandLine) {
    log.warn("the --url password is visible to other local users in the process list; prefer PGPASSWORD_FILE, DATABASE_URL_FILE or ~/.pgpass");
  }
  log.debug(`connecting to ${describeServer({ ...settings, database: options.database ?? settings.database })} (settings from ${settings.source})`);
  return connect(settings, retry, options);
}

/** Runs `body` with an open connection and always closes it, so the process can exit on its own. */
export async function withConnection<T>(flags: ConnectFlags, env: Env, body: (connection: Connection) => Promise<T>, options: { database?: string; max?: number } = {}): Promise<T> {
  const connection = await openConnection(flags, env, options);
  try {
    return await body(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
