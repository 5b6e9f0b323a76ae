// The expected side of a comparison: the definitions created as temporary tables in the caller's transaction, so
// PostgreSQL itself normalises them. Temporary objects need only the TEMP privilege, take no lock any other
// session can see, and vanish with the transaction (or with the session, if we are killed).
import type { Queryable } from "../db.ts";
import { Errors } from "../errors.ts";
import { quoteIdent } from "../quote.ts";
import type { TableDef } from "../schema/index.ts";
import { renderTables } from "../schema/render.ts";

export async function materializeDefinitions(sql: Queryable, tables: readonly TableDef[]): Promise<string> {
  // Without TEMPORARY the server only says "permission denied to create temporary tables": say what is needed.
  const [can] = await sql<{ temp: boolean; db: string; role: string }[]>`
    select has_database_privilege(current_database(), 'TEMPORARY') as temp, current_database() as db, current_user as role`;
  if (!can!.temp) {
    throw Errors.permissionDenied(`role "${can!.role}" lacks the TEMPORARY privilege on database "${can!.db}": netraven-db compares the schema by creating the definitions as temporary tables`,
      `GRANT TEMPORARY ON DATABASE ${quoteIdent(can!.db)} TO ${quoteIdent(can!.role)}`,
    );
  }
  const ddl = renderTables("pg_temp", tables).map((s) => s.sql).join(";\n");
  await sql.unsafe(ddl).simple();
  const [row] = await sql<{ name: string }[]>`select nspname as name from pg_namespace where oid = pg_my_temp_schema()`;
  return row!.name;
}
