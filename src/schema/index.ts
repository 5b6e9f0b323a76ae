// Every table netraven-db owns, in the order netraven-schema.md lists them. `tablesInCreateOrder` sorts them so
// that each table comes after the tables its foreign keys point to.
import { backups } from "./backups.ts";
import { credentials, credentialTags } from "./credentials.ts";
import type { TableDef } from "./define.ts";
import { deviceTags, devices } from "./devices.ts";
import { jobLogEntries, jobLogs, scheduledJobs } from "./jobs.ts";
import { adminSettings } from "./settings.ts";
import { auditLogs } from "./audit.ts";
import { tagRules, tags } from "./tags.ts";
import { users } from "./users.ts";
import { versionTable } from "./version-table.ts";

export type { Column, ForeignKey, Index, TableDef } from "./define.ts";
export { versionTable };

/** The 13 NetRaven application tables. */
export const appTables: readonly TableDef[] = [
  users,
  devices,
  backups,
  tags,
  deviceTags,
  tagRules,
  jobLogs,
  jobLogEntries,
  scheduledJobs,
  adminSettings,
  auditLogs,
  credentials,
  credentialTags,
];

/** Everything init creates: the app tables plus the version table. */
export const allTables: readonly TableDef[] = [...appTables, versionTable];

/** The extensions the old init-db.sql installed (in schema public, as then). No table uses them yet; the app may. */
export const EXTENSIONS = ["uuid-ossp", "pgcrypto"] as const;
export type Extension = (typeof EXTENSIONS)[number];

/**
 * "13 NetRaven tables and netraven-db's version table": the counts init, validate and backup print differ by the
 * version table, and a bare "14 tables" next to "13 tables" reads like something went missing.
 */
export function describeTables(names: readonly string[]): string {
  const app = names.filter((name) => name !== versionTable.name).length;
  const plural = app === 1 ? "" : "s";
  return names.includes(versionTable.name) ? `${app} NetRaven table${plural} and netraven-db's version table` : `${app} NetRaven table${plural}`;
}

export function tablesInCreateOrder(tables: readonly TableDef[] = allTables): TableDef[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const ordered: TableDef[] = [];
  const visit = (t: TableDef, path: string[]) => {
    if (done.has(t.name)) return;
    if (path.includes(t.name)) throw new Error(`foreign key cycle: ${[...path, t.name].join(" -> ")}`);
    for (const fk of t.foreignKeys) {
      const parent = byName.get(fk.references.table);
      if (!parent) throw new Error(`${t.name} references unknown table ${fk.references.table}`);
      if (parent !== t) visit(parent, [...path, t.name]);
    }
    done.add(t.name);
    ordered.push(t);
  };
  for (const t of tables) visit(t, []);
  return ordered;
}
