// The vocabulary of table definitions. A table is written the way netraven-schema.md lists it: a `columns`
// tagged template with one line per column (`name  type  [not null]  [-- comment]`), then its keys and indexes.
// These definitions are the one source of truth: init renders DDL from them, validate materialises them and
// compares catalogs, backup and restore take table and column lists from them.

export interface Column {
  name: string;
  /** SQL type as written, e.g. `varchar(36)`; PostgreSQL normalises the spelling. */
  type: string;
  notNull: boolean;
  /** Server-side default expression. The ORM set none, so no NetRaven column has one today. */
  default?: string;
  comment?: string;
}

export type OnDelete = "no action" | "cascade" | "set null" | "restrict";

export interface ForeignKey {
  columns: string[];
  references: { table: string; columns: string[] };
  onDelete: OnDelete;
}

export interface Index {
  name: string;
  columns: string[];
  unique: boolean;
}

export interface TableDef {
  name: string;
  columns: Column[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  indexes: Index[];
}

// Types the ORM used, plus the ones the version table needs. Anything else is a typo.
const TYPE = /^(varchar(\(\d+\))?|text|boolean|integer|bigint|double precision|timestamp|timestamptz|json|jsonb|uuid)$/;

/** `columns\`...\`` parses one column per line: `name type [not null] [default expr] [-- comment]`. */
export function columns(strings: TemplateStringsArray, ...values: unknown[]): Column[] {
  if (values.length > 0) throw new Error("columns``: interpolation is not allowed; write the columns literally");
  const result: Column[] = [];
  for (const rawLine of strings.join("").split("\n")) {
    const commentAt = rawLine.indexOf("--");
    const comment = commentAt >= 0 ? rawLine.slice(commentAt + 2).trim() : undefined;
    let line = (commentAt >= 0 ? rawLine.slice(0, commentAt) : rawLine).trim().replace(/\s+/g, " ");
    if (line === "") continue;
    let notNull = false;
    let defaultExpr: string | undefined;
    const defaultMatch = line.match(/ default (.+)$/i);
    if (defaultMatch) {
      defaultExpr = defaultMatch[1];
      line = line.slice(0, defaultMatch.index);
    }
    if (/ not null$/i.test(line)) {
      notNull = true;
      line = line.slice(0, -" not null".length);
    }
    const space = line.indexOf(" ");
    if (space < 0) throw new Error(`columns\`\`: "${rawLine.trim()}" has no type`);
    const name = line.slice(0, space);
    const type = line.slice(space + 1).toLowerCase();
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`columns\`\`: bad column name "${name}"`);
    if (!TYPE.test(type)) throw new Error(`columns\`\`: column ${name} has unsupported type "${type}"`);
    result.push({ name, type, notNull, ...(defaultExpr ? { default: defaultExpr } : {}), ...(comment ? { comment } : {}) });
  }
  return result;
}

/** A non-unique index; named `ix_<table>_<column>` by default, as SQLAlchemy's `index=True` names it. */
export function index(columnNames: string | string[], name?: string): (table: string) => Index {
  const cols = Array.isArray(columnNames) ? columnNames : [columnNames];
  return (table) => ({ name: name ?? `ix_${table}_${cols.join("_")}`, columns: cols, unique: false });
}

/** A unique index (the ORM's `unique=True, index=True`): uniqueness without a UNIQUE constraint. */
export function uniqueIndex(column: string, name?: string): (table: string) => Index {
  return (table) => ({ name: name ?? `ix_${table}_${column}`, columns: [column], unique: true });
}

export function references(column: string, table: string, options: { onDelete?: OnDelete } = {}): ForeignKey {
  return { columns: [column], references: { table, columns: ["id"] }, onDelete: options.onDelete ?? "no action" };
}

export function table(
  name: string,
  parts: { columns: Column[]; primaryKey: string[]; foreignKeys?: ForeignKey[]; indexes?: Array<(table: string) => Index> },
): TableDef {
  const def: TableDef = {
    name,
    columns: parts.columns,
    primaryKey: parts.primaryKey,
    foreignKeys: parts.foreignKeys ?? [],
    indexes: (parts.indexes ?? []).map((make) => make(name)),
  };
  const known = new Set(def.columns.map((c) => c.name));
  const mentioned = [...def.primaryKey, ...def.foreignKeys.flatMap((fk) => fk.columns), ...def.indexes.flatMap((ix) => ix.columns)];
  for (const column of mentioned) if (!known.has(column)) throw new Error(`table ${name}: key or index names unknown column ${column}`);
  if (known.size !== def.columns.length) throw new Error(`table ${name}: duplicate column`);
  return def;
}
