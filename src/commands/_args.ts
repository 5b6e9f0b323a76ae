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
      "PostgreSQL connection: postgresql://user@host:5432/db or `host=/var/run/postgresql dbname=netraven`. Else NETRAVEN_DB_URL, DATABASE_URL (or *_FILE), then PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD. Keep passwords out of argv: use PGPASSWORD_FILE or ~/.pgpass",
  },
  schema: { type: "string", valueHint: "name", description: `Schema holding the NetRaven tables (default: ${DEFAULTS.schema}; env NETRAVEN_DB_SCHEMA)` },
  retry: { type: "string", valueHint: "n", description: `Connection attempts while the server is not up yet (default: ${DEFAULTS.retry}; env NETRAVEN_DB_RETRY)` },
  "retry-interval": { type: "string", valueHint: "seconds", description: `First wait between attempts, growing 1.5x per attempt (default: ${DEFAULTS.retryIntervalSeconds}; env NETRAVEN_DB_RETRY_INTERVAL)` },
  "retry-max-interval": { type: "string", valueHint: "seconds", description: `Longest wait between attempts (default: ${DEFAULTS.retryMaxIntervalSeconds}; env NETRAVEN_DB_RETRY_MAX_INTERVAL)` },
} as const satisfies ArgsDef;

export const lockArgs = {
  "lock-timeout": { type: "string", valueHint: "seconds", description: `How long to wait for another init/restore on the same schema (default: ${DEFAULTS.lockTimeoutSeconds}; env NETRAVEN_DB_LOCK_TIMEOUT)` },
} as const satisfies ArgsDef;

/** Where backups are (backup, list). */
export const storeArgs = {
  dir: { type: "string", valueHint: "path", description: `Backup directory, e.g. the backup volume; it must exist (default: ${DEFAULTS.dir}; env NETRAVEN_DB_DIR)` },
} as const satisfies ArgsDef;

export const outputArgs = {
  json: { type: "boolean", description: "Print one JSON document on stdout (logs stay on stderr)" },
  quiet: { type: "boolean", alias: "q", description: "Only print errors" },
  verbose: { type: "boolean", description: "Also print debug detail" },
} as const satisfies ArgsDef;
