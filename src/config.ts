// Settings from flags and the environment. Every setting resolves through one chain: flag, then its NETRAVEN_DB_*
// twin (each *_FILE variant works as in the postgres image), then its default (defaults.ts). Everything is validated
// with zod here, so a bad value stops the run with one line naming the setting. Connection settings follow libpq's
// own chain and live beside the connection code (connection/settings.ts).
import { readFileSync } from "node:fs";
import * as z from "./zod.ts";
import { DEFAULTS } from "./defaults.ts";
import { Errors } from "./errors.ts";
import { describeFsError } from "./files.ts";

export type Env = Record<string, string | undefined>;

export interface RetrySettings {
  attempts: number;
  intervalMs: number;
  maxIntervalMs: number;
  /** --retry (or NETRAVEN_DB_RETRY) was given: the user asked to wait, e.g. for a failover to finish. */
  explicit?: boolean;
}

const envTwin = (flag: string) => `NETRAVEN_DB_${flag.toUpperCase().replace(/-/g, "_")}`;

/**
 * Reads VAR, or the file named by VAR_FILE (Docker secrets). Both set is an error, as in the postgres image. An
 * empty value is "not set" only where libpq says so (`empty: "unset"`, the PG* variables); for our own settings
 * it is an error, because falling back to a default or another source is how a typo picks the wrong database.
 */
export function readEnvOrFile(env: Env, name: string, options: { empty: "error" | "unset" } = { empty: "error" }): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== "" && file) throw Errors.config(name, `both ${name} and ${name}_FILE are set; set only one`);
  if (file !== undefined) {
    if (file === "" && options.empty === "error") throw Errors.emptyVariable(`${name}_FILE`);
    if (file !== "") {
      let value: string;
      try {
        value = readFileSync(file, "utf8").replace(/\r?\n$/, "");
      } catch (error) {
        throw Errors.config(`${name}_FILE`, `cannot read ${file}: ${describeFsError(error)}`);
      }
      if (value === "" && options.empty === "error") throw Errors.config(`${name}_FILE`, `${file} is empty`);
      return value === "" ? undefined : value;
    }
  }
  if (direct === "" && options.empty === "error") throw Errors.emptyVariable(name);
  return direct === "" ? undefined : direct;
}

function issueText(error: z.core.$ZodError): string {
  return error.issues[0]?.message ?? "invalid value";
}

/** Flag → NETRAVEN_DB_* twin → default, validated by `schema`. `flag` is the kebab-case flag name. */
export function resolveSetting<T>(flag: string, flagValue: unknown, env: Env, fallback: T, schema: z.core.$ZodType<T>): T {
  // main.ts refuses `--flag ""` on the command line; this guards every other caller.
  if (flagValue === "") throw Errors.missingValue(`--${flag}`);
  const fromFlag = flagValue !== undefined;
  const envName = envTwin(flag);
  const raw = fromFlag ? flagValue : readEnvOrFile(env, envName);
  if (raw === undefined) return fallback;
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) {
    throw Errors.config(fromFlag ? `--${flag}` : envName, `${issueText(parsed.error)} (got ${JSON.stringify(String(raw))})`);
  }
  return parsed.data;
}

export const Schemas = {
  positiveInt: (what = "a whole number of at least 1") =>
    z.coerce.number({ message: `must be ${what}` }).check(z.refine((n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000, `must be ${what}`)),
  nonNegativeInt: (what = "a whole number of at least 0") =>
    z.coerce.number({ message: `must be ${what}` }).check(z.refine((n) => Number.isInteger(n) && n >= 0 && n <= 1_000_000, `must be ${what}`)),
  seconds: () =>
    z.coerce.number({ message: "must be a number of seconds" }).check(z.refine((n) => Number.isFinite(n) && n > 0 && n <= 86_400, "must be a number of seconds between 0 and 86400")),
  identifier: (what: string) =>
    z.string().check(
      z.minLength(1, `${what} must not be empty`),
      z.refine((s) => Buffer.byteLength(s) <= 63, `${what} must be at most 63 bytes (PostgreSQL's identifier limit)`),
      z.refine((s) => !s.includes("\0"), `${what} must not contain NUL`),
      // A newline would split the COPY line of a backup; an escape sequence would reach the terminal in messages.
      z.refine((s) => !/[\u0001-\u001f\u007f]/.test(s), `${what} must not contain control characters (newline, tab, escape...)`),
      z.refine((s) => !/^pg_/i.test(s), `${what} must not start with pg_ (reserved by PostgreSQL)`),
    ),
  /** A database name as PostgreSQL keeps it: longer names would be cut to 63 bytes without a word. */
  databaseName: (what = "database name") =>
    z.string().check(
      z.minLength(1, `${what} must not be empty`),
      z.refine((s) => Buffer.byteLength(s) <= 63, `${what} must be at most 63 bytes (PostgreSQL's identifier limit)`),
      z.refine((s) => !/[\u0000-\u001f\u007f]/.test(s), `${what} must not contain control characters (newline, tab, escape...)`),
    ),
  boolean: () =>
    z.union([z.boolean(), z.pipe(z.enum(["1", "0", "true", "false", "yes", "no"]), z.transform((s) => ["1", "true", "yes"].includes(s)))], {
      message: "must be true or false",
    }),
};

export function resolveSchemaName(flagValue: unknown, env: Env, fallback: string = DEFAULTS.schema): string {
  return resolveSetting("schema", flagValue, env, fallback, Schemas.identifier("schema name"));
}

export function resolveRetry(flags: { retry?: unknown; retryInterval?: unknown; retryMaxInterval?: unknown }, env: Env): RetrySettings {
  const attempts = resolveSetting("retry", flags.retry, env, DEFAULTS.retry, Schemas.positiveInt("a whole number of attempts, at least 1"));
  const interval = resolveSetting("retry-interval", flags.retryInterval, env, DEFAULTS.retryIntervalSeconds, Schemas.seconds());
  const maxInterval = resolveSetting("retry-max-interval", flags.retryMaxInterval, env, DEFAULTS.retryMaxIntervalSeconds, Schemas.seconds());
  const explicit = flags.retry !== undefined || env.NETRAVEN_DB_RETRY !== undefined || env.NETRAVEN_DB_RETRY_FILE !== undefined;
  return { attempts, intervalMs: interval * 1000, maxIntervalMs: Math.max(interval, maxInterval) * 1000, explicit };
}

/** --jobs (env NETRAVEN_DB_JOBS): connections a backup or restore uses at once. */
export function resolveJobs(flagValue: unknown, env: Env): number {
  return resolveSetting("jobs", flagValue, env, DEFAULTS.jobs, Schemas.positiveInt(`a whole number of connections from 1 to ${DEFAULTS.maxJobs}`).check(z.refine((n) => n <= DEFAULTS.maxJobs, `must be at most ${DEFAULTS.maxJobs}`)));
}

/** --lock-timeout in milliseconds. */
export function resolveLockTimeoutMs(flagValue: unknown, env: Env): number {
  return resolveSetting("lock-timeout", flagValue, env, DEFAULTS.lockTimeoutSeconds, Schemas.seconds()) * 1000;
}

export function resolveBackupDir(flagValue: unknown, env: Env): string {
  return resolveSetting("dir", flagValue, env, DEFAULTS.dir, z.string());
}
