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

/** A `columns` template: its text, parsed (once) when first asked for. */
export interface ColumnsText {
  readonly text: string;
  parse(): Column[];
}

/**
 * `columns\`...\``: one column per line, `name type [not null] [default expr] [-- comment]`. Parsed on first use,
 * not when the module loads: an up-to-date `init` needs only the table and index names, and parsing every table
 * was 2-3 ms of its start. tests/schema/define.test.ts parses every definition, so a typo still fails CI.
 */
export function columns(strings: TemplateStringsArray, ...values: unknown[]): ColumnsText {
  if (values.length > 0) throw new Error("columns``: interpolation is not allowed; write the columns literally");
  const text = strings.join("");
  let parsed: Column[] | undefined;
  return { text, parse: () => (parsed ??= parseColumns(text)) };
}

function parseColumns(text: string): Column[] {
  const result: Column[] = [];
  for (const rawLine of text.split("\n")) {
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
  parts: { columns: ColumnsText; primaryKey: string[]; foreignKeys?: ForeignKey[]; indexes?: Array<(table: string) => Index> },
): TableDef {
  let checked = false;
  const def: TableDef = {
    name,
    get columns() {
      const parsed = parts.columns.parse();
      if (!checked) checkKeys(def, parsed);
      checked = true;
      return parsed;
    },
    primaryKey: parts.primaryKey,
    foreignKeys: parts.foreignKeys ?? [],
    indexes: (parts.indexes ?? []).map((make) => make(name)),
  };
  return def;
}

/** Every key and index names a column of the table, and no column comes twice. Checked when columns are first read. */
function checkKeys(def: TableDef, columns: Column[]): void {
  const known = new Set(columns.map((c) => c.name));
  const mentioned = [...def.primaryKey, ...def.foreignKeys.flatMap((fk) => fk.columns), ...def.indexes.flatMap((ix) => ix.columns)];
  for (const column of mentioned) if (!known.has(column)) throw new Error(`table ${def.name}: key or index names unknown column ${column}`);
  if (known.size !== columns.length) throw new Error(`table ${def.name}: duplicate column`);
}
