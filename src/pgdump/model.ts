// What a pg_dump file describes, built statement by statement (statement.ts recognises each one) with the rules that
// tie them together: one schema holds every table, only NetRaven tables, each created once, keys, indexes, comments,
// owners, privileges and sequences only on objects created before them, and every table's data present once with
// exactly its columns. Pure: the reader feeds it, the schema check and the import read it.
import { allTables, versionTable, type TableDef } from "../schema/index.ts";
import { identName, StatementRefused, type ColumnSpec, type DumpStatement, type ForeignKeyRules, type QualifiedName } from "./statement.ts";

export interface DumpTable {
  name: string;
  /** Line of its CREATE TABLE. */
  line: number;
  columns: ColumnSpec[];
  /** Its COPY block: the line, the column list and the rows counted. */
  data?: { line: number; columns: string[]; rows: number };
}

export interface DumpKey {
  table: string;
  name: string;
  columns: string[];
}

export interface DumpForeignKey extends DumpKey, ForeignKeyRules {
  refTable: string;
  refColumns: string[];
}

export interface DumpIndex {
  table: string;
  name: string;
  unique: boolean;
  method: string;
  columns: Array<{ name: string; order: string }>;
}

export interface DumpModel {
  /** The schema the dump's tables are in. */
  schema: string;
  tables: DumpTable[];
  primaryKeys: DumpKey[];
  uniques: DumpKey[];
  foreignKeys: DumpForeignKey[];
  indexes: DumpIndex[];
  /** Column defaults no scratch table can hold (a sequence, an identity): reported as differences as they are. */
  unrenderedDefaults: Array<{ table: string; column: string; text: string }>;
  extensions: string[];
  /** Versions recorded in the dump's netraven_db_version (a database netraven-db initialised); empty otherwise. */
  versions: number[];
  /** Statements accepted but not carried over: the restored tables get their owner and privileges from the target. */
  ignored: { owners: number; privileges: number; comments: number };
}

/** Extensions the NetRaven bootstrap installs (and plpgsql, which old pg_dump versions list). */
const KNOWN_EXTENSIONS = new Set(["uuid-ossp", "pgcrypto", "plpgsql"]);
const DEFINED = new Map(allTables.map((t) => [t.name, t]));
const MAX_VERSION_ROWS = 10_000;

export class DumpModelBuilder {
  private schema: string | undefined;
  private readonly schemas: Array<{ name: string; line: number; created: boolean }> = [];
  private readonly tables = new Map<string, DumpTable>();
  private readonly indexNames = new Set<string>();
  private readonly sequences = new Map<string, { line: number; owned: boolean }>();
  private readonly model: Omit<DumpModel, "schema" | "tables"> = {
    primaryKeys: [],
    uniques: [],
    foreignKeys: [],
    indexes: [],
    unrenderedDefaults: [],
    extensions: [],
    versions: [],
    ignored: { owners: 0, privileges: 0, comments: 0 },
  };
  private copying: { table: DumpTable; columns: string[]; line: number } | undefined;

