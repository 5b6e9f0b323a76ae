import { columns, table } from "./define.ts";

// netraven-db's own bookkeeping, next to the app tables: one row per schema version applied to this database.
// `kind` says how the version arrived: create (fresh init), baseline (adopted an ORM-created database),
// migrate (an ordered step), restore (loaded from a backup).
export const versionTable = table("netraven_db_version", {
  columns: columns`
    version       integer      not null
    description   text         not null
    kind          text         not null
    tool_version  text         not null
    applied_at    timestamptz  not null default now()
  `,
  primaryKey: ["version"],
});
