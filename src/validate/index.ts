// validate = inspect the live schema + materialise the definitions as temp tables + diff the two catalogs.
// Nothing is ever committed: the work happens in a transaction (or a savepoint inside init's transaction) that is
// always rolled back.
import { translateError, type Queryable, type Sql, type TransactionSql } from "../db.ts";
import { allTables, EXTENSIONS, versionTable } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import { diffSchema, hasErrors, type DiffOptions, type Drift } from "./diff.ts";
import { inspectDatabase, inspectSchema, type SchemaModel } from "../catalog/inspect.ts";
import { readSchemaVersion } from "../schema-version.ts";
import { materializeDefinitions } from "./materialize.ts";

export interface ValidationResult {
  ok: boolean;
  schema: string;
  tablesChecked: number;
  /** Defined tables found in the schema (0: nothing to compare, the database was never initialised). */
  tablesPresent: number;
  schemaExists: boolean;
  schemaVersion: number | null;
  expectedSchemaVersion: number;
  drifts: Drift[];
}

const EMPTY: SchemaModel = { tables: [], columns: [], constraints: [], indexes: [] };
const ROLLBACK = Symbol("rollback");

export interface ValidateOptions extends DiffOptions {
  /** The version the definitions stand for; init passes the latest of its migration list. */
  expectedVersion?: number;
}

/** `scratch` holds the temporary tables; it is `sql` itself unless `sql` is a standby, which cannot create any. */
async function collectDrift(sql: Queryable, schema: string, options: ValidateOptions, scratch: Queryable = sql): Promise<ValidationResult> {
  const expectedVersion = options.expectedVersion ?? SCHEMA_VERSION;
  const facts = await inspectDatabase(sql, schema);
  const actual = facts.schemaExists ? await inspectSchema(sql, schema) : EMPTY;
  const schemaVersion = facts.hasVersionTable && facts.canReadVersion ? await readSchemaVersion(sql, schema) : null;
  const tempSchema = await materializeDefinitions(scratch, allTables);
  const expected = await inspectSchema(scratch, tempSchema);
  const drifts = diffSchema(
    expected,
    actual,
    { schema, extensions: EXTENSIONS, schemaVersion: expectedVersion, versionTable: versionTable.name },
    { facts, schemaVersion },
    options,
  );
  return { ok: !hasErrors(drifts), schema, tablesChecked: allTables.length - 1, tablesPresent: facts.tablesPresent, schemaExists: facts.schemaExists, schemaVersion, expectedSchemaVersion: expectedVersion, drifts };
}

/**
 * Read-only check on its own connection; the transaction is always rolled back. On a standby (which cannot create
 * temporary tables) `scratch` is a connection to a writable server of the same cluster that holds them instead.
 */
export async function validateDatabase(sql: Sql, schema: string, options: DiffOptions = {}, scratch?: Sql): Promise<ValidationResult> {
  let result: ValidationResult | undefined;
  if (scratch) {
    try {
      await sql.begin("read only", async (live) => {
        await live`set local statement_timeout = '60s'`;
        await scratch.begin("read write", async (tx) => {
          await tx`set local lock_timeout = '5s'`;
          await tx`set local statement_timeout = '60s'`;
          result = await collectDrift(live, schema, options, tx);
          throw ROLLBACK;
        });
      });
    } catch (error) {
      if (error !== ROLLBACK) throw translateError(error, "validating the schema");
    }
    return result!;
  }
  try {
    // READ WRITE: a role whose transactions are read-only by default can still create the temporary tables; the
    // transaction is rolled back, so nothing is ever written.
    await sql.begin("read write", async (tx) => {
      // Never wait behind the app: catalog reads take no locks, and nothing here should block for long.
      await tx`set local lock_timeout = '5s'`;
      await tx`set local statement_timeout = '60s'`;
      result = await collectDrift(tx, schema, options);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw translateError(error, "validating the schema");
  }
  return result!;
}

/** The same check inside a caller's transaction (init's adoption path), undone with a savepoint. */
export async function validateWithin(tx: TransactionSql, schema: string, options: ValidateOptions = {}): Promise<ValidationResult> {
  let result: ValidationResult | undefined;
  try {
    await tx.savepoint(async (sp) => {
      result = await collectDrift(sp, schema, options);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  return result!;
}

/** Database-level kinds that do not apply to a staging copy of the tables. */
const DATABASE_LEVEL = /^(EXTENSION_|SEARCH_PATH_|VERSION_|SCHEMA_)/;

/** Compares only the tables in `schema` with the definitions (verify --db's staging copy). Caller rolls back. */
export async function validateTablesWithin(tx: TransactionSql, schema: string): Promise<Drift[]> {
  const result = await validateWithin(tx, schema, { strict: true });
  return result.drifts.filter((d) => !DATABASE_LEVEL.test(d.kind));
}
