// A pure function from (expected, actual) catalog models to a sorted list of drifts. Every object kind goes through
// the same `differences` helper (migra's pattern), so the output is deterministic: sorted by kind, then object.
import { effectiveSearchPathSetting, firstSchemaOf, type ColumnModel, type ConstraintModel, type DatabaseFacts, type IndexModel, type SchemaModel } from "../catalog/inspect.ts";

export type Severity = "error" | "warning";

export interface Drift {
  kind: string;
  object: string;
  expected: string | null;
  found: string | null;
  severity: Severity;
  /** Which definition the drift is about, for init's repairs. Not part of the JSON report. */
  target?: { table?: string; index?: string; extension?: string };
}

export interface ExpectedDatabase {
  schema: string;
  extensions: readonly string[];
  schemaVersion: number;
  versionTable: string;
}

export interface ActualDatabase {
  facts: DatabaseFacts;
  schemaVersion: number | null;
}

/** Keyed comparison: what only `a` has, only `b` has, and pairs present in both. */
export function differences<T>(a: T[], b: T[], key: (item: T) => string) {
  const left = new Map(a.map((x) => [key(x), x]));
  const right = new Map(b.map((x) => [key(x), x]));
  const sorted = (keys: Iterable<string>) => [...keys].sort();
  return {
    missing: sorted([...left.keys()].filter((k) => !right.has(k))).map((k) => left.get(k)!),
    extra: sorted([...right.keys()].filter((k) => !left.has(k))).map((k) => right.get(k)!),
    both: sorted([...left.keys()].filter((k) => right.has(k))).map((k) => [left.get(k)!, right.get(k)!] as const),
  };
}

const SHORT_TYPES: Array<[RegExp, string]> = [
  [/^character varying/, "varchar"],
  [/^timestamp\((\d+)\) without time zone$/, "timestamp($1)"],
  [/^timestamp without time zone$/, "timestamp"],
  [/^timestamp with time zone$/, "timestamptz"],
  [/^character\b/, "char"],
];

/** How people write types: `varchar(255)` rather than `character varying(255)`. Display only. */
export function shortType(type: string): string {
  for (const [pattern, replacement] of SHORT_TYPES) if (pattern.test(type)) return type.replace(pattern, replacement);
  return type;
}

const ACTIONS: Record<string, string> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };
const MATCH: Record<string, string> = { s: "SIMPLE", f: "FULL", p: "PARTIAL" };

function describeForeignKey(fk: ConstraintModel): string {
  const parts = [`ON DELETE ${ACTIONS[fk.on_delete ?? "a"]}`, `ON UPDATE ${ACTIONS[fk.on_update ?? "a"]}`];
  if (fk.match && fk.match !== "s") parts.push(`MATCH ${MATCH[fk.match] ?? fk.match}`);
  if (fk.deferrable) parts.push(fk.deferred ? "DEFERRABLE INITIALLY DEFERRED" : "DEFERRABLE");
  return parts.join(" ");
}

function foreignKeyObject(fk: ConstraintModel): string {
  return `foreign key ${fk.table}(${(fk.columns ?? []).join(", ")}) -> ${fk.ref_same_schema ? "" : "(other schema) "}${fk.ref_table}(${(fk.ref_columns ?? []).join(", ")})`;
}

function describeIndex(ix: IndexModel): string {
  const columns = ix.key_columns.map((c, i) => {
    const option = ix.options[i] ?? 0;
    return `${c}${option & 1 ? " DESC" : ""}${option & 2 ? (option & 1 ? "" : " NULLS FIRST") : option & 1 ? " NULLS LAST" : ""}`;
  });
  let text = `${ix.unique ? "UNIQUE " : ""}${ix.method} (${columns.join(", ")})`;
  if (ix.include_columns.length) text += ` INCLUDE (${ix.include_columns.join(", ")})`;
  if (ix.nulls_not_distinct) text += " NULLS NOT DISTINCT";
  if (ix.predicate) text += ` WHERE ${ix.predicate}`;
  if (!ix.valid) text += " (INVALID)";
  return text;
}

const indexShape = (ix: IndexModel) => `${ix.table}|${describeIndex(ix)}|${ix.opclasses.join(",")}`;

function describeDefault(column: ColumnModel): string {
  if (column.identity) return `generated ${column.identity === "a" ? "always" : "by default"} as identity`;
  if (column.generated) return `generated always as (${column.default})`;
  return column.default ?? "none";
}

export interface DiffOptions {
  /** Extra tables, columns, indexes and constraints become errors instead of warnings. */
  strict?: boolean;
}

