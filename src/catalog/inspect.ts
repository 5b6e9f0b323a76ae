// Reads pg_catalog into a plain model that diff.ts compares. The queries live in sql/ and are embedded.
import type { Queryable } from "../db.ts";
import { bindLiterals, textArray } from "../quote.ts";
import { allTables, versionTable } from "../schema/index.ts";
import inspectSchemaSql from "../../sql/inspect-schema.sql" with { type: "text" };
import inspectDatabaseSql from "../../sql/inspect-database.sql" with { type: "text" };

export interface ColumnModel {
  table: string;
  name: string;
  position: number;
  type: string;
  not_null: boolean;
  default: string | null;
  identity: string | null;
  generated: string | null;
  collation: string | null;
}

export interface ConstraintModel {
  table: string;
  name: string;
  type: "p" | "u" | "f" | "c" | "x";
  columns: string[] | null;
  ref_table: string | null;
  ref_same_schema: boolean | null;
  ref_columns: string[] | null;
  on_update: string | null;
  on_delete: string | null;
  match: string | null;
  deferrable: boolean;
  deferred: boolean;
  definition: string | null;
}

export interface IndexModel {
  table: string;
  name: string;
  unique: boolean;
  primary: boolean;
  constraint: boolean;
  method: string;
  key_columns: string[];
  include_columns: string[];
  options: number[];
  opclasses: string[];
  predicate: string | null;
  nulls_not_distinct: boolean;
  valid: boolean;
}

export interface SchemaModel {
  tables: string[];
  columns: ColumnModel[];
  constraints: ConstraintModel[];
  indexes: IndexModel[];
}

export interface DatabaseFacts {
  extensions: Array<{ name: string; schema: string; version: string }>;
  schemaExists: boolean;
  /** Schemas a new session of this role searches, in order (only existing ones). */
  searchPathSchemas: string[];
  searchPath: string;
  /** Explicit persistent search_path settings that apply to this role in this database. */
  searchPathSettings: Array<{ database: boolean; role: boolean; value: string }>;
  hasVersionTable: boolean;
  /** A read-only role may see the version table in the catalog but lack SELECT on it. */
  canReadVersion: boolean;
  tablesPresent: number;
  indexesPresent: number;
}

export async function inspectSchema(sql: Queryable, schema: string): Promise<SchemaModel> {
  const [row] = await sql.unsafe<Array<{ model: SchemaModel }>>(inspectSchemaSql, [schema]);
  return row!.model;
}

export async function inspectDatabase(sql: Queryable, schema: string): Promise<DatabaseFacts> {
  const [row] = await sql.unsafe<
    Array<{
      extensions: DatabaseFacts["extensions"];
      schema_exists: boolean;
      search_path_schemas: string[];
      search_path: string;
      search_path_settings: DatabaseFacts["searchPathSettings"];
      has_version_table: boolean;
      can_read_version: boolean;
      tables_present: number;
      indexes_present: number;
    }>
  >(bindLiterals(inspectDatabaseSql, [schema, textArray(allTables.map((t) => t.name)), textArray(allTables.flatMap((t) => t.indexes.map((ix) => ix.name))), versionTable.name]));
  return {
    extensions: row!.extensions,
    schemaExists: row!.schema_exists,
    searchPathSchemas: row!.search_path_schemas,
    searchPath: row!.search_path,
    searchPathSettings: row!.search_path_settings,
    hasVersionTable: row!.has_version_table,
    canReadVersion: row!.can_read_version,
    tablesPresent: row!.tables_present,
    indexesPresent: row!.indexes_present,
  };
}

/** First schema of a search_path setting value: `"netraven", public` → netraven. */
export function firstSchemaOf(value: string): string {
  const first = value.split(",")[0]!.trim();
  return first.startsWith('"') && first.endsWith('"') ? first.slice(1, -1).replace(/""/g, '"') : first.toLowerCase();
}

/**
 * The explicit search_path setting new sessions of this role get, if any. Precedence is PostgreSQL's: this role in
 * this database, this role anywhere, this database, then ALTER ROLE ALL.
 */
export function effectiveSearchPathSetting(facts: Pick<DatabaseFacts, "searchPathSettings">): DatabaseFacts["searchPathSettings"][number] | undefined {
  const rank = (s: { database: boolean; role: boolean }) => (s.database && s.role ? 0 : s.role ? 1 : s.database ? 2 : 3);
  return [...facts.searchPathSettings].sort((a, b) => rank(a) - rank(b))[0];
}

/** Whether new sessions find `schema` first because of an explicit setting. */
export function searchPathPersisted(facts: Pick<DatabaseFacts, "searchPathSettings">, schema: string): boolean {
  const effective = effectiveSearchPathSetting(facts);
  return effective !== undefined && firstSchemaOf(effective.value) === schema;
}
