// The strict recogniser for one statement of a plain pg_dump script. It accepts only the forms pg_dump writes for the
// NetRaven tables (settings, the schema, the two extensions, CREATE TABLE, owners, keys, foreign keys, indexes,
// comments, privileges, sequences, COPY) and turns each into plain data; anything else is refused with words
// saying what it is (a function, a trigger, another table...). Nothing here is ever sent to a server: what is
// accepted is re-rendered from the data with every identifier quoted and every type, default and keyword taken
// from a closed list, so a crafted file cannot smuggle SQL through a form that looks right.

/** A refused statement: `reason` says what it is, in words; the reader adds the line number. */
export class StatementRefused extends Error {
  override readonly name = "StatementRefused";
}

const ID = String.raw`(?:[a-z_][a-z0-9_]*|"(?:[^"]|"")+")`;
const QN = String.raw`${ID}\.${ID}`;
const LIST = String.raw`${ID}(?:, ${ID})*`;
const LITERAL = String.raw`'(?:[^']|'')*'`;
/** Types as PostgreSQL's format_type() spells them (what pg_dump writes); built-in types only. */
export const TYPE = String.raw`(?:character varying(?:\(\d+\))?|character(?:\(\d+\))?|bit varying(?:\(\d+\))?|bit(?:\(\d+\))?|numeric(?:\(\d+(?:,\d+)?\))?|timestamp(?:\(\d\))? with(?:out)? time zone|time(?:\(\d\))? with(?:out)? time zone|interval(?:\(\d\))?|"char"|text|boolean|smallint|integer|bigint|real|double precision|date|jsonb|json|uuid|bytea|inet|cidr|macaddr8|macaddr|money|xml|tsvector|tsquery|oid)(?:\[\])?`;
const ACTION = "(NO ACTION|RESTRICT|CASCADE|SET NULL|SET DEFAULT)";
const PRIVILEGE = String.raw`(?:ALL|SELECT|INSERT|UPDATE|DELETE|TRUNCATE|REFERENCES|TRIGGER|USAGE|CREATE)(?:\(${LIST}\))?`;
const GRANTEE = String.raw`(?:PUBLIC|${ID})`;

/** Defaults that may be rendered into a scratch table: keywords, booleans, numbers, casts of plain literals. */
const RENDERABLE_DEFAULT = new RegExp(String.raw`^(?:now\(\)|CURRENT_TIMESTAMP|CURRENT_DATE|LOCALTIMESTAMP|true|false|-?\d+(?:\.\d+)?|NULL::${TYPE}|'[^'\\]*'::${TYPE})$`);
/** Defaults pg_dump writes that are recognised but only reported (a sequence, a literal with quotes or backslashes). */
const DEFAULT = String.raw`(?:now\(\)|CURRENT_TIMESTAMP|CURRENT_DATE|LOCALTIMESTAMP|true|false|-?\d+(?:\.\d+)?|NULL::${TYPE}|${LITERAL}::${TYPE}|nextval\('(?:[^'\\]|'')*'::regclass\))`;

export interface ColumnSpec {
  name: string;
  /** As pg_dump wrote it (format_type), e.g. `character varying(36)`. */
  type: string;
  notNull: boolean;
  /** Qualified collation name, when not the type's default. */
  collation?: string[];
  default?: { text: string; renderable: boolean };
}

export interface QualifiedName {
  schema: string;
  name: string;
}

/** What a foreign key does besides pointing: the same fields in a statement and in the dump's model. */
export interface ForeignKeyRules {
  matchFull: boolean;
  onUpdate: string;
  onDelete: string;
  deferrable: boolean;
  deferred: boolean;
}

