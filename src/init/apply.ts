// init's full path (steps 2 and 3 in run.ts): under the schema lock, compare the catalogs with the definitions,
// create or repair what is safe, seed, migrate. Loaded only when the fast path finds work, so a container start
// that finds the database up to date does not load the validator and the DDL renderer.
import { translateError, type Connection, type Queryable, type TransactionSql } from "../db.ts";
import { Errors } from "../errors.ts";
import { acquireSchemaLock } from "../lock.ts";
import { log } from "../log.ts";
import { allTables, EXTENSIONS, tablesInCreateOrder, versionTable } from "../schema/index.ts";
import { BASELINE_DESCRIPTION, pendingMigrations, type Migration } from "../schema/migrations.ts";
import { renderExtension, renderIndex, renderTable, renderTables, type Statement } from "../schema/render.ts";
import { bootstrap, createExtension, persistSearchPath } from "../bootstrap.ts";
import { readSchemaVersion, recordVersion } from "../schema-version.ts";
import { validateWithin } from "../validate/index.ts";
import { inspectDatabase, type DatabaseFacts } from "../catalog/inspect.ts";
import { driftLines } from "../validate/report.ts";
import { refuseNewer, type InitAction, type InitOptions, type InitResult } from "./run.ts";
import { hashAdminPassword, readSeedState, renderAdminSeed, renderSettingSeeds, renderTagSeed, seedsComplete } from "./seed.ts";

/** Drift kinds init fixes by itself: each is purely additive and touches no existing row. */
const REPAIRABLE = new Set(["EXTENSION_MISSING", "SEARCH_PATH_CHANGED", "SEARCH_PATH_NOT_PERSISTENT", "TABLE_MISSING", "INDEX_MISSING", "VERSION_TABLE_MISSING", "VERSION_MISSING"]);
const ROLLBACK = Symbol("dry-run rollback");

/** Collects what init does; under --dry-run only records it. */
class Executor {
  readonly statements: Statement[] = [];
  constructor(
    private readonly tx: TransactionSql,
    readonly dryRun: boolean,
  ) {}

  async run(statement: Statement, params: unknown[] = []): Promise<number> {
    this.statements.push(statement);
    if (this.dryRun) return 0;
    const result = await this.tx.unsafe(statement.sql, params as never[]);
    return result.count ?? 0;
  }

  /** Many DDL statements in one round trip (simple protocol). */
  async runAll(statements: Statement[]): Promise<void> {
    if (statements.length === 0) return;
    this.statements.push(...statements);
    if (!this.dryRun) await this.tx.unsafe(statements.map((s) => s.sql).join(";\n")).simple();
  }

  async runExtension(statement: Statement): Promise<void> {
    this.statements.push(statement);
    if (!this.dryRun) await createExtension(this.tx, statement);
  }

  async persistSearchPath(schema: string, database: string, facts: DatabaseFacts): Promise<void> {
    this.statements.push(await persistSearchPath(this.tx, schema, database, facts, this.dryRun));
  }

  async bootstrap(schema: string, database: string, facts: DatabaseFacts): Promise<void> {
    this.statements.push(...(await bootstrap(this.tx, schema, database, facts, { searchPath: true, dryRun: this.dryRun })));
  }
}

async function seed(exec: Executor, tx: Queryable, options: InitOptions): Promise<InitResult["seeded"]> {
  const seeded = { settings: 0, tags: 0, admin: false };
  // Under --dry-run the tables may not exist yet: show every seed statement.
  const state = exec.dryRun ? undefined : await readSeedState(tx, options.schema, Boolean(options.adminPassword));
  if (!state || !seedsComplete(state, false)) {
    seeded.settings = await exec.run(renderSettingSeeds(options.schema));
    seeded.tags = await exec.run(renderTagSeed(options.schema));
  }
  if (options.adminPassword && !state?.admin) {
    const hash = exec.dryRun ? "" : await hashAdminPassword(options.adminPassword);
    seeded.admin = (await exec.run(renderAdminSeed(options.schema), [hash])) > 0;
  }
  return seeded;
}

interface StepOutcome {
  result?: Omit<InitResult, "durationMs">;
  needsMigrationFrom?: number;
}

