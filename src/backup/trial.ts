// `verify --db`: a trial restore. The backup is loaded into a staging schema on the server, under the same lock and
// with the same checks as a restore, compared with the definitions, and everything is rolled back: the server is
// left exactly as it was. It proves what a checksum cannot: that the server accepts every row and every key.
import { bootstrap } from "../bootstrap.ts";
import { inspectDatabase } from "../catalog/inspect.ts";
import { translateError, type Connection } from "../db.ts";
import { Errors, isNetravenError } from "../errors.ts";
import { acquireSchemaLock } from "../lock.ts";
import type { Drift } from "../validate/diff.ts";
import { validateTablesWithin } from "../validate/index.ts";
import type { BackupStore } from "../storage/store.ts";
import { loadIntoStaging, stagingSchemaName, type StagingOptions } from "./staging.ts";
import type { CheckedBackup } from "./verify.ts";

export interface TrialResult {
  /** Rows loaded per table, and what the backup says it holds. */
  tables: Array<{ name: string; expected: number; restored: number }>;
  /** How the loaded tables differ from the definitions (empty when they match). */
  drifts: Drift[];
  durationMs: number;
}

const ROLLBACK = Symbol("trial rollback");

export async function trialRestore(connection: Connection, store: BackupStore, name: string, backup: CheckedBackup, options: StagingOptions & { lockTimeoutMs: number }): Promise<TrialResult> {
  const started = Date.now();
  const { header } = backup;
  const staging = stagingSchemaName();
  let loaded: Array<{ name: string; rows: number }> = [];
  let drifts: Drift[] = [];
  try {
    await connection.sql.begin(async (tx) => {
      await acquireSchemaLock(tx, header.schema, options.lockTimeoutMs, "trial restore", options.signal);
      await bootstrap(tx, header.schema, connection.server.database, await inspectDatabase(tx, header.schema), { searchPath: false });
      loaded = await loadIntoStaging(tx, store, name, backup, staging, options);
      drifts = await validateTablesWithin(tx, staging);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) {
      if (isNetravenError(error) && error.code === "INTERRUPTED") throw error;
      const failure = translateError(error, "trial restore");
      // Data the server rejects (integrity 23xxx, data exceptions 22xxx) means the file is bad.
      if (/^2[23]/.test((error as { code?: string }).code ?? "")) throw Errors.badBackup(name, `does not restore: ${failure.message.replace(/^trial restore: /, "")}`, error);
      throw failure;
    }
  }
  const expected = new Map(backup.tables.map((t) => [t.name, t.rows]));
  return { tables: loaded.map((t) => ({ name: t.name, expected: expected.get(t.name) ?? 0, restored: t.rows })), drifts, durationMs: Date.now() - started };
}
