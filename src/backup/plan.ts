// What a backup will hold: the defined tables the schema has, in file order, after checking that every column the
// definitions name is there (a backup that silently missed a column would restore into a broken app). Tables and
// columns the definitions do not know are left out, and each is named in a warning. Table sizes from the catalog
// give progress its expected total.
import type { Connection } from "../db.ts";
import { Errors } from "../errors.ts";
import { log } from "../log.ts";
import { allTables, versionTable, type TableDef } from "../schema/index.ts";
import backupPlanSql from "../../sql/backup-plan.sql" with { type: "text" };

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
  const found = await connection.sql.unsafe<Array<{ name: string; bytes: string; columns: string[] }>>(backupPlanSql, [schema]);
  if (found.length === 0) {
    throw Errors.drift(`nothing to back up: schema "${schema}" has no tables in database "${connection.server.database}"`, "check --schema and the database name; run netraven-db init to create the schema");
  }
  const present = new Map(found.map((t) => [t.name, new Set(t.columns)]));
  const problems: string[] = [];
  const tables: TableDef[] = [];
  for (const table of allTables) {
    const columns = present.get(table.name);
    if (!columns) {
      // A database the ORM built has no version table yet; every app table must be there.
      if (table !== versionTable) problems.push(`table ${table.name} is missing`);
      continue;
    }
    for (const column of table.columns) if (!columns.has(column.name)) problems.push(`column ${table.name}.${column.name} is missing`);
    tables.push(table);
  }
  if (problems.length) {
    throw Errors.drift(`cannot back up schema "${schema}": ${problems.slice(0, 3).join(", ")}${problems.length > 3 ? ` and ${problems.length - 3} more` : ""}`, "run netraven-db validate for the full report");
  }
  const defined = new Map(allTables.map((t) => [t.name, t]));
  for (const t of found) {
    const table = defined.get(t.name);
    for (const name of t.columns) if (table && !table.columns.some((d) => d.name === name)) log.warn(`column ${t.name}.${name} is not in the definitions and is NOT in this backup`);
  }
  const skipped = found.map((t) => t.name).filter((t) => !defined.has(t));
  for (const t of skipped) log.warn(`table ${schema}.${t} is not in the definitions and is NOT in this backup`);
  const tableBytes = new Map(found.filter((t) => defined.has(t.name)).map((t) => [t.name, Number(t.bytes)]));
  const estimatedBytes = [...tableBytes.values()].reduce((sum, bytes) => sum + bytes, 0);
  // Parents before children, and always the same order, so files are comparable.
  return { tables, skipped, estimatedBytes, tableBytes };
}
