// Argument groups shared by commands. No citty `default`s: a default would hide whether the user passed the flag,
// and every flag must fall back to its NETRAVEN_DB_* twin first (config.ts resolves flag -> env -> default), so
// defaults are stated in the descriptions instead, from the one table of defaults.
import type { ArgsDef } from "citty";
import { DEFAULTS } from "../defaults.ts";

export const connectionArgs = {
  url: {
    type: "string",
    valueHint: "url",
    description:
      "PostgreSQL connection, as libpq reads it: postgresql://user@host1:5432,host2:5432/db?target_session_attrs=read-write or `host=/var/run/postgresql dbname=netraven`. Else NETRAVEN_DB_URL, DATABASE_URL (or *_FILE), then the service file and the PG* variables. Keep passwords out of argv: use PGPASSWORD_FILE or ~/.pgpass",
  },
  schema: { type: "string", valueHint: "name", description: `Schema holding the NetRaven tables (default: ${DEFAULTS.schema}; env NETRAVEN_DB_SCHEMA)` },
  retry: { type: "string", valueHint: "n", description: `Connection attempts while the server is not up yet, each over every listed host; given, it also waits out a standby being promoted (default: ${DEFAULTS.retry}; env NETRAVEN_DB_RETRY)` },
  "retry-interval": { type: "string", valueHint: "seconds", description: `First wait between attempts, growing 1.5x per attempt (default: ${DEFAULTS.retryIntervalSeconds}; env NETRAVEN_DB_RETRY_INTERVAL)` },
  "retry-max-interval": { type: "string", valueHint: "seconds", description: `Longest wait between attempts (default: ${DEFAULTS.retryMaxIntervalSeconds}; env NETRAVEN_DB_RETRY_MAX_INTERVAL)` },
} as const satisfies ArgsDef;

export const lockArgs = {
  "lock-timeout": { type: "string", valueHint: "seconds", description: `How long to wait for another init/restore on the same schema (default: ${DEFAULTS.lockTimeoutSeconds}; env NETRAVEN_DB_LOCK_TIMEOUT)` },
} as const satisfies ArgsDef;

/** Where backups are (backup, list). */
export const storeArgs = {
  dir: {
    type: "string",
    valueHint: "path|s3://bucket/prefix/",
    description: `Backup directory (it must exist), or an S3 location with the AWS_* settings (default: ${DEFAULTS.dir}; env NETRAVEN_DB_DIR)`,
  },
} as const satisfies ArgsDef;

/** The backup a command reads, and the key to read it when it is encrypted (verify, restore). */
export const backupFileArgs = {
  file: { type: "positional", description: "Backup file (.sql.gz, .sql.zst or .sql, + .age when encrypted), or s3://bucket/prefix/FILE", required: true },
  identity: { type: "string", valueHint: "file", description: "age identity (private key) file for encrypted backups; must be private (chmod 600) (env NETRAVEN_DB_IDENTITY_FILE)" },
} as const satisfies ArgsDef;

/**
 * Flags that may be given more than once, per command (citty keeps only the last value, so they are collected from
 * the command line here). Every other flag given twice is refused: silently taking one of two values is how a
 * backup goes to one place when the admin asked for two.
 */
export const REPEATABLE: Record<string, readonly string[]> = { backup: ["dir", "encrypt-to"] };

/** Every value of a repeatable flag, in order, from the raw command line. */
export function allValues(rawArgs: readonly string[], flag: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${flag}`) values.push(rawArgs[++i] ?? "");
    else if (arg.startsWith(`--${flag}=`)) values.push(arg.slice(flag.length + 3));
  }
  return values;
}

export const outputArgs = {
  json: { type: "boolean", description: "Print one JSON document on stdout (logs stay on stderr)" },
  quiet: { type: "boolean", alias: "q", description: "Only print errors" },
  verbose: { type: "boolean", description: "Also print debug detail" },
} as const satisfies ArgsDef;
