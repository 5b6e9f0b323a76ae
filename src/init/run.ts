// `init`: bring a database to the current schema version, safely under concurrency and without losing data.
//
//   1. Fast path, no lock, no transaction: a catalog read says everything is in place -> done, nothing written.
//   2. Otherwise, one transaction under the schema lock:
//        empty schema                -> bootstrap, create every table, seed, record the version ("created")
//        tables but no version table -> validate; repair what is safe, refuse anything else ("adopted")
//        current version             -> validate; repair what is safe, top up seeds ("repaired"/"seeded")
//        older version               -> commit nothing here; step 3
//   3. Pending migrations, one transaction each under the lock, then step 2 again.
// Everything in a step commits together or not at all.
import { translateError, type Connection } from "../db.ts";
import { Errors } from "../errors.ts";
import { appTables } from "../schema/index.ts";
import { latestVersion, migrations as builtInMigrations, type Migration } from "../schema/migrations.ts";
import type { Statement } from "../schema/render.ts";
import { readSchemaVersion } from "../schema-version.ts";
import type { Drift } from "../validate/diff.ts";
import { quickFactsComplete, readQuickFacts, type QuickFacts } from "./quick-check.ts";
import { readSeedState, seedsComplete } from "./seed.ts";

export interface InitOptions {
  schema: string;
  lockTimeoutMs: number;
  dryRun: boolean;
  /** Creates the `admin` user when set and missing. Only ever from an env var or file. */
  adminPassword?: string;
  /** For tests of the migration mechanism; the binary always uses the built-in list. */
  migrations?: readonly Migration[];
  /** The fast path's catalog facts when they were already asked for (with the connection's probe). */
  quickFacts?: Promise<QuickFacts>;
}

export type InitAction = "created" | "adopted" | "repaired" | "migrated" | "seeded" | "up-to-date";

export interface InitResult {
  action: InitAction;
  dryRun: boolean;
  schema: string;
  schemaVersion: number;
  previousVersion: number | null;
  statements: Statement[];
  repaired: Drift[];
  warnings: Drift[];
  seeded: { settings: number; tags: number; admin: boolean };
  durationMs: number;
}

export function refuseNewer(version: number, latest: number, schema: string) {
  return Errors.newerSchema(`schema "${schema}"`, version, latest, "refusing to touch it", "use the netraven-db release that matches the database (never downgrade a schema)");
}

export async function runInit(connection: Connection, options: InitOptions): Promise<InitResult> {
  const started = Date.now();
  const list = options.migrations ?? builtInMigrations;
  const latest = latestVersion(list);
  const { schema } = options;
  const finish = (result: Omit<InitResult, "durationMs">): InitResult => ({ ...result, durationMs: Date.now() - started });

  // 1. Fast path: read-only, no lock. Anything missing or out of date is left to step 2, which looks again.
  try {
    const quick = await (options.quickFacts ?? readQuickFacts(connection.sql, schema));
    if (quickFactsComplete(quick, schema)) {
      // Both in one round trip (postgres.js pipelines queries issued together).
      const [version, seeds] = await Promise.all([readSchemaVersion(connection.sql, schema), readSeedState(connection.sql, schema, Boolean(options.adminPassword))]);
      if (version !== null && version > latest) throw refuseNewer(version, latest, schema);
      if (version === latest && seedsComplete(seeds, Boolean(options.adminPassword))) {
        return finish({ action: "up-to-date", dryRun: options.dryRun, schema, schemaVersion: latest, previousVersion: version, statements: [], repaired: [], warnings: [], seeded: { settings: 0, tags: 0, admin: false } });
      }
    }
  } catch (error) {
    throw translateError(error, "reading the database state");
  }

  // 2. + 3.
  const { applyInit } = await import("./apply.ts");
  return finish(await applyInit(connection, options, latest, list));
}

/** Counts for the summary line. */
export function definitionCounts() {
  return {
    tables: appTables.length,
    indexes: appTables.reduce((n, t) => n + t.indexes.length, 0),
    foreignKeys: appTables.reduce((n, t) => n + t.foreignKeys.length, 0),
  };
}
