// Every failure netraven-db reports is a NetravenError with a stable SCREAMING_SNAKE code. Callers and tests
// branch on `code`, never on class names (a minified build renames classes). The code decides the exit status
// through EXIT_STATUS below, which is the single written-down exit contract: `--help` renders its table from
// EXIT_HELP and the README repeats it. Errors are made by the factories in `Errors`, one per kind, so a message
// that appears in several places is written once.

/** Exit status of each class of outcome, with the line `--help` prints for it. */
const EXIT_CLASSES = {
  OK: [0, "ok"],
  /** A finding, not a crash: drift found, a backup file that is bad, a database that does not match. */
  FINDING: [1, "a finding: drift found, a bad backup file"],
  /** Could not do the job for a reason not listed below (validate/verify: could not check at all). */
  ERROR: [2, "error; for validate and verify: could not check"],
  /** Bad flag, bad environment variable, bad connection string. */
  USAGE: [3, "bad flag, setting or path (found before any work starts)"],
  /** The server did not answer before the retries ran out. */
  CONNECT: [4, "server unreachable after --retry attempts"],
  /** The server answered but refused us: password, role, database, TLS or a missing privilege; or a wrong age identity. */
  AUTH: [5, "server refused us (password, role, database, TLS, privilege); wrong age identity"],
  /** Another netraven-db held the database lock for longer than --lock-timeout. */
  LOCK: [6, "lock timeout (another init or restore is running)"],
  /** A statement failed on the server. Nothing was committed. */
  SQL: [7, "SQL statement failed (nothing was committed)"],
  /** A file or directory could not be read or written. */
  IO: [8, "file or directory not readable/writable while working"],
  /** Refused on purpose: confirmation missing, or the database/backup is newer than this binary. */
  REFUSED: [9, "refused: needs --yes, or database/backup newer than this binary"],
  /** The servers that answered are the wrong kind: a standby where the command needs the writable primary. */
  ROLE: [10, "server is a standby where a primary is needed (or the reverse)"],
} as const;

type ExitClass = keyof typeof EXIT_CLASSES;

export const EXIT = Object.fromEntries(Object.entries(EXIT_CLASSES).map(([name, [status]]) => [name, status])) as {
  readonly [K in ExitClass]: (typeof EXIT_CLASSES)[K][0];
};

/** A signal stops a command with the shell's convention, 128 + the signal number. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT;

export type ExitStatus = (typeof EXIT)[ExitClass] | (typeof SIGNAL_EXIT)[StopSignal];

export const EXIT_STATUS = {
  USAGE: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  NO_CONNECTION_SETTINGS: EXIT.USAGE,
  CONNECT_FAILED: EXIT.CONNECT,
  AUTH_FAILED: EXIT.AUTH,
  NO_PASSWORD: EXIT.AUTH,
  DATABASE_NOT_FOUND: EXIT.AUTH,
  TLS_FAILED: EXIT.AUTH,
  PERMISSION_DENIED: EXIT.AUTH,
  /** No age identity given can open an encrypted backup: a wrong key, not a bad file (verify: 2, could not check). */
  IDENTITY_MISMATCH: EXIT.AUTH,
  LOCK_TIMEOUT: EXIT.LOCK,
  SQL_FAILED: EXIT.SQL,
  CONNECTION_LOST: EXIT.SQL,
  DRIFT: EXIT.FINDING,
  BACKUP_INVALID: EXIT.FINDING,
  FILE_UNREADABLE: EXIT.IO,
  FILE_UNWRITABLE: EXIT.IO,
  CONFIRMATION_REQUIRED: EXIT.REFUSED,
  VERSION_TOO_NEW: EXIT.REFUSED,
  NOT_PRIMARY: EXIT.ROLE,
  NOT_STANDBY: EXIT.ROLE,
  INTERRUPTED: SIGNAL_EXIT.SIGINT,
  INTERNAL: EXIT.ERROR,
  // Object storage (S3), classified as for the database: no answer is 4, a refusal is 5, a failed transfer is 8.
  S3_UNREACHABLE: EXIT.CONNECT,
  S3_AUTH_FAILED: EXIT.AUTH,
  S3_ACCESS_DENIED: EXIT.AUTH,
  S3_BUCKET_NOT_FOUND: EXIT.AUTH,
  S3_OBJECT_NOT_FOUND: EXIT.IO,
  S3_REQUEST_FAILED: EXIT.IO,
} as const satisfies Record<string, ExitStatus>;

export type ErrorCode = keyof typeof EXIT_STATUS;

interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable facts for --json output (never secrets). */
  details?: Record<string, unknown>;
}

export class NetravenError extends Error {
  override readonly name = "NetravenError";
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitStatus(): ExitStatus {
    return statusOf(this);
  }
}

export function isNetravenError(error: unknown): error is NetravenError {
  if (!(error instanceof Error) || (error as { name?: string }).name !== "NetravenError") return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(EXIT_STATUS, code);
}

