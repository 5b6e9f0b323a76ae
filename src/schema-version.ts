// The schema version recorded in the database: netraven-db's own table (schema/version-table.ts) holds one row per
// version that reached this database and says how it arrived. This module is the only reader and writer of it.
import type { Queryable } from "./db.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";
import type { Statement } from "./schema/render.ts";
import { versionTable } from "./schema/version-table.ts";
import { TOOL_VERSION } from "./version.ts";

/** How a version arrived: a fresh init, adopting an ORM-built database, a migration step, a restore. */
export type VersionKind = "create" | "baseline" | "migrate" | "restore";

/** The applied schema version, or null when the version table is empty. */
export async function readSchemaVersion(sql: Queryable, schema: string): Promise<number | null> {
  const [row] = await sql.unsafe<Array<{ version: number | null }>>(`select max(version)::int as version from ${quoteIdent(schema)}.${quoteIdent(versionTable.name)}`);
  return row?.version ?? null;
}

/** Records `version` (once: a version that is already there stays as it was). */
export function recordVersion(schema: string, version: number, description: string, kind: VersionKind): Statement {
  return {
    object: `schema version ${version} (${kind})`,
    sql: `INSERT INTO ${quoteIdent(schema)}.${quoteIdent(versionTable.name)} (version, description, kind, tool_version) VALUES (${version}, ${quoteLiteral(description)}, ${quoteLiteral(kind)}, ${quoteLiteral(TOOL_VERSION)}) ON CONFLICT (version) DO NOTHING`,
  };
}