export type DumpStatement =
  | { kind: "setting"; name: string; value: string }
  | { kind: "schema"; schema: string }
  | { kind: "extension"; name: string }
  | { kind: "owner"; object: "table" | "sequence"; target: QualifiedName }
  | { kind: "schema-owner"; schema: string }
  | { kind: "comment"; on: "column" | "table" | "index" | "constraint" | "sequence"; target: QualifiedName }
  | { kind: "schema-comment"; schema: string }
  | { kind: "extension-comment"; name: string }
  | { kind: "privilege"; on: "table" | "sequence"; target: QualifiedName }
  | { kind: "schema-privilege"; schema: string }
  | { kind: "table"; target: QualifiedName; columns: ColumnSpec[] }
  | { kind: "primary-key" | "unique"; target: QualifiedName; name: string; columns: string[] }
  | ({ kind: "foreign-key"; target: QualifiedName; name: string; columns: string[]; references: QualifiedName; refColumns: string[] } & ForeignKeyRules)
  | { kind: "index"; target: QualifiedName; name: string; unique: boolean; method: string; columns: Array<{ name: string; order: string }> }
  | { kind: "sequence"; target: QualifiedName }
  | { kind: "sequence-owned"; target: QualifiedName; table: QualifiedName; column: string }
  | { kind: "sequence-default"; target: QualifiedName; column: string; sequence: string }
  | { kind: "identity"; target: QualifiedName; column: string; always: boolean; sequence: QualifiedName }
  | { kind: "setval"; sequence: string }
  | { kind: "copy"; target: QualifiedName; columns: string[] };

/** A quoted or bare identifier as the name it stands for. */
export function identName(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replace(/""/g, '"') : token;
}

function qualified(token: string): QualifiedName {
  const match = token.match(new RegExp(`^(${ID})\\.(${ID})$`))!;
  return { schema: identName(match[1]!), name: identName(match[2]!) };
}

function names(list: string): string[] {
  return splitTopLevel(list).map((item) => identName(item));
}

/** Splits at commas outside parentheses, quotes and identifiers. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/** Whether a closing parenthesis outside quotes comes before its opening one. */
function depthDips(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return true;
  }
  return false;
}

/**
 * One line per statement, whatever pg_dump's layout: whitespace outside quotes becomes one space, and none is kept
 * just inside parentheses. Quoted text is kept byte for byte.
 */
export function normalise(statement: string): string {
  let out = "";
  let quote: string | undefined;
  let space = false;
  for (const c of statement) {
    if (quote) {
      out += c;
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === " " || c === "\n" || c === "\t" || c === "\r") {
      space = true;
      continue;
    }
    if (space && out !== "" && !out.endsWith("(") && c !== ")" && c !== ";") out += " ";
    space = false;
    out += c;
    if (c === "'" || c === '"') quote = c;
  }
  return out;
}

const excerpt = (sql: string) => (sql.length > 90 ? `${sql.slice(0, 90)}...` : sql);

/** What a refused statement is, in words. */
const FOREIGN_KINDS: Array<[RegExp, string]> = [
  [/^CREATE (OR REPLACE )?(FUNCTION|PROCEDURE)\b/, "a function"],
  [/^CREATE (OR REPLACE )?(CONSTRAINT )?TRIGGER\b/, "a trigger"],
  [/^CREATE EVENT TRIGGER\b/, "an event trigger"],
  [/^CREATE (OR REPLACE )?(MATERIALIZED |RECURSIVE )?VIEW\b/, "a view"],
  [/^CREATE POLICY\b/, "a row-level security policy"],
  [/^ALTER TABLE .* (ENABLE|DISABLE|FORCE|NO FORCE) ROW LEVEL SECURITY;$/, "row-level security"],
  [/^ALTER TABLE .* (ENABLE|DISABLE) (ALWAYS |REPLICA )?(TRIGGER|RULE)\b/, "a trigger setting"],
  [/^DO\b/, "a DO block"],
  [/^CREATE (TYPE|DOMAIN)\b/, "a type"],
  [/^CREATE (OR REPLACE )?RULE\b/, "a rule"],
  [/^CREATE (OR REPLACE )?(AGGREGATE|OPERATOR|CAST|COLLATION|CONVERSION|TEXT SEARCH|(TRUSTED )?(PROCEDURAL )?LANGUAGE|ACCESS METHOD|STATISTICS|PUBLICATION|SUBSCRIPTION|SERVER|FOREIGN|USER MAPPING|TRANSFORM)\b/, "an object"],
  [/^CREATE (UNLOGGED |TEMP |TEMPORARY |FOREIGN )?TABLE\b/, "a table"],
  [/^INSERT INTO\b/, "an INSERT (a dump made with --inserts; only COPY data, pg_dump's default, is accepted)"],
  [/^(CREATE|ALTER|DROP) DATABASE\b/, "database-level SQL (a dump made with --create)"],
  [/^DROP\b/, "a DROP statement (a dump made with --clean)"],
  [/^ALTER DEFAULT PRIVILEGES\b/, "default privileges"],
  [/^(GRANT|REVOKE)\b/, "a privilege on an object outside the NetRaven tables"],
  [/^SECURITY LABEL\b/, "a security label"],
  [/^SELECT (pg_catalog\.)?lo_/, "a large object"],
  [/^(SELECT|UPDATE|DELETE|TRUNCATE|CALL|EXECUTE|PREPARE|COPY .* TO|COPY .* FROM (?!stdin))/, "a query"],
];

