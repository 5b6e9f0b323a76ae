// Settings from flags and the environment. Every setting resolves through one chain: flag, then its NETRAVEN_DB_*
// twin, then its default (defaults.ts); connection settings follow libpq: --url, NETRAVEN_DB_URL, DATABASE_URL, then
// PG* variables (each *_FILE variant works as in the postgres image). Everything is validated with zod here, so a
// bad value stops the run with one line naming the setting.
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { isUrl, parseConnectionString, SSL_MODES, type ConnInfo, type SslMode } from "./conninfo.ts";
import { DEFAULTS } from "./defaults.ts";
import { Errors } from "./errors.ts";
import { describeFsError } from "./files.ts";
import { log } from "./log.ts";
import { registerSecret } from "./secrets.ts";

export type Env = Record<string, string | undefined>;

export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  sslmode: SslMode;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  connectTimeoutSeconds: number;
  applicationName: string;
  /** Where the settings came from, for messages: "--url", "DATABASE_URL", "PG* variables". */
  source: string;
  /** True when the password travelled on the command line, where `ps` shows it to every local user. */
  passwordOnCommandLine: boolean;
}

export interface RetrySettings {
  attempts: number;
  intervalMs: number;
  maxIntervalMs: number;
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

function issueText(error: z.ZodError): string {
  return error.issues[0]?.message ?? "invalid value";
}

/** Flag → NETRAVEN_DB_* twin → default, validated by `schema`. `flag` is the kebab-case flag name. */
export function resolveSetting<T>(flag: string, flagValue: unknown, env: Env, fallback: T, schema: z.ZodType<T>): T {
  // main.ts refuses `--flag ""` on the command line; this guards every other caller.
  if (flagValue === "") throw Errors.missingValue(`--${flag}`);
  const fromFlag = flagValue !== undefined;
  const envName = envTwin(flag);
  const raw = fromFlag ? flagValue : readEnvOrFile(env, envName);
  if (raw === undefined) return fallback;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw Errors.config(fromFlag ? `--${flag}` : envName, `${issueText(parsed.error)} (got ${JSON.stringify(String(raw))})`);
  }
  return parsed.data;
}

