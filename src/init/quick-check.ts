// init's fast path on an up-to-date database: the catalog facts it decides on, light enough to send with the
// connection's first query (connect.ts `firstQuery`), so a container start that finds nothing to do costs the
// server one round trip for them. The version and seed rows are read only once the tables are known to exist:
// reading a missing table would put an error in the server's log on every first start.
import type { Queryable } from "../db.ts";
import { searchPathPersisted, type DatabaseFacts } from "../catalog/inspect.ts";
import { bindLiterals, quoteIdent, textArray } from "../quote.ts";
import { allTables, EXTENSIONS } from "../schema/index.ts";
import quickCheckSql from "../../sql/init-quick-check.sql" with { type: "text" };

export interface QuickFacts {
  schemaExists: boolean;
  /** Which of init's tables and indexes exist, as quoted qualified names. */
  present: string[];
  extensions: string[];
  searchPathSettings: DatabaseFacts["searchPathSettings"];
}

function relationNames(schema: string): string[] {
  const qualified = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
  return allTables.flatMap((t) => [qualified(t.name), ...t.indexes.map((ix) => qualified(ix.name))]);
}

interface QuickRow {
  schema_exists: boolean;
  present: string[];
  extensions: string[];
  database_oid: string;
  role_oid: string | null;
  /** pg_db_role_setting as it is: [setdatabase, setrole, setconfig]. */
  role_settings: Array<[string, string, string[] | null]>;
}

/** The search_path entries of pg_db_role_setting that apply to this database and role, as inspect-database.sql has them. */
export function searchPathSettingsOf(row: Pick<QuickRow, "database_oid" | "role_oid" | "role_settings">): QuickFacts["searchPathSettings"] {
  const settings: QuickFacts["searchPathSettings"] = [];
  for (const [database, role, config] of row.role_settings) {
    if (database !== "0" && database !== row.database_oid) continue;
    if (role !== "0" && role !== row.role_oid) continue;
    for (const entry of config ?? []) {
      if (entry.startsWith("search_path=")) settings.push({ database: database !== "0", role: role !== "0", value: entry.slice("search_path=".length) });
    }
  }
  return settings;
}

export async function readQuickFacts(sql: Queryable, schema: string): Promise<QuickFacts> {
  const [row] = await sql.unsafe<QuickRow[]>(bindLiterals(quickCheckSql, [quoteIdent(schema), textArray(relationNames(schema))]));
  return { schemaExists: row!.schema_exists, present: row!.present, extensions: row!.extensions, searchPathSettings: searchPathSettingsOf(row!) };
}

/** Whether every object init creates is there by name, with the extensions and the persistent search_path. */
export function quickFactsComplete(facts: QuickFacts, schema: string): boolean {
  const present = new Set(facts.present);
  return (
    facts.schemaExists &&
    relationNames(schema).every((name) => present.has(name)) &&
    EXTENSIONS.every((name) => facts.extensions.includes(name)) &&
    searchPathPersisted(facts, schema)
  );
}
