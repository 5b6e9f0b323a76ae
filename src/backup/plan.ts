// What a backup will hold: the defined tables the schema has, in file order, after checking that every column the
// definitions name is there (a backup that silently missed a column would restore into a broken app). Tables and
// columns the definitions do not know are left out, and each is named in a warning. Table sizes from the catalog
// give progress its expected total.
import type { Connection } from "../db.ts";
import { Errors } from "../errors.ts";
import { log } from "../log.ts";
import { allTables, versionTable, type TableDef } from "../schema/index.ts";
import { inspectSchema } from "../catalog/inspect.ts";

export interface BackupPlan {
  tables: TableDef[];
  /** Tables in the schema that the definitions do not know: not in the backup. */
  skipped: string[];
  /** On-disk size of the tables (heap + TOAST): roughly the size of their COPY text; 0 when never analysed. */
  estimatedBytes: number;
  /** The same per table: a parallel backup starts the largest first. */
  tableBytes: Map<string, number>;
}

export async function planBackup(connection: Connection, schema: string): Promise<BackupPlan> {
  const model = await inspectSchema(connection.sql, schema);
  if (model.tables.length === 0) {
    throw Errors.drift(`nothing to back up: schema "${schema}" has no tables in database "${connection.server.database}"`, "check --schema and the database name; run netraven-db init to create the schema");
  }
  const present = new Set(model.tables);
  const columns = new Set(model.columns.map((c) => `${c.table}.${c.name}`));
  const problems: string[] = [];
  const tables: TableDef[] = [];
  for (const table of allTables) {
    if (!present.has(table.name)) {
      // A database the ORM built has no version table yet; every app table must be there.
      if (table !== versionTable) problems.push(`table ${table.name} is missing`);
      continue;
    }
    for (const column of table.columns) if (!columns.has(`${table.name}.${column.name}`)) problems.push(`column ${table.name}.${column.name} is missing`);
    tables.push(table);
  }
  if (problems.length) {
    throw Errors.drift(`cannot back up schema "${schema}": ${problems.slice(0, 3).join(", ")}${problems.length > 3 ? ` and ${problems.length - 3} more` : ""}`, "run netraven-db validate for the full report");
  }
  const defined = new Map(allTables.map((t) => [t.name, t]));
  for (const c of model.columns) {
    const table = defined.get(c.table);
    if (table && !table.columns.some((d) => d.name === c.name)) log.warn(`column ${c.table}.${c.name} is not in the definitions and is NOT in this backup`);
  }
  const skipped = model.tables.filter((t) => !defined.has(t));
  for (const t of skipped) log.warn(`table ${schema}.${t} is not in the definitions and is NOT in this backup`);
  // From the catalog's page counts (as of the last VACUUM/ANALYZE), not pg_table_size: that opens every table and
  // would queue behind an app holding an exclusive lock, before the backup has even started.
  const sizes = await connection.sql<{ name: string; bytes: string }[]>`
    select c.relname as name, ((greatest(c.relpages, 0) + coalesce(t.relpages, 0)) * current_setting('block_size')::bigint)::text as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace left join pg_class t on t.oid = c.reltoastrelid
    where n.nspname = ${schema} and c.relkind in ('r', 'p') and c.relname in ${connection.sql(tables.map((t) => t.name))}`;
  const tableBytes = new Map(sizes.map((s) => [s.name, Number(s.bytes)]));
  const estimatedBytes = [...tableBytes.values()].reduce((sum, bytes) => sum + bytes, 0);
  // Parents before children, and always the same order, so files are comparable.
  return { tables, skipped, estimatedBytes, tableBytes };
}