export const Schemas = {
  positiveInt: (what = "a whole number of at least 1") =>
    z.coerce.number({ message: `must be ${what}` }).refine((n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000, `must be ${what}`),
  nonNegativeInt: (what = "a whole number of at least 0") =>
    z.coerce.number({ message: `must be ${what}` }).refine((n) => Number.isInteger(n) && n >= 0 && n <= 1_000_000, `must be ${what}`),
  seconds: () =>
    z.coerce.number({ message: "must be a number of seconds" }).refine((n) => Number.isFinite(n) && n > 0 && n <= 86_400, "must be a number of seconds between 0 and 86400"),
  identifier: (what: string) =>
    z
      .string()
      .min(1, `${what} must not be empty`)
      .refine((s) => Buffer.byteLength(s) <= 63, `${what} must be at most 63 bytes (PostgreSQL's identifier limit)`)
      .refine((s) => !s.includes("\0"), `${what} must not contain NUL`)
      // A newline would split the COPY line of a backup; an escape sequence would reach the terminal in messages.
      .refine((s) => !/[\u0001-\u001f\u007f]/.test(s), `${what} must not contain control characters (newline, tab, escape...)`)
      .refine((s) => !/^pg_/i.test(s), `${what} must not start with pg_ (reserved by PostgreSQL)`),
  /** A database name as PostgreSQL keeps it: longer names would be cut to 63 bytes without a word. */
  databaseName: (what = "database name") =>
    z
      .string()
      .min(1, `${what} must not be empty`)
      .refine((s) => Buffer.byteLength(s) <= 63, `${what} must be at most 63 bytes (PostgreSQL's identifier limit)`)
      .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), `${what} must not contain control characters (newline, tab, escape...)`),
  boolean: () =>
    z.union([z.boolean(), z.enum(["1", "0", "true", "false", "yes", "no"]).transform((s) => ["1", "true", "yes"].includes(s))], {
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
  return { attempts, intervalMs: interval * 1000, maxIntervalMs: Math.max(interval, maxInterval) * 1000 };
}

/** --jobs (env NETRAVEN_DB_JOBS): connections a backup or restore uses at once. */
export function resolveJobs(flagValue: unknown, env: Env): number {
  return resolveSetting("jobs", flagValue, env, DEFAULTS.jobs, Schemas.positiveInt(`a whole number of connections from 1 to ${DEFAULTS.maxJobs}`).refine((n) => n <= DEFAULTS.maxJobs, `must be at most ${DEFAULTS.maxJobs}`));
}

/** --lock-timeout in milliseconds. */
export function resolveLockTimeoutMs(flagValue: unknown, env: Env): number {
  return resolveSetting("lock-timeout", flagValue, env, DEFAULTS.lockTimeoutSeconds, Schemas.seconds()) * 1000;
}

export function resolveBackupDir(flagValue: unknown, env: Env): string {
  return resolveSetting("dir", flagValue, env, DEFAULTS.dir, z.string());
}

// libpq keyword → PG* environment variable.
const PG_ENV: Record<keyof ConnInfo, string> = {
  host: "PGHOST",
  port: "PGPORT",
  user: "PGUSER",
  password: "PGPASSWORD",
  dbname: "PGDATABASE",
  sslmode: "PGSSLMODE",
  sslrootcert: "PGSSLROOTCERT",
  sslcert: "PGSSLCERT",
  sslkey: "PGSSLKEY",
  connect_timeout: "PGCONNECT_TIMEOUT",
  application_name: "PGAPPNAME",
};

/** ConnectionSchema field → libpq keyword, to name the PG* variable behind a bad value. */
const FIELD_KEY = { host: "host", port: "port", user: "user", database: "dbname", sslmode: "sslmode", connectTimeoutSeconds: "connect_timeout" } as const;

const ConnectionSchema = z.object({
  host: z.string().min(1, "host must not be empty").refine((h) => !h.includes(","), "multiple hosts are not supported; give one host"),
  port: z.coerce
    .number({ message: "port must be a number" })
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 65535, "port must be a whole number between 1 and 65535"),
  user: z.string().min(1, "user must not be empty"),
  database: z.string().min(1, "database name must not be empty"),
  sslmode: z.enum(SSL_MODES, { message: `sslmode must be one of ${SSL_MODES.join(", ")}` }),
  connectTimeoutSeconds: z.coerce
    .number({ message: "connect_timeout must be a number of seconds" })
    .refine((n) => Number.isFinite(n) && n > 0 && n <= 3600, "connect_timeout must be between 1 and 3600 seconds"),
});

function defaultHost(port: number): string {
  // libpq on Debian defaults to the unix socket; fall back to TCP localhost where no socket exists.
  for (const dir of ["/var/run/postgresql", "/tmp"]) {
    if (existsSync(join(dir, `.s.PGSQL.${port}`))) return dir;
  }
  return "localhost";
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres";
  }
}