// From the code and details, not the `exitStatus` getter: an error that carries only the name and code (not built
// by this module's class) passes isNetravenError but has no getter.
function statusOf(error: Pick<NetravenError, "code" | "details">): ExitStatus {
  if (error.code === "INTERRUPTED") return SIGNAL_EXIT[(error.details?.signal as StopSignal | undefined) ?? "SIGINT"] ?? SIGNAL_EXIT.SIGINT;
  return EXIT_STATUS[error.code];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** One factory per kind of error keeps messages consistent at every call site. */
export const Errors = {
  usage: (message: string, hint?: string) => new NetravenError("USAGE", message, { hint }),
  /** As getopt's "option requires an argument": a flag given without its value never falls back to anything. */
  missingValue: (option: string, command?: string, swallowed?: string) =>
    new NetravenError("USAGE", `option ${option} requires a value${swallowed ? ` (found the option ${swallowed} where its value belongs)` : ""}`, {
      hint: command ? `run: netraven-db ${command} --help` : undefined,
    }),
  /** A path named on the command line that cannot be used: bad input, found before any work starts. */
  badPath: (setting: string, path: string, reason: string) => new NetravenError("USAGE", `${setting} ${path}: ${reason}`),
  config: (setting: string, problem: string) => new NetravenError("CONFIG_INVALID", `${setting}: ${problem}`),
  /** A variable that is set but empty would silently mean "use the default" (NETRAVEN_DB_DIR= in a compose file). */
  emptyVariable: (name: string) => new NetravenError("CONFIG_INVALID", `${name} is set but empty; give it a value or unset it`),
  noConnectionSettings: () =>
    new NetravenError("NO_CONNECTION_SETTINGS", "no database connection settings: pass --url, or set DATABASE_URL, or the PGHOST/PGDATABASE/PGUSER variables", {
      hint: "example: netraven-db init --url postgresql://netraven@localhost:5432/netraven (put the password in PGPASSWORD or PGPASSWORD_FILE)",
    }),
  /** The server did not answer (or was not ready) before the retries ran out. */
  cannotConnect: (server: string, problem: string, hint?: string, details?: Record<string, unknown>) =>
    new NetravenError("CONNECT_FAILED", `cannot connect to ${server}: ${problem}`, { hint, details }),
  /** The server refused the credentials or the role. */
  authFailed: (message: string, hint?: string, cause?: unknown) => new NetravenError("AUTH_FAILED", message, { hint, cause }),
  /** The server asked for a password and none was given anywhere (libpq's "no password supplied"). */
  noPassword: (user: string, server: string, places: string) =>
    new NetravenError("NO_PASSWORD", `no password supplied for user "${user}" at ${server}; netraven-db looks in ${places}`, {
      hint: "put it in PGPASSWORD_FILE (or PGPASSWORD), in a password file (chmod 0600), or in the connection string",
    }),
  databaseNotFound: (database: string, server: string) =>
    new NetravenError("DATABASE_NOT_FOUND", `database "${database}" does not exist at ${server}`, { hint: "create it first, or fix the database name in the URL / PGDATABASE" }),
  tlsFailed: (server: string, sslmode: string, problem: string, hint?: string) => new NetravenError("TLS_FAILED", `TLS failed with ${server} (sslmode=${sslmode}): ${problem}`, { hint }),
  /** The connection broke (or the server went silent) while working: nothing was committed. */
  connectionLost: (doing: string, reason: string, cause?: unknown) => new NetravenError("CONNECTION_LOST", `${doing}: ${reason}`, { cause }),
  /** Every server that answered is a standby (or read-only) where a writable primary is needed. */
  notPrimary: (message: string, hint: string, details?: Record<string, unknown>) => new NetravenError("NOT_PRIMARY", message, { hint, details }),
  /** target_session_attrs asked for a standby (or read-only) server, and every server that answered is a primary. */
  notStandby: (message: string, hint: string, details?: Record<string, unknown>) => new NetravenError("NOT_STANDBY", message, { hint, details }),
  permissionDenied: (message: string, hint?: string, cause?: unknown) => new NetravenError("PERMISSION_DENIED", message, { hint, cause }),
  lockTimeout: (schema: string, waitedMs: number, purpose: string) =>
    new NetravenError("LOCK_TIMEOUT", `another netraven-db (init or restore) held the lock on schema "${schema}" for ${(waitedMs / 1000).toFixed(1)} s; gave up waiting to ${purpose}`, {
      hint: "wait for the other run to finish, or raise --lock-timeout",
    }),
  /** The live schema does not match the definitions in a way that stops the command. */
  drift: (message: string, hint: string, details?: Record<string, unknown>) => new NetravenError("DRIFT", message, { hint, details }),
  /** A backup file (or its manifest) that is damaged, truncated, foreign or inconsistent. `name` is its base name. */
  badBackup: (name: string, problem: string, cause?: unknown) => new NetravenError("BACKUP_INVALID", `${name}: ${problem}`, { cause }),
  /** A file that is not a netraven-db backup but something we can name (a pg_dump script, an empty gzip). */
  foreignFile: (name: string, what: string, hint: string) => new NetravenError("BACKUP_INVALID", `${name}: ${what}`, { hint }),
  /** A schema version from a newer netraven-db: never touched, restored or called good by this one. */
  newerSchema: (subject: string, version: number, known: number, refusing: string, hint: string) =>
    new NetravenError("VERSION_TOO_NEW", `${subject} ${subject.startsWith("schema") ? "is at" : "holds schema"} version ${version}, newer than this netraven-db knows (${known}); ${refusing}`, { hint }),
  confirmationRequired: (tables: number, database: string) =>
    new NetravenError("CONFIRMATION_REQUIRED", `refusing to replace ${plural(tables, "table")} with data in database "${database}" without confirmation; nothing was changed`, {
      hint: "stdin is not a terminal: pass --yes to restore non-interactively",
    }),
  notConfirmed: (file: string, database: string) => new NetravenError("CONFIRMATION_REQUIRED", `restore of ${file} into database "${database}" was not confirmed; nothing was changed`),
  /** A failure during a transaction that was rolled back: the same error, saying so. */
  nothingChanged: (failure: NetravenError, hint?: string) =>
    new NetravenError(failure.code, `${failure.message}; nothing was changed`, { hint: hint ?? failure.hint, cause: failure.cause ?? failure, details: failure.details }),
  /** Stopped by a signal; `outcome` says what state things were left in ("nothing was changed"). */
  interrupted: (signal: StopSignal, doing: string, outcome: string) =>
    new NetravenError("INTERRUPTED", `${doing} interrupted by ${signal}; ${outcome}`, { details: { signal } }),
  /** No identity in an age identity file opens the backup: a wrong key (exit 5), not a bad file. */
  identityMismatch: (message: string, hint?: string) => new NetravenError("IDENTITY_MISMATCH", message, { hint }),
  /** An encrypted backup read without a key: bad input, found before any work starts. */
  identityRequired: (name: string) =>
    new NetravenError("USAGE", `${name} is encrypted (age): its contents can be read only with its identity`, { hint: "pass --identity FILE, or set NETRAVEN_DB_IDENTITY_FILE, naming the age identity (private key) file" }),
  /**
   * A backup that could not be written to every location: the run fails with the first failure's class, after
   * the locations that worked are complete (and say so).
   */
  partialBackup: (failed: Array<{ location: string; failure: NetravenError }>, written: string[]) =>
    new NetravenError(failed[0]!.failure.code, `${failed.map((f) => `backup to ${f.location} failed: ${f.failure.message}`).join("; ")}; the backup is complete in ${written.join(", ")}`, {
      hint: failed[0]!.failure.hint,
      details: { written, failed: failed.map((f) => ({ location: f.location, code: f.failure.code, message: f.failure.message })) },
    }),
  internal: (message: string, cause?: unknown) => new NetravenError("INTERNAL", message, { cause }),
  /** The endpoint never answered (refused, DNS, timeout) or kept answering 5xx/throttling until the retries ran out. */
  s3Unreachable: (message: string, options: ErrorOptions = {}) => new NetravenError("S3_UNREACHABLE", message, options),
  /** The credentials themselves are wrong: unknown access key, signature mismatch (wrong secret), expired token, clock skew. */
  s3AuthFailed: (message: string, options: ErrorOptions = {}) => new NetravenError("S3_AUTH_FAILED", message, options),
  /** The credentials are valid but the action is not allowed (policy, Object Lock retention). */
  s3AccessDenied: (message: string, options: ErrorOptions = {}) => new NetravenError("S3_ACCESS_DENIED", message, options),
  s3BucketNotFound: (message: string, options: ErrorOptions = {}) => new NetravenError("S3_BUCKET_NOT_FOUND", message, options),
  s3ObjectNotFound: (message: string, options: ErrorOptions = {}) => new NetravenError("S3_OBJECT_NOT_FOUND", message, options),
  /** Any other refusal or a broken transfer (bad request, truncated download, malformed answer). */
  s3RequestFailed: (message: string, options: ErrorOptions = {}) => new NetravenError("S3_REQUEST_FAILED", message, options),
} as const;

/** Any error → the exit status for a command. Checkers (validate, verify) collapse failures to 2 ("could not check"). */
export function exitStatusFor(error: unknown, contract: "default" | "checker" = "default"): ExitStatus {
  const status = isNetravenError(error) ? statusOf(error) : EXIT.ERROR;
  if (contract === "checker" && status !== EXIT.USAGE && status !== EXIT.FINDING && !isNetravenErrorCode(error, "INTERRUPTED")) return EXIT.ERROR;
  return status;
}

function isNetravenErrorCode(error: unknown, code: ErrorCode): boolean {
  return isNetravenError(error) && error.code === code;
}

/** The EXIT CODES section of `--help`, from the table above. */
export function renderExitCodes(): string {
  const rows = Object.values(EXIT_CLASSES).map(([status, help]) => `  ${String(status).padStart(3)}  ${help}`);
  rows.push(`  ${Object.values(SIGNAL_EXIT).sort().join("/")}  stopped by a signal (SIGHUP/SIGINT/SIGTERM): nothing was changed, no partial file left`);
  return `EXIT CODES\n\n${rows.join("\n")}`;
}
