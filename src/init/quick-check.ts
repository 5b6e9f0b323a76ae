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

export async function readQuickFacts(sql: Queryable, schema: string): Promise<QuickFacts> {
  const [row] = await sql.unsafe<Array<{ schema_exists: boolean; present: string[]; extensions: string[]; search_path_settings: QuickFacts["searchPathSettings"] }>>(
    bindLiterals(quickCheckSql, [quoteIdent(schema), textArray(relationNames(schema))]),
  );
  return { schemaExists: row!.schema_exists, present: row!.present, extensions: row!.extensions, searchPathSettings: row!.search_path_settings };
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