export function resolveConnection(flags: { url?: unknown }, env: Env): ConnectionSettings {
  let info: ConnInfo = {};
  let source = "PG* variables";
  let passwordOnCommandLine = false;
  if (flags.url === "") throw Errors.missingValue("--url");
  const flagUrl = typeof flags.url === "string" ? flags.url : undefined;
  // Read lazily, in order: a broken DATABASE_URL_FILE must not matter when --url is given.
  const candidates: Array<[string, () => string | undefined]> = [
    ["--url", () => flagUrl],
    ["NETRAVEN_DB_URL", () => readEnvOrFile(env, "NETRAVEN_DB_URL")],
    ["DATABASE_URL", () => readEnvOrFile(env, "DATABASE_URL")],
  ];
  let chosen: [string, string] | undefined;
  for (const [name, read] of candidates) {
    const value = read();
    if (value !== undefined) {
      chosen = [name, value];
      break;
    }
  }
  if (chosen) {
    source = chosen[0];
    info = parseConnectionString(chosen[1]!, source);
    passwordOnCommandLine = source === "--url" && Boolean(info.password);
  }

  // libpq reads an empty PG* variable as unset.
  const fromEnv = (key: keyof ConnInfo): string | undefined => readEnvOrFile(env, PG_ENV[key], { empty: "unset" });
  const anyPgVar = (Object.keys(PG_ENV) as Array<keyof ConnInfo>).some((key) => fromEnv(key) !== undefined) || env.PGPASSFILE !== undefined;
  if (!chosen && !anyPgVar) throw Errors.noConnectionSettings();

  const pick = (key: keyof ConnInfo) => info[key] ?? fromEnv(key);
  const portRaw = pick("port") ?? "5432";
  const portForDefault = Number.parseInt(portRaw, 10) || 5432;
  const user = pick("user") ?? osUser();
  const candidate = {
    host: pick("host") ?? defaultHost(portForDefault),
    port: portRaw,
    user,
    database: pick("dbname") ?? user,
    sslmode: pick("sslmode") ?? "prefer",
    connectTimeoutSeconds: pick("connect_timeout") ?? "10",
  };
  const parsed = ConnectionSchema.safeParse(candidate);
  if (!parsed.success) {
    // Name the variable when the bad value came from one (a URL without a port plus PGPORT=abc is PGPORT's fault).
    const key = FIELD_KEY[String(parsed.error.issues[0]?.path[0]) as keyof typeof FIELD_KEY];
    const fromVariable = key !== undefined && info[key] === undefined && fromEnv(key) !== undefined;
    throw Errors.config(fromVariable ? PG_ENV[key] : `connection settings (${source})`, issueText(parsed.error));
  }

  const settings: ConnectionSettings = {
    ...parsed.data,
    password: pick("password"),
    sslrootcert: pick("sslrootcert"),
    sslcert: pick("sslcert"),
    sslkey: pick("sslkey"),
    applicationName: pick("application_name") ?? "netraven-db",
    source,
    passwordOnCommandLine,
  };
  // libpq treats an empty password as none given and looks in the password file.
  if (!settings.password) settings.password = lookupPgpass(settings, env) ?? settings.password;
  registerSecret(settings.password);
  if (isUrl(chosen?.[1] ?? "") && info.password !== undefined) registerSecret(encodeURIComponent(info.password));
  return settings;
}

/** ~/.pgpass lookup with libpq's rules: first matching line wins, `*` matches anything, `\` escapes `:` and `\`. */
export function lookupPgpass(settings: Pick<ConnectionSettings, "host" | "port" | "database" | "user">, env: Env): string | undefined {
  const file = env.PGPASSFILE ?? join(env.HOME ?? homedir(), ".pgpass");
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return undefined;
    if (stat.mode & 0o077) {
      // As libpq: a password file others can read is ignored, not trusted.
      log.warn(`${file} has group or world access and is ignored (as libpq does); fix with: chmod 0600 ${file}`);
      return undefined;
    }
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  // libpq matches a unix-socket connection to its default socket directory against "localhost", any other socket
  // directory by its path; which directory is the default depends on the build, so a socket path matches both.
  const socket = settings.host.startsWith("/");
  const wanted = [settings.host, String(settings.port), settings.database, settings.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields: string[] = [];
    let current = "";
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (ch === "\\" && i + 1 < line.length) current += line[++i];
      else if (ch === ":" && fields.length < 4) {
        fields.push(current);
        current = "";
      } else current += ch;
    }
    fields.push(current);
    if (fields.length !== 5) continue;
    const matches = (value: string, index: number) => fields[index] === "*" || fields[index] === value || (index === 0 && socket && fields[0] === "localhost");
    if (wanted.every(matches)) return fields[4];
  }
  return undefined;
}

/** How to name the server in messages: never includes the password. */
export function describeServer(settings: Pick<ConnectionSettings, "host" | "port" | "user" | "database">): string {
  const where = settings.host.startsWith("/") ? `${settings.host}/.s.PGSQL.${settings.port}` : `${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${settings.port}`;
  return `${settings.user}@${where}/${settings.database}`;
}