async function ensureCurrent(tx: TransactionSql, options: InitOptions, database: string, latest: number): Promise<StepOutcome> {
  const { schema } = options;
  const facts = await inspectDatabase(tx, schema);
  const version = facts.hasVersionTable ? await readSchemaVersion(tx, schema) : null;
  if (version !== null && version > latest) throw refuseNewer(version, latest, schema);
  if (version !== null && version < latest) return { needsMigrationFrom: version };

  const exec = new Executor(tx, options.dryRun);
  const appTablesPresent = facts.tablesPresent - (facts.hasVersionTable ? 1 : 0);

  if (!facts.hasVersionTable && appTablesPresent === 0) {
    await exec.bootstrap(schema, database, facts);
    await exec.runAll(renderTables(schema));
    await exec.run(recordVersion(schema, latest, BASELINE_DESCRIPTION, "create"));
    const seeded = await seed(exec, tx, options);
    return { result: { action: "created", dryRun: options.dryRun, schema, schemaVersion: latest, previousVersion: null, statements: exec.statements, repaired: [], warnings: [], seeded } };
  }

  // Existing tables: compare catalogs first, and change nothing unless every difference is safe to repair.
  const validation = await validateWithin(tx, schema, { expectedVersion: latest });
  const problems = validation.drifts.filter((d) => d.severity === "error" || REPAIRABLE.has(d.kind));
  const refused = problems.filter((d) => !REPAIRABLE.has(d.kind));
  if (refused.length > 0) {
    throw Errors.drift(
      `schema "${schema}" differs from the definitions in ${refused.length} way${refused.length === 1 ? "" : "s"} init will not repair; nothing was changed`,
      "run `netraven-db validate` for the full report",
      { differences: refused, lines: driftLines(refused) },
    );
  }
  for (const drift of problems.filter((d) => d.kind === "EXTENSION_MISSING")) {
    await exec.runExtension(renderExtension(drift.target!.extension as (typeof EXTENSIONS)[number]));
  }
  if (problems.some((d) => d.kind.startsWith("SEARCH_PATH_"))) await exec.persistSearchPath(schema, database, facts);
  const missingTables = new Set(problems.filter((d) => d.kind === "TABLE_MISSING").map((d) => d.target!.table!));
  if (problems.some((d) => d.kind === "VERSION_TABLE_MISSING")) missingTables.add(versionTable.name);
  const toCreate = tablesInCreateOrder().filter((t) => missingTables.has(t.name));
  await exec.runAll(toCreate.flatMap((t) => renderTable(t, schema)));
  for (const drift of problems.filter((d) => d.kind === "INDEX_MISSING")) {
    const table = allTables.find((t) => t.name === drift.target!.table)!;
    await exec.run(renderIndex(table, table.indexes.find((ix) => ix.name === drift.target!.index)!, schema));
  }
  const adopting = !facts.hasVersionTable || version === null;
  if (adopting) await exec.run(recordVersion(schema, latest, `adopted existing database: ${BASELINE_DESCRIPTION}`, "baseline"));
  const seeded = await seed(exec, tx, options);
  const action: InitAction = adopting ? "adopted" : problems.length > 0 ? "repaired" : seeded.settings || seeded.tags || seeded.admin ? "seeded" : "up-to-date";
  return {
    result: {
      action,
      dryRun: options.dryRun,
      schema,
      schemaVersion: latest,
      previousVersion: version,
      statements: exec.statements,
      repaired: problems,
      warnings: validation.drifts.filter((d) => d.severity === "warning" && !REPAIRABLE.has(d.kind)),
      seeded,
    },
  };
}

async function inLockedTransaction<T>(connection: Connection, options: InitOptions, purpose: string, body: (tx: TransactionSql) => Promise<T>): Promise<T> {
  let value: T | undefined;
  try {
    await connection.sql.begin(async (tx) => {
      await acquireSchemaLock(tx, options.schema, options.lockTimeoutMs, purpose);
      value = await body(tx);
      if (options.dryRun) throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw translateError(error, purpose);
  }
  return value as T;
}

/** Steps 2 and 3 of runInit: everything under the schema lock. */
export async function applyInit(connection: Connection, options: InitOptions, latest: number, list: readonly Migration[]): Promise<Omit<InitResult, "durationMs">> {
  const { schema } = options;
  const database = connection.server.database;
  let outcome = await inLockedTransaction(connection, options, "initialise the schema", (tx) => ensureCurrent(tx, options, database, latest));
  if (outcome.needsMigrationFrom !== undefined) {
    const from = outcome.needsMigrationFrom;
    const steps = pendingMigrations(from, list);
    const applied: Statement[] = [];
    if (options.dryRun) {
      for (const m of steps) applied.push(...m.statements(schema), recordVersion(schema, m.version, m.description, "migrate"));
      return { action: "migrated", dryRun: true, schema, schemaVersion: latest, previousVersion: from, statements: applied, repaired: [], warnings: [], seeded: { settings: 0, tags: 0, admin: false } };
    }
    for (const migration of steps) {
      await inLockedTransaction(connection, options, `apply migration ${migration.version}`, async (tx) => {
        const current = await readSchemaVersion(tx, schema);
        if (current !== null && current >= migration.version) return; // another init got here first
        const exec = new Executor(tx, false);
        for (const statement of migration.statements(schema)) await exec.run(statement);
        await exec.run(recordVersion(schema, migration.version, migration.description, "migrate"));
        applied.push(...exec.statements);
        log.info(`Applied migration ${migration.version}: ${migration.description}`);
      });
    }
    outcome = await inLockedTransaction(connection, options, "initialise the schema", (tx) => ensureCurrent(tx, options, database, latest));
    if (!outcome.result) throw Errors.internal("schema version did not reach the latest version after applying migrations");
    return { ...outcome.result, action: "migrated", previousVersion: from, statements: [...applied, ...outcome.result.statements] };
  }
  return outcome.result!;
}

