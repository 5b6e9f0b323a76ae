// Renders definitions into DDL for one schema. Keys and foreign keys are left unnamed, exactly as SQLAlchemy's
// create_all emitted them, so PostgreSQL names them `<table>_pkey` and `<table>_<column>_fkey` in both worlds.
import { quoteIdent, quoteLiteral } from "../quote.ts";
import bootstrapSql from "../../sql/bootstrap.sql" with { type: "text" };
import { EXTENSIONS, tablesInCreateOrder, type Extension, type ForeignKey, type Index, type TableDef } from "./index.ts";

export interface Statement {
  /** What the statement creates, e.g. `table devices`, `index ix_devices_id`: for --dry-run and reports. */
  object: string;
  sql: string;
}

const q = quoteIdent;
const qualified = (schema: string, name: string) => `${q(schema)}.${q(name)}`;
const list = (names: string[]) => names.map(q).join(", ");

function foreignKeyClause(fk: ForeignKey, schema: string): string {
  const onDelete = fk.onDelete === "no action" ? "" : ` ON DELETE ${fk.onDelete.toUpperCase()}`;
  return `FOREIGN KEY (${list(fk.columns)}) REFERENCES ${qualified(schema, fk.references.table)} (${list(fk.references.columns)})${onDelete}`;
}

/** CREATE TABLE; with `keys: false` the primary and foreign keys are left for after a bulk load. */
export function renderCreateTable(table: TableDef, schema: string, options: { keys: boolean; temporary?: boolean } = { keys: true }): Statement {
  const lines = table.columns.map((c) => `  ${q(c.name)} ${c.type}${c.notNull ? " NOT NULL" : ""}${c.default ? ` DEFAULT ${c.default}` : ""}`);
  if (options.keys) {
    if (table.primaryKey.length) lines.push(`  PRIMARY KEY (${list(table.primaryKey)})`);
    for (const fk of table.foreignKeys) lines.push(`  ${foreignKeyClause(fk, schema)}`);
  }
  const target = options.temporary ? `pg_temp.${q(table.name)}` : qualified(schema, table.name);
  return { object: `table ${table.name}`, sql: `CREATE TABLE ${target} (\n${lines.join(",\n")}\n)` };
}

export function renderIndex(table: TableDef, index: Index, schema: string): Statement {
  return {
    object: `index ${index.name}`,
    sql: `CREATE ${index.unique ? "UNIQUE " : ""}INDEX ${q(index.name)} ON ${qualified(schema, table.name)} (${list(index.columns)})`,
  };
}

export function renderComments(table: TableDef, schema: string): Statement[] {
  return table.columns
    .filter((c) => c.comment)
    .map((c) => ({ object: `comment on ${table.name}.${c.name}`, sql: `COMMENT ON COLUMN ${qualified(schema, table.name)}.${q(c.name)} IS ${quoteLiteral(c.comment!)}` }));
}

export function renderPrimaryKey(table: TableDef, schema: string): Statement[] {
  if (!table.primaryKey.length) return [];
  return [{ object: `primary key ${table.name}_pkey`, sql: `ALTER TABLE ${qualified(schema, table.name)} ADD PRIMARY KEY (${list(table.primaryKey)})` }];
}

export function renderForeignKeys(table: TableDef, schema: string): Statement[] {
  return table.foreignKeys.map((fk) => ({
    object: `foreign key ${table.name}.${fk.columns.join(",")} -> ${fk.references.table}`,
    sql: `ALTER TABLE ${qualified(schema, table.name)} ADD ${foreignKeyClause(fk, schema)}`,
  }));
}

/** Table, its indexes and comments: everything one table needs, keys inline. */
export function renderTable(table: TableDef, schema: string): Statement[] {
  return [renderCreateTable(table, schema), ...table.indexes.map((ix) => renderIndex(table, ix, schema)), ...renderComments(table, schema)];
}

/** All tables in foreign-key order. */
export function renderTables(schema: string, tables?: readonly TableDef[]): Statement[] {
  return tablesInCreateOrder(tables).flatMap((t) => renderTable(t, schema));
}

/**
 * The load-friendly order restore and the backup file use: bare tables, (data goes here), then primary keys,
 * indexes and foreign keys, like pg_dump, because building an index once is much faster than maintaining it
 * row by row.
 */
export function renderTablesForLoad(schema: string, tables?: readonly TableDef[]): { before: Statement[]; after: Statement[] } {
  const ordered = tablesInCreateOrder(tables);
  return {
    before: ordered.map((t) => renderCreateTable(t, schema, { keys: false })),
    after: [
      ...ordered.flatMap((t) => renderPrimaryKey(t, schema)),
      ...ordered.flatMap((t) => t.indexes.map((ix) => renderIndex(t, ix, schema))),
      ...ordered.flatMap((t) => renderComments(t, schema)),
      ...ordered.flatMap((t) => renderForeignKeys(t, schema)),
    ],
  };
}

export function renderExtension(name: Extension): Statement {
  return { object: `extension ${name}`, sql: `CREATE EXTENSION IF NOT EXISTS ${q(name)} WITH SCHEMA public` };
}

/** The extensions, then sql/bootstrap.sql split into statements with psql's :"schema" filled in. */
export function renderBootstrap(schema: string): Statement[] {
  // A function, not a string: `$&` in a schema name must not be read as a replacement pattern.
  const text = bootstrapSql.replace(/:"schema"/g, () => q(schema));
  const statements = text
    .split(/;\s*$/m)
    .map((chunk) => chunk.replace(/^\s*--.*$/gm, "").trim())
    .filter(Boolean)
    .map((sql) => ({ object: /^CREATE SCHEMA/i.test(sql) ? `schema ${schema}` : "bootstrap", sql }));
  return [...EXTENSIONS.map(renderExtension), ...statements];
}

/** Makes every new session of this database find the NetRaven tables first, whatever the role is called. */
export function renderSearchPath(schema: string, database: string): Statement {
  return { object: "search_path", sql: `ALTER DATABASE ${q(database)} SET search_path TO ${q(schema)}, public` };
}

/** Fallback when the role does not own the database: persistent for this role in this database. */
export function renderRoleSearchPath(schema: string, database: string): Statement {
  return { object: "search_path (role)", sql: `ALTER ROLE CURRENT_USER IN DATABASE ${q(database)} SET search_path TO ${q(schema)}, public` };
}