  /** Takes one recognised statement (found at `line`); throws StatementRefused when it does not fit. */
  add(statement: DumpStatement, line: number): void {
    switch (statement.kind) {
      case "setting":
        return;
      case "schema":
        this.schemas.push({ name: statement.schema, line, created: true });
        return;
      case "schema-owner":
      case "schema-comment":
      case "schema-privilege":
        this.schemas.push({ name: statement.schema, line, created: false });
        if (statement.kind === "schema-owner") this.model.ignored.owners++;
        else if (statement.kind === "schema-comment") this.model.ignored.comments++;
        else this.model.ignored.privileges++;
        return;
      case "extension":
      case "extension-comment":
        if (!KNOWN_EXTENSIONS.has(statement.name)) throw new StatementRefused(`extension ${statement.name}, not part of the NetRaven schema (it uses uuid-ossp and pgcrypto only)`);
        if (statement.kind === "extension") this.model.extensions.push(statement.name);
        return;
      case "table":
        return this.addTable(statement.target, statement.columns, line);
      case "owner":
        if (statement.object === "sequence" || this.sequences.has(this.key(statement.target))) this.sequence(statement.target);
        else this.table(statement.target);
        this.model.ignored.owners++;
        return;
      case "comment":
        if (statement.on === "index") {
          this.inSchema(statement.target, "index");
          if (!this.indexNames.has(statement.target.name)) throw new StatementRefused(`a comment on index ${statement.target.name}, which the dump does not create`);
        } else if (statement.on === "sequence") this.sequence(statement.target);
        else this.table(statement.target);
        this.model.ignored.comments++;
        return;
      case "privilege":
        if (statement.on === "sequence") this.sequence(statement.target);
        else this.table(statement.target);
        this.model.ignored.privileges++;
        return;
      case "primary-key":
      case "unique": {
        const table = this.table(statement.target);
        this.columnsOf(table, statement.columns, `${statement.kind === "unique" ? "unique constraint" : "primary key"} ${statement.name}`);
        (statement.kind === "unique" ? this.model.uniques : this.model.primaryKeys).push({ table: table.name, name: statement.name, columns: statement.columns });
        return;
      }
      case "foreign-key": {
        const table = this.table(statement.target);
        const parent = this.table(statement.references);
        this.columnsOf(table, statement.columns, `foreign key ${statement.name}`);
        this.columnsOf(parent, statement.refColumns, `foreign key ${statement.name}`);
        const { kind: _kind, target: _target, references: _references, ...rest } = statement;
        this.model.foreignKeys.push({ ...rest, table: table.name, refTable: parent.name });
        return;
      }
      case "index": {
        const table = this.table(statement.target);
        this.columnsOf(table, statement.columns.map((c) => c.name), `index ${statement.name}`);
        if (this.indexNames.has(statement.name)) throw new StatementRefused(`index ${statement.name} is created twice`);
        this.indexNames.add(statement.name);
        this.model.indexes.push({ table: table.name, name: statement.name, unique: statement.unique, method: statement.method, columns: statement.columns });
        return;
      }
      case "sequence":
        this.inSchema(statement.target, "sequence");
        this.sequences.set(this.key(statement.target), { line, owned: false });
        return;
      case "sequence-owned": {
        const table = this.table(statement.table);
        this.columnsOf(table, [statement.column], `sequence ${statement.target.name}`);
        this.sequence(statement.target).owned = true;
        return;
      }
      case "sequence-default": {
        const table = this.table(statement.target);
        this.columnsOf(table, [statement.column], "a column default");
        this.model.unrenderedDefaults.push({ table: table.name, column: statement.column, text: `nextval('${statement.sequence}'::regclass)` });
        return;
      }
      case "identity": {
        const table = this.table(statement.target);
        this.columnsOf(table, [statement.column], "an identity column");
        this.inSchema(statement.sequence, "sequence");
        this.sequences.set(this.key(statement.sequence), { line, owned: true });
        this.model.unrenderedDefaults.push({ table: table.name, column: statement.column, text: `generated ${statement.always ? "always" : "by default"} as identity` });
        return;
      }
      case "setval": {
        const match = statement.sequence.match(/^(?:("(?:[^"]|"")+"|[a-z_][a-z0-9_]*)\.)?("(?:[^"]|"")+"|[a-z_][a-z0-9_]*)$/);
        if (!match) throw new StatementRefused(`setval of "${statement.sequence}", not a sequence of the NetRaven tables`);
        this.sequence({ schema: match[1] ? identName(match[1]) : (this.schema ?? ""), name: identName(match[2]!) });
        return;
      }
      case "copy":
        throw new Error("COPY goes through startCopy");
    }
  }

  /** A COPY block starts: returns the definition to load it into and the dump's column order. */
  startCopy(statement: Extract<DumpStatement, { kind: "copy" }>, line: number): { table: TableDef; columns: string[] } {
    const table = this.table(statement.target);
    if (table.data) throw new StatementRefused(`a second COPY block for table ${table.name} (the first is at line ${table.data.line})`);
    const created = table.columns.map((c) => c.name);
    if (created.join("\u0000") !== statement.columns.join("\u0000")) {
      throw new StatementRefused(`the COPY block of table ${table.name} lists columns (${statement.columns.join(", ")}), its CREATE TABLE has (${created.join(", ")})`);
    }
    this.copying = { table, columns: statement.columns, line };
    return { table: DEFINED.get(table.name)!, columns: statement.columns };
  }

  /** The COPY block ended after `rows` rows; `sample` holds the rows' text for the version table (small). */
  endCopy(rows: number, sample: string[]): void {
    const { table, columns, line } = this.copying!;
    table.data = { line, columns, rows };
    this.copying = undefined;
    if (table.name !== versionTable.name) return;
    const at = columns.indexOf("version");
    for (const row of sample.slice(0, MAX_VERSION_ROWS)) {
      const value = row.split("\t")[at];
      if (value === undefined || !/^\d{1,9}$/.test(value)) throw new StatementRefused(`table ${versionTable.name} holds a version that is not a number: ${JSON.stringify(value ?? "").slice(0, 40)}`);
      this.model.versions.push(Number(value));
    }
  }

  /** The dump is complete: the rules that need all of it. */
  finish(): DumpModel {
    if (!this.schema) throw new StatementRefused("the dump holds none of the NetRaven tables");
    for (const s of this.schemas) {
      if (s.name === this.schema || (!s.created && s.name === "public")) continue;
      throw new StatementRefused(`schema ${s.name} (line ${s.line}): the dump holds more than the NetRaven schema "${this.schema}"`);
    }
    for (const table of this.tables.values()) {
      if (!table.data) throw new StatementRefused(`table ${table.name} has no data in the dump (made with --schema-only or --exclude-table-data?)`);
    }
    for (const [name, sequence] of this.sequences) {
      if (!sequence.owned) throw new StatementRefused(`sequence ${name} (line ${sequence.line}) does not belong to a column of a NetRaven table`);
    }
    return { schema: this.schema, tables: [...this.tables.values()], ...this.model };
  }

  private key(name: QualifiedName): string {
    return `${name.schema}.${name.name}`;
  }

  /** Every object lives in the tables' schema (the first table decides which). */
  private inSchema(name: QualifiedName, what: string): void {
    if (this.schema === undefined) this.schema = name.schema;
    if (name.schema !== this.schema) throw new StatementRefused(`${what} ${name.schema}.${name.name} is not in schema "${this.schema}", where the dump's NetRaven tables are`);
  }

  private addTable(target: QualifiedName, columns: ColumnSpec[], line: number): void {
    if (!DEFINED.has(target.name)) throw new StatementRefused(`table ${target.schema}.${target.name}, which is not a NetRaven table`);
    this.inSchema(target, "table");
    const existing = this.tables.get(target.name);
    if (existing) throw new StatementRefused(`table ${target.name} is created twice (first at line ${existing.line})`);
    const seen = new Set<string>();
    for (const column of columns) {
      if (seen.has(column.name)) throw new StatementRefused(`table ${target.name} has column ${column.name} twice`);
      seen.add(column.name);
      if (column.default && !column.default.renderable) this.model.unrenderedDefaults.push({ table: target.name, column: column.name, text: column.default.text });
    }
    this.tables.set(target.name, { name: target.name, line, columns });
  }

  private table(name: QualifiedName): DumpTable {
    const table = this.tables.get(name.name);
    if (!table || name.schema !== this.schema) {
      if (!DEFINED.has(name.name)) throw new StatementRefused(`table ${name.schema}.${name.name}, which is not a NetRaven table`);
      throw new StatementRefused(`table ${name.schema}.${name.name} is used before the dump creates it (a --data-only dump cannot be checked)`);
    }
    return table;
  }

  private sequence(name: QualifiedName): { line: number; owned: boolean } {
    const sequence = this.sequences.get(this.key(name));
    if (!sequence) throw new StatementRefused(`${name.schema}.${name.name}, which the dump does not create as a NetRaven table or sequence`);
    return sequence;
  }

  private columnsOf(table: DumpTable, columns: string[], what: string): void {
    const known = new Set(table.columns.map((c) => c.name));
    for (const column of columns) if (!known.has(column)) throw new StatementRefused(`${what} names column ${column}, which table ${table.name} does not have`);
  }
}
