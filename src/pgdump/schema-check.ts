// Does a pg_dump file describe the NetRaven schema? Its tables, keys, foreign keys and indexes (re-rendered from the
// recognised statements: the dump's own SQL text is never sent) are created as temporary tables in a transaction
// that is always rolled back, and PostgreSQL's catalog of them is compared with the definitions by the same
// comparison validate and init's adoption use, so type spellings are normalised by the server, not by us. The live
// schema is never touched: temporary objects are private to this session and need only the TEMPORARY privilege.
//
// The verdict follows adoption: what init would repair by itself is accepted (a table or index the dump lacks: the
// restored tables are built from the definitions anyway), extras are warnings and are not carried over, anything
// else refuses the file. One rule is stricter than adoption: a column the definitions do not have refuses the file,
// because its data would be lost.
import type { Sql, TransactionSql } from "../db.ts";
import { translateError } from "../db.ts";
import { Errors } from "../errors.ts";
import { inspectDatabase, inspectSchema } from "../catalog/inspect.ts";
import { quoteIdent } from "../quote.ts";
import { allTables, EXTENSIONS, versionTable } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import { diffSchema, sortDrifts, type Drift } from "../validate/diff.ts";
import { materializeDefinitions } from "../validate/materialize.ts";
import type { DumpModel } from "./model.ts";

export interface SchemaVerdict {
  /** Every difference from the definitions. */
  drifts: Drift[];
  /** The differences that refuse the file (empty: it may be imported). */
  refused: Drift[];
  /** Accepted: what the dump lacks (restored empty or built from the definitions). */
  missing: Drift[];
  /** Accepted: what the dump has beyond the definitions, which the import does not carry over. */
  notCarried: Drift[];
}

/** What adoption repairs by itself, for tables and indexes: accepted in a dump. */
const ACCEPTED = new Set(["TABLE_MISSING", "INDEX_MISSING"]);
/** Database-level kinds: the scratch copy has no database of its own. */
const DATABASE_LEVEL = /^(EXTENSION_|SEARCH_PATH_|VERSION_|SCHEMA_)/;

const q = quoteIdent;
const temp = (name: string) => `pg_temp.${q(name)}`;
const list = (names: string[]) => names.map(q).join(", ");

/** The dump's objects as DDL for temporary tables; identifiers quoted, types and keywords from closed lists. */
export function renderDumpTables(model: DumpModel): string[] {
  const statements: string[] = [];
  for (const table of model.tables) {
    const columns = table.columns.map((c) => {
      const collation = c.collation ? ` COLLATE ${c.collation.map(q).join(".")}` : "";
      const defaultExpr = c.default?.renderable ? ` DEFAULT ${c.default.text}` : "";
      return `${q(c.name)} ${c.type}${collation}${defaultExpr}${c.notNull ? " NOT NULL" : ""}`;
    });
    statements.push(`CREATE TABLE ${temp(table.name)} (${columns.join(", ")})`);
  }
  for (const key of model.primaryKeys) statements.push(`ALTER TABLE ${temp(key.table)} ADD CONSTRAINT ${q(key.name)} PRIMARY KEY (${list(key.columns)})`);
  for (const key of model.uniques) statements.push(`ALTER TABLE ${temp(key.table)} ADD CONSTRAINT ${q(key.name)} UNIQUE (${list(key.columns)})`);
  for (const ix of model.indexes) {
    const columns = ix.columns.map((c) => `${q(c.name)}${c.order ? ` ${c.order}` : ""}`).join(", ");
    statements.push(`CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${q(ix.name)} ON ${temp(ix.table)} USING ${ix.method} (${columns})`);
  }
  for (const fk of model.foreignKeys) {
    statements.push(
      `ALTER TABLE ${temp(fk.table)} ADD CONSTRAINT ${q(fk.name)} FOREIGN KEY (${list(fk.columns)}) REFERENCES ${temp(fk.refTable)} (${list(fk.refColumns)})` +
        `${fk.matchFull ? " MATCH FULL" : ""} ON UPDATE ${fk.onUpdate} ON DELETE ${fk.onDelete}${fk.deferrable ? " DEFERRABLE" : ""}${fk.deferred ? " INITIALLY DEFERRED" : ""}`,
    );
  }
  return statements;
}

const ROLLBACK = Symbol("rollback");

/** Runs `body` in a savepoint that is always rolled back; returns what it returned. */
async function undone<T>(tx: TransactionSql, body: (sp: TransactionSql) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await tx.savepoint(async (sp) => {
      result = await body(sp);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  return result!;
}

/** Whether a server error came from the dump's own objects (a type, collation or key the server will not take). */
const fromTheDump = (error: unknown) => /^(42|22|23)/.test((error as { code?: string }).code ?? "");

export async function checkDumpSchema(sql: Sql, name: string, model: DumpModel): Promise<SchemaVerdict> {
  let drifts: Drift[] = [];
  try {
    await sql.begin("read write", async (tx) => {
      await tx`set local lock_timeout = '5s'`;
      await tx`set local statement_timeout = '60s'`;
      const expected = await undone(tx, async (sp) => inspectSchema(sp, await materializeDefinitions(sp, allTables)));
      const actual = await undone(tx, async (sp) => {
        try {
          await sp.unsafe(renderDumpTables(model).join(";\n")).simple();
        } catch (error) {
          if (!fromTheDump(error)) throw error;
          throw Errors.badBackup(name, `its tables are not the NetRaven schema: ${(error as Error).message}; not imported`);
        }
        const [row] = await sp<{ name: string }[]>`select nspname as name from pg_namespace where oid = pg_my_temp_schema()`;
        return { model: await inspectSchema(sp, row!.name), facts: await inspectDatabase(sp, row!.name) };
      });
      drifts = diffSchema(expected, actual.model, { schema: model.schema, extensions: EXTENSIONS, schemaVersion: SCHEMA_VERSION, versionTable: versionTable.name }, { facts: actual.facts, schemaVersion: null });
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw translateError(error, "checking the dump's tables against the definitions");
  }
  // Defaults no scratch table can hold (a sequence, an identity, an odd literal) are compared as the dump wrote them.
  const defined = new Map(allTables.flatMap((t) => t.columns.map((c) => [`${t.name}.${c.name}`, c.default ?? "none"] as const)));
  const unrendered = new Set(model.unrenderedDefaults.map((d) => `column ${d.table}.${d.column}`));
  drifts = drifts.filter((d) => !DATABASE_LEVEL.test(d.kind) && !(d.kind === "COLUMN_DEFAULT_CHANGED" && unrendered.has(d.object)));
  for (const d of model.unrenderedDefaults) {
    drifts.push({ kind: "COLUMN_DEFAULT_CHANGED", object: `column ${d.table}.${d.column}`, expected: defined.get(`${d.table}.${d.column}`) ?? "none", found: d.text, severity: "error" });
  }
  drifts = sortDrifts(drifts);
  return {
    drifts,
    refused: drifts.filter((d) => d.kind === "COLUMN_EXTRA" || (d.severity === "error" && !ACCEPTED.has(d.kind))),
    missing: drifts.filter((d) => ACCEPTED.has(d.kind)),
    notCarried: drifts.filter((d) => d.severity === "warning" && d.kind !== "COLUMN_EXTRA"),
  };
}