function refuse(sql: string): never {
  for (const [pattern, what] of FOREIGN_KINDS) {
    if (pattern.test(sql)) throw new StatementRefused(`${what}, not part of the NetRaven schema: ${excerpt(sql)}`);
  }
  throw new StatementRefused(`a statement pg_dump does not write for the NetRaven tables: ${excerpt(sql)}`);
}

/** The values pg_dump's preamble sets; the encoding and string syntax must be the ones the data is read with. */
const SETTINGS: Record<string, RegExp> = {
  statement_timeout: /^0$/,
  lock_timeout: /^0$/,
  idle_in_transaction_session_timeout: /^0$/,
  transaction_timeout: /^0$/,
  client_encoding: /^'UTF8'$/,
  standard_conforming_strings: /^on$/,
  check_function_bodies: /^false$/,
  xmloption: /^content$/,
  client_min_messages: /^warning$/,
  row_security: /^off$/,
  default_tablespace: /^''$/,
  default_table_access_method: /^heap$/,
  default_with_oids: /^false$/,
};

function recogniseSetting(name: string, value: string, sql: string): DumpStatement {
  const allowed = SETTINGS[name];
  if (name === "client_encoding" && !allowed!.test(value)) throw new StatementRefused(`the dump is in encoding ${value}; only UTF8 dumps can be imported (${excerpt(sql)})`);
  if (name === "standard_conforming_strings" && !allowed!.test(value)) throw new StatementRefused(`the dump was written with standard_conforming_strings = ${value}; only "on" (pg_dump's default since PostgreSQL 9.1) is accepted`);
  if (!allowed || !allowed.test(value)) throw new StatementRefused(`a setting pg_dump does not write: ${excerpt(sql)}`);
  return { kind: "setting", name, value };
}

