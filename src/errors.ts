// Every failure netraven-db reports is a NetravenError with a stable SCREAMING_SNAKE code. Callers and tests
// branch on `code`, never on class names (a minified build renames classes). The code decides the exit status
// through EXIT_STATUS below, which is the single written-down exit contract (also in the README).

export const EXIT = {
  OK: 0,
  /** A finding, not a crash: drift found, a backup file that is bad, a database that does not match. */
  FINDING: 1,
  /** Could not do the job for a reason not listed below (validate/verify: could not check at all). */
  ERROR: 2,
  /** Bad flag, bad environment variable, bad connection string. */
  USAGE: 3,
  /** The server did not answer before the retries ran out. */
  CONNECT: 4,
  /** The server answered but refused us: password, role, database, TLS or a missing privilege. */
  AUTH: 5,
  /** Another netraven-db held the database lock for longer than --lock-timeout. */
  LOCK: 6,
  /** A statement failed on the server. Nothing was committed. */
  SQL: 7,
  /** A file or directory could not be read or written. */
  IO: 8,
  /** Refused on purpose: confirmation missing, or the database/backup is newer than this binary. */
  REFUSED: 9,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_STATUS = {
  USAGE: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  NO_CONNECTION_SETTINGS: EXIT.USAGE,
  CONNECT_FAILED: EXIT.CONNECT,
  AUTH_FAILED: EXIT.AUTH,
  DATABASE_NOT_FOUND: EXIT.AUTH,
  TLS_FAILED: EXIT.AUTH,
  PERMISSION_DENIED: EXIT.AUTH,
  LOCK_TIMEOUT: EXIT.LOCK,
  SQL_FAILED: EXIT.SQL,
  CONNECTION_LOST: EXIT.SQL,
  DRIFT: EXIT.FINDING,
  BACKUP_INVALID: EXIT.FINDING,
  FILE_UNREADABLE: EXIT.IO,
  FILE_UNWRITABLE: EXIT.IO,
  CONFIRMATION_REQUIRED: EXIT.REFUSED,
  VERSION_TOO_NEW: EXIT.REFUSED,
  INTERNAL: EXIT.ERROR,
} as const satisfies Record<string, ExitStatus>;

export type ErrorCode = keyof typeof EXIT_STATUS;

export class NetravenError extends Error {
  override readonly name = "NetravenError";
  readonly code: ErrorCode;
  readonly hint?: string;
  /** Extra machine-readable facts for --json output (never secrets). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitStatus(): ExitStatus {
    return EXIT_STATUS[this.code];
  }
}

export function isNetravenError(error: unknown): error is NetravenError {
  if (!(error instanceof Error) || (error as { name?: string }).name !== "NetravenError") return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(EXIT_STATUS, code);
}

/** One factory per code keeps messages consistent at every call site. */
export const Errors = {
  usage: (message: string, hint?: string) => new NetravenError("USAGE", message, { hint }),
  config: (setting: string, problem: string) => new NetravenError("CONFIG_INVALID", `${setting}: ${problem}`),
  /** As getopt's "option requires an argument": a flag given without its value never falls back to anything. */
  missingValue: (option: string, command?: string, swallowed?: string) =>
    new NetravenError("USAGE", `option ${option} requires a value${swallowed ? ` (found the option ${swallowed} where its value belongs)` : ""}`, { hint: command ? `run: netraven-db ${command} --help` : undefined }),
  /** A variable that is set but empty would silently mean "use the default" (NETRAVEN_DB_DIR= in a compose file). */
  emptyVariable: (name: string) => new NetravenError("CONFIG_INVALID", `${name} is set but empty; give it a value or unset it`),
  noConnectionSettings: () =>
    new NetravenError("NO_CONNECTION_SETTINGS", "no database connection settings: pass --url, or set DATABASE_URL, or the PGHOST/PGDATABASE/PGUSER variables", {
      hint: "example: netraven-db init --url postgresql://netraven@localhost:5432/netraven (put the password in PGPASSWORD or PGPASSWORD_FILE)",
    }),
  internal: (message: string, cause?: unknown) => new NetravenError("INTERNAL", message, { cause }),
} as const;

/** Any error → the exit status for a command. Checkers (validate, verify) collapse failures to 2 ("could not check"). */
export function exitStatusFor(error: unknown, contract: "default" | "checker" = "default"): ExitStatus {
  // From the code, not the `exitStatus` getter: an error that carries only the name and code (not built by this
  // module's class) passes isNetravenError but has no getter.
  const status = isNetravenError(error) ? EXIT_STATUS[error.code] : EXIT.ERROR;
  if (contract === "checker" && status !== EXIT.USAGE && status !== EXIT.FINDING) return EXIT.ERROR;
  return status;
}