export function diffSchema(expected: SchemaModel, actual: SchemaModel, expectedDb: ExpectedDatabase, actualDb: ActualDatabase, options: DiffOptions = {}): Drift[] {
  const drifts: Drift[] = [];
  const extraSeverity: Severity = options.strict ? "error" : "warning";
  const add = (kind: string, object: string, expectedValue: string | null, found: string | null, severity: Severity = "error", target?: Drift["target"]) =>
    drifts.push({ kind, object, expected: expectedValue, found, severity, ...(target ? { target } : {}) });

  // Database level.
  const installed = new Set(actualDb.facts.extensions.map((e) => e.name));
  for (const name of expectedDb.extensions) if (!installed.has(name)) add("EXTENSION_MISSING", `extension ${name}`, "installed", "not installed", "error", { extension: name });
  if (!actualDb.facts.schemaExists) {
    add("SCHEMA_MISSING", `schema ${expectedDb.schema}`, "present", "missing");
    return sortDrifts(drifts);
  }
  const firstSchema = actualDb.facts.searchPathSchemas[0];
  // An explicit setting (ALTER DATABASE/ROLE ... SET search_path) is what new sessions get, even when this session
  // started before it was made. Without one (or with one that starts with "$user"), this session's own path shows
  // whether "$user" happens to resolve to the schema.
  const effective = effectiveSearchPathSetting(actualDb.facts);
  const explicitFirst = effective ? firstSchemaOf(effective.value) : undefined;
  if (explicitFirst !== expectedDb.schema) {
    if ((explicitFirst === undefined || explicitFirst === "$user") && firstSchema === expectedDb.schema) {
      // Works today only because the role is named like the schema: rename the role and the app breaks.
      add("SEARCH_PATH_NOT_PERSISTENT", "search_path", `${expectedDb.schema} first via ALTER DATABASE/ROLE ... SET search_path`, `${actualDb.facts.searchPath} (works only through "$user")`, "warning");
    } else {
      add("SEARCH_PATH_CHANGED", "search_path", `${expectedDb.schema} first, persistent for new sessions`, effective ? `${effective.value} (persistent setting)` : `${actualDb.facts.searchPath}${firstSchema ? ` (resolves to ${firstSchema} first)` : ""}`);
    }
  }

  // The version table is how netraven-db knows the database; a database the ORM built has none yet (init adopts it).
  const versionTable = expectedDb.versionTable;
  const actualHasVersionTable = actual.tables.includes(versionTable);
  if (!actualHasVersionTable) {
    add("VERSION_TABLE_MISSING", `table ${versionTable}`, "present (run netraven-db init to adopt this database)", "missing", "warning");
  } else if (!actualDb.facts.canReadVersion) {
    add("VERSION_UNREADABLE", "schema version", `readable (USAGE on the schema, SELECT on ${versionTable})`, "no privilege to read it", "warning");
  } else if (actualDb.schemaVersion === null) {
    add("VERSION_MISSING", "schema version", `${expectedDb.schemaVersion} (run netraven-db init)`, "none recorded", "warning");
  } else if (actualDb.schemaVersion !== expectedDb.schemaVersion) {
    const hint = actualDb.schemaVersion > expectedDb.schemaVersion ? " (the database is newer than this netraven-db)" : " (run netraven-db init)";
    add("VERSION_CHANGED", "schema version", `${expectedDb.schemaVersion}${hint}`, String(actualDb.schemaVersion));
  }
  const skipTable = (name: string) => name === versionTable && !actualHasVersionTable;

  // Tables.
  const tables = differences(expected.tables.filter((t) => !skipTable(t)), actual.tables, (t) => t);
  for (const t of tables.missing) add("TABLE_MISSING", `table ${t}`, "present", "missing", "error", { table: t });
  for (const t of tables.extra) add("TABLE_EXTRA", `table ${t}`, "absent (not in the definitions)", "present", extraSeverity);
  const shared = new Set(tables.both.map(([t]) => t));
  const inShared = <T extends { table: string }>(items: T[]) => items.filter((x) => shared.has(x.table));

  // Columns.
  const columns = differences(inShared(expected.columns), inShared(actual.columns), (c) => `${c.table}.${c.name}`);
  for (const c of columns.missing) add("COLUMN_MISSING", `column ${c.table}.${c.name}`, `${shortType(c.type)}${c.not_null ? " NOT NULL" : ""}`, "missing");
  for (const c of columns.extra) add("COLUMN_EXTRA", `column ${c.table}.${c.name}`, "absent (not in the definitions)", `${shortType(c.type)}${c.not_null ? " NOT NULL" : ""}`, extraSeverity);
  for (const [want, have] of columns.both) {
    const object = `column ${want.table}.${want.name}`;
    if (want.type !== have.type) add("COLUMN_TYPE_CHANGED", object, shortType(want.type), shortType(have.type));
    if (want.not_null !== have.not_null) add("COLUMN_NULLABILITY_CHANGED", object, want.not_null ? "NOT NULL" : "NULL", have.not_null ? "NOT NULL" : "NULL");
    if (describeDefault(want) !== describeDefault(have)) add("COLUMN_DEFAULT_CHANGED", object, describeDefault(want), describeDefault(have));
    if ((want.collation ?? "default") !== (have.collation ?? "default")) add("COLUMN_COLLATION_CHANGED", object, want.collation ?? "default", have.collation ?? "default");
  }

  // Primary keys: one per table, compared by columns (the name follows PostgreSQL's <table>_pkey either way).
  const pk = (model: SchemaModel) => inShared(model.constraints).filter((c) => c.type === "p");
  const pks = differences(pk(expected), pk(actual), (c) => c.table);
  for (const c of pks.missing) add("PRIMARY_KEY_MISSING", `primary key ${c.table}`, `(${(c.columns ?? []).join(", ")})`, "none");
  for (const c of pks.extra) add("PRIMARY_KEY_EXTRA", `primary key ${c.table}`, "none", `(${(c.columns ?? []).join(", ")})`, extraSeverity);
  for (const [want, have] of pks.both) {
    if ((want.columns ?? []).join() !== (have.columns ?? []).join()) add("PRIMARY_KEY_CHANGED", `primary key ${want.table}`, `(${(want.columns ?? []).join(", ")})`, `(${(have.columns ?? []).join(", ")})`);
  }

  // Unique, check and exclusion constraints: keyed by what they enforce, not by name.
  const byType = (model: SchemaModel, types: string[]) => inShared(model.constraints).filter((c) => types.includes(c.type));
  const uniques = differences(byType(expected, ["u"]), byType(actual, ["u"]), (c) => `${c.table}(${(c.columns ?? []).join(",")})`);
  for (const c of uniques.missing) add("UNIQUE_CONSTRAINT_MISSING", `unique constraint ${c.table}(${(c.columns ?? []).join(", ")})`, "present", "missing");
  for (const c of uniques.extra) add("UNIQUE_CONSTRAINT_EXTRA", `unique constraint ${c.name} on ${c.table}(${(c.columns ?? []).join(", ")})`, "absent", "present", extraSeverity);
  const checks = differences(byType(expected, ["c", "x"]), byType(actual, ["c", "x"]), (c) => `${c.table}|${c.definition}`);
  for (const c of checks.missing) add("CHECK_CONSTRAINT_MISSING", `constraint on ${c.table}`, c.definition, "missing");
  for (const c of checks.extra) add("CHECK_CONSTRAINT_EXTRA", `constraint ${c.name} on ${c.table}`, "absent", c.definition, extraSeverity);

  // Foreign keys: keyed by (columns -> target), then actions compared.
  const fkKey = (c: ConstraintModel) => `${c.table}(${(c.columns ?? []).join(",")})->${c.ref_same_schema ? "" : "*"}${c.ref_table}(${(c.ref_columns ?? []).join(",")})`;
  const fks = differences(byType(expected, ["f"]), byType(actual, ["f"]), fkKey);
  for (const c of fks.missing) add("FOREIGN_KEY_MISSING", foreignKeyObject(c), describeForeignKey(c), "missing");
  for (const c of fks.extra) add("FOREIGN_KEY_EXTRA", foreignKeyObject(c), "absent", describeForeignKey(c), extraSeverity);
  for (const [want, have] of fks.both) {
    if (describeForeignKey(want) !== describeForeignKey(have)) add("FOREIGN_KEY_CHANGED", foreignKeyObject(want), describeForeignKey(want), describeForeignKey(have));
  }

  // Indexes that back no constraint: keyed by name. A missing one whose twin exists under another name is a rename.
  const plainIndexes = (model: SchemaModel) => inShared(model.indexes).filter((ix) => !ix.constraint);
  const indexes = differences(plainIndexes(expected), plainIndexes(actual), (ix) => ix.name);
  const extras = [...indexes.extra];
  for (const ix of indexes.missing) {
    const twin = extras.findIndex((other) => indexShape(other) === indexShape(ix));
    if (twin >= 0) {
      add("INDEX_RENAMED", `index ${ix.name} on ${ix.table}`, ix.name, extras[twin]!.name);
      extras.splice(twin, 1);
    } else {
      add("INDEX_MISSING", `index ${ix.name} on ${ix.table}`, describeIndex(ix), "missing", "error", { table: ix.table, index: ix.name });
    }
  }
  for (const ix of extras) add("INDEX_EXTRA", `index ${ix.name} on ${ix.table}`, "absent", describeIndex(ix), extraSeverity);
  for (const [want, have] of indexes.both) {
    if (want.table !== have.table) add("INDEX_CHANGED", `index ${want.name}`, `on ${want.table}`, `on ${have.table}`);
    else if (indexShape(want) !== indexShape(have)) add("INDEX_CHANGED", `index ${want.name} on ${want.table}`, describeIndex(want), describeIndex(have));
  }

  return sortDrifts(drifts);
}

export function sortDrifts(drifts: Drift[]): Drift[] {
  // Code-point order, like `differences`: the output must not depend on the machine's locale.
  const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return drifts.sort((a, b) => byCodePoint(a.kind, b.kind) || byCodePoint(a.object, b.object));
}

export function hasErrors(drifts: readonly Drift[]): boolean {
  return drifts.some((d) => d.severity === "error");
}