export function recogniseColumn(text: string): ColumnSpec {
  if (/^CONSTRAINT /.test(text)) {
    const what = / CHECK /.test(text) ? "a CHECK constraint" : / EXCLUDE /.test(text) ? "an exclusion constraint" : "a table constraint";
    throw new StatementRefused(`${what}, not part of the NetRaven schema: ${excerpt(text)}`);
  }
  const head = text.match(new RegExp(`^(${ID}) (.*)$`));
  if (!head) throw new StatementRefused(`a column definition pg_dump does not write: ${excerpt(text)}`);
  const name = identName(head[1]!);
  const typed = head[2]!.match(new RegExp(`^(${TYPE})(?= |$)(.*)$`));
  if (!typed) throw new StatementRefused(`column ${name} has type ${excerpt(head[2]!.split(/ (?:NOT NULL|DEFAULT|COLLATE)\b/)[0]!)}, which is not a built-in type the NetRaven schema could use`);
  const column: ColumnSpec = { name, type: typed[1]!, notNull: false };
  let rest = typed[2]!;
  while (rest !== "") {
    let match: RegExpMatchArray | null;
    if ((match = rest.match(/^ NOT NULL(?= |$)/))) column.notNull = true;
    else if ((match = rest.match(new RegExp(`^ COLLATE (${QN}|${ID})(?= |$)`)))) column.collation = match[1]!.includes(".") ? Object.values(qualified(match[1]!)) : [identName(match[1]!)];
    else if ((match = rest.match(new RegExp(`^ DEFAULT (${DEFAULT})(?= |$)`)))) column.default = { text: match[1]!, renderable: RENDERABLE_DEFAULT.test(match[1]!) };
    else if (/^ GENERATED ALWAYS AS \(/.test(rest)) throw new StatementRefused(`column ${name} is a generated column, not part of the NetRaven schema`);
    else if (/^ DEFAULT /.test(rest)) throw new StatementRefused(`column ${name} has a default the NetRaven schema does not have: ${excerpt(rest.slice(1))}`);
    else throw new StatementRefused(`column ${name}: ${excerpt(rest.trim())} is not something pg_dump writes for the NetRaven tables`);
    rest = rest.slice(match[0].length);
  }
  return column;
}

function recogniseTable(sql: string): DumpStatement {
  const match = sql.match(new RegExp(`^CREATE TABLE (${QN}) \\((.*)\\);$`));
  if (!match) return refuse(sql);
  const body = match[2]!;
  // The column list must be the whole parenthesis: INHERITS, PARTITION BY or WITH (...) after it is another kind of table.
  if (splitTopLevel(body).some((part) => depthDips(part))) {
    throw new StatementRefused(`a table with options the NetRaven tables do not have (INHERITS, PARTITION BY, WITH ...): ${excerpt(sql)}`);
  }
  return { kind: "table", target: qualified(match[1]!), columns: splitTopLevel(body).map(recogniseColumn) };
}

type Rule = [RegExp, (m: RegExpMatchArray, sql: string) => DumpStatement];

const RULES: Rule[] = [
  [/^SET ([a-z_]+) = (.+);$/, (m, sql) => recogniseSetting(m[1]!, m[2]!, sql)],
  [/^SELECT pg_catalog\.set_config\('search_path', '', false\);$/, () => ({ kind: "setting", name: "search_path", value: "''" })],
  [new RegExp(`^CREATE SCHEMA (${ID});$`), (m) => ({ kind: "schema", schema: identName(m[1]!) })],
  [new RegExp(`^ALTER SCHEMA (${ID}) OWNER TO ${ID};$`), (m) => ({ kind: "schema-owner", schema: identName(m[1]!) })],
  [new RegExp(`^COMMENT ON SCHEMA (${ID}) IS (?:${LITERAL}|NULL);$`), (m) => ({ kind: "schema-comment", schema: identName(m[1]!) })],
  [new RegExp(`^CREATE EXTENSION IF NOT EXISTS (${ID}) WITH SCHEMA ${ID};$`), (m) => ({ kind: "extension", name: identName(m[1]!) })],
  [new RegExp(`^COMMENT ON EXTENSION (${ID}) IS (?:${LITERAL}|NULL);$`), (m) => ({ kind: "extension-comment", name: identName(m[1]!) })],
  [/^CREATE TABLE /, (_m, sql) => recogniseTable(sql)],
  [new RegExp(`^ALTER (TABLE|SEQUENCE) (${QN}) OWNER TO ${ID};$`), (m) => ({ kind: "owner", object: m[1] === "TABLE" ? "table" : "sequence", target: qualified(m[2]!) })],
  [
    new RegExp(`^ALTER TABLE ONLY (${QN}) ADD CONSTRAINT (${ID}) (PRIMARY KEY|UNIQUE) \\((${LIST})\\);$`),
    (m) => ({ kind: m[3] === "UNIQUE" ? "unique" : "primary-key", target: qualified(m[1]!), name: identName(m[2]!), columns: names(m[4]!) }),
  ],
  [
    new RegExp(`^ALTER TABLE ONLY (${QN}) ADD CONSTRAINT (${ID}) FOREIGN KEY \\((${LIST})\\) REFERENCES (${QN})\\((${LIST})\\)( MATCH FULL)?(?: ON UPDATE ${ACTION})?(?: ON DELETE ${ACTION})?( DEFERRABLE)?( INITIALLY DEFERRED)?;$`),
    (m) => ({
      kind: "foreign-key",
      target: qualified(m[1]!),
      name: identName(m[2]!),
      columns: names(m[3]!),
      references: qualified(m[4]!),
      refColumns: names(m[5]!),
      matchFull: Boolean(m[6]),
      onUpdate: m[7] ?? "NO ACTION",
      onDelete: m[8] ?? "NO ACTION",
      deferrable: Boolean(m[9]),
      deferred: Boolean(m[10]),
    }),
  ],
  [
    new RegExp(`^CREATE (UNIQUE )?INDEX (${ID}) ON (${QN}) USING (btree|hash|gist|gin|brin|spgist) \\((${ID}(?: DESC)?(?: NULLS (?:FIRST|LAST))?(?:, ${ID}(?: DESC)?(?: NULLS (?:FIRST|LAST))?)*)\\);$`),
    (m) => ({
      kind: "index",
      unique: Boolean(m[1]),
      name: identName(m[2]!),
      target: qualified(m[3]!),
      method: m[4]!,
      columns: splitTopLevel(m[5]!).map((part) => {
        const [, column, order] = part.match(new RegExp(`^(${ID})(.*)$`))!;
        return { name: identName(column!), order: order!.trim() };
      }),
    }),
  ],
  [new RegExp(`^COMMENT ON COLUMN (${QN})\\.${ID} IS (?:${LITERAL}|NULL);$`), (m) => ({ kind: "comment", on: "column", target: qualified(m[1]!) })],
  [new RegExp(`^COMMENT ON (TABLE|INDEX|SEQUENCE) (${QN}) IS (?:${LITERAL}|NULL);$`), (m) => ({ kind: "comment", on: m[1]!.toLowerCase() as "table", target: qualified(m[2]!) })],
  [new RegExp(`^COMMENT ON CONSTRAINT ${ID} ON (${QN}) IS (?:${LITERAL}|NULL);$`), (m) => ({ kind: "comment", on: "constraint", target: qualified(m[1]!) })],
  [
    new RegExp(`^(?:GRANT ${PRIVILEGE}(?:,${PRIVILEGE})* ON (TABLE|SEQUENCE) (${QN}) TO ${GRANTEE}(?: WITH GRANT OPTION)?|REVOKE ${PRIVILEGE}(?:,${PRIVILEGE})* ON (TABLE|SEQUENCE) (${QN}) FROM ${GRANTEE});$`),
    (m) => ({ kind: "privilege", on: (m[1] ?? m[3])!.toLowerCase() as "table", target: qualified((m[2] ?? m[4])!) }),
  ],
  [
    new RegExp(`^(?:GRANT ${PRIVILEGE}(?:,${PRIVILEGE})* ON SCHEMA (${ID}) TO ${GRANTEE}(?: WITH GRANT OPTION)?|REVOKE ${PRIVILEGE}(?:,${PRIVILEGE})* ON SCHEMA (${ID}) FROM ${GRANTEE});$`),
    (m) => ({ kind: "schema-privilege", schema: identName((m[1] ?? m[2])!) }),
  ],
  [
    new RegExp(`^CREATE SEQUENCE (${QN})(?: AS (?:smallint|integer|bigint))? START WITH -?\\d+ INCREMENT BY -?\\d+ (?:NO MINVALUE|MINVALUE -?\\d+) (?:NO MAXVALUE|MAXVALUE -?\\d+) CACHE \\d+(?: CYCLE)?;$`),
    (m) => ({ kind: "sequence", target: qualified(m[1]!) }),
  ],
  [new RegExp(`^ALTER SEQUENCE (${QN}) OWNED BY (${QN})\\.(${ID});$`), (m) => ({ kind: "sequence-owned", target: qualified(m[1]!), table: qualified(m[2]!), column: identName(m[3]!) })],
  [
    new RegExp(`^ALTER TABLE ONLY (${QN}) ALTER COLUMN (${ID}) SET DEFAULT nextval\\('((?:[^'\\\\]|'')*)'::regclass\\);$`),
    (m) => ({ kind: "sequence-default", target: qualified(m[1]!), column: identName(m[2]!), sequence: m[3]!.replace(/''/g, "'") }),
  ],
  [
    new RegExp(`^ALTER TABLE (${QN}) ALTER COLUMN (${ID}) ADD GENERATED (ALWAYS|BY DEFAULT) AS IDENTITY \\(SEQUENCE NAME (${QN}) START WITH -?\\d+ INCREMENT BY -?\\d+ (?:NO MINVALUE|MINVALUE -?\\d+) (?:NO MAXVALUE|MAXVALUE -?\\d+) CACHE \\d+(?: CYCLE)?\\);$`),
    (m) => ({ kind: "identity", target: qualified(m[1]!), column: identName(m[2]!), always: m[3] === "ALWAYS", sequence: qualified(m[4]!) }),
  ],
  [/^SELECT pg_catalog\.setval\('((?:[^'\\]|'')*)', -?\d+, (?:true|false)\);$/, (m) => ({ kind: "setval", sequence: m[1]!.replace(/''/g, "'") })],
  [new RegExp(`^COPY (${QN}) \\((${LIST})\\) FROM stdin;$`), (m) => ({ kind: "copy", target: qualified(m[1]!), columns: names(m[2]!) })],
];

/** One complete statement (as pg_dump wrote it, with its `;`) as data, or a StatementRefused naming what it is. */
export function recogniseStatement(statement: string): DumpStatement {
  const sql = normalise(statement);
  for (const [pattern, make] of RULES) {
    const match = sql.match(pattern);
    if (match) return make(match, sql);
  }
  return refuse(sql);
}
