// The expected side of a comparison: the definitions created as temporary tables in the caller's transaction, so
// PostgreSQL itself normalises them. Temporary objects need only the TEMP privilege, take no lock any other
// session can see, and vanish with the transaction (or with the session, if we are killed).
import type { Queryable } from "../db.ts";
import type { TableDef } from "../schema/index.ts";
import { renderTables } from "../schema/render.ts";

export async function materializeDefinitions(sql: Queryable, tables: readonly TableDef[]): Promise<string> {
  const ddl = renderTables("pg_temp", tables).map((s) => s.sql).join(";\n");
  await sql.unsafe(ddl).simple();
  const [row] = await sql<{ name: string }[]>`select nspname as name from pg_namespace where oid = pg_my_temp_schema()`;
  return row!.name;
}
