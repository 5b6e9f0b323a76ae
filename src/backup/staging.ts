// A backup loaded into a fresh staging schema inside the caller's transaction: bare tables from the definitions,
// every COPY block streamed in (the parser re-checks each block's rows and CRC-32 on the way), then keys, indexes
// and foreign keys, like pg_dump. Nothing outside the staging schema is touched, and the file's SQL text is never
// executed: tables come from the definitions, data only through COPY. Restore swaps the staging tables in;
// `verify --db` compares them with the definitions and rolls back.
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { TransactionSql } from "../db.ts";
import { log } from "../log.ts";
import type { AgeIdentities } from "../age/identities.ts";
import type { OnProgress } from "../progress.ts";
import { quoteIdent } from "../quote.ts";
import { renderTablesForLoad } from "../schema/render.ts";
import type { BackupStore } from "../storage/store.ts";
import { waitForDrain } from "../streams.ts";
import type { ReadHandlers } from "./read.ts";
import { toastCompressionForLoad } from "./toast.ts";
import { readWithProgress, type CheckedBackup } from "./verify.ts";

export interface StagingOptions {
  onProgress?: OnProgress;
  signal?: AbortSignal;
  /** The key of an encrypted backup. */
  identities?: AgeIdentities;
}

const STAGING_PREFIX = "nrdb_restore_";

/** A schema name nobody else uses; it exists only inside the transaction that creates it (but see claimStaging). */
export function stagingSchemaName(): string {
  return `${STAGING_PREFIX}${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * A parallel restore commits its staging schema (its other connections must see it): the restore's transaction
 * holds this lock on its name until it ends, which a killed client's session ends too.
 */
export async function claimStaging(tx: TransactionSql, staging: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext('netraven-db-staging'), hashtext(${staging}))`;
}

/** Drops the staging schemas of parallel restores that were killed: those whose claim nobody holds. */
export async function removeStaleStaging(tx: TransactionSql): Promise<string[]> {
  const schemas = await tx<{ name: string }[]>`select nspname as name from pg_namespace where starts_with(nspname, ${STAGING_PREFIX}) order by 1`;
  const removed: string[] = [];
  for (const { name } of schemas) {
    const [row] = await tx<{ held: boolean }[]>`select pg_try_advisory_xact_lock(hashtext('netraven-db-staging'), hashtext(${name})) as held`;
    if (!row!.held) continue;
    await tx.unsafe(`DROP SCHEMA ${quoteIdent(name)} CASCADE`);
    removed.push(name);
    log.info(`Removed the staging schema ${name} of an interrupted restore`);
  }
  return removed;
}

/** Creates `staging` and loads the backup into it; returns the rows loaded per table. */
export function loadIntoStaging(tx: TransactionSql, store: BackupStore, name: string, backup: CheckedBackup, staging: string, options: StagingOptions): Promise<Array<{ name: string; rows: number }>> {
  return loadBlocksIntoStaging(tx, staging, options, (handlers) => readWithProgress(store, name, backup.dataBytes, options, handlers, "Loading"));
}

/**
 * The same for any reader that delivers COPY blocks through ReadHandlers (a pg_dump file's too): the bare tables,
 * each block streamed into its table, then keys, indexes and foreign keys.
 */
export async function loadBlocksIntoStaging(tx: TransactionSql, staging: string, options: StagingOptions, read: (handlers: ReadHandlers) => Promise<unknown>): Promise<Array<{ name: string; rows: number }>> {
  const toast = await toastCompressionForLoad(tx);
  if (toast) await tx.unsafe(toast);
  await tx.unsafe(`CREATE SCHEMA ${quoteIdent(staging)}`);
  const { before, after } = renderTablesForLoad(staging);
  await tx.unsafe(before.map((s) => s.sql).join(";\n")).simple();
  let writable: Writable | undefined;
  const loaded: Array<{ name: string; rows: number }> = [];
  await read({
    onBlockStart: async (block) => {
      const columns = block.columns.map(quoteIdent).join(", ");
      // FREEZE (allowed: the staging table was created in this transaction) writes the rows frozen and
      // all-visible, so the row count after the commit, the app's first reads and autovacuum do not rewrite every
      // page to set hint bits or freeze them. Nobody can see the rows before the commit anyway.
      writable = (await tx.unsafe(`COPY ${quoteIdent(staging)}.${quoteIdent(block.table.name)} (${columns}) FROM STDIN WITH (FREEZE)`).writable()) as Writable;
    },
    onData: async (chunk) => {
      if (!writable!.write(chunk)) await waitForDrain(writable!);
    },
    onBlockEnd: async (block, rows) => {
      writable!.end();
      await finished(writable!);
      writable = undefined;
      loaded.push({ name: block.table.name, rows });
      log.debug(`loaded ${block.table.name}: ${rows} rows`);
    },
  }).catch((error) => {
    // Ends the COPY with CopyFail, so the server rolls it back; the error itself is reported by our caller.
    writable?.on("error", () => undefined).destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  });
  options.onProgress?.({ step: "Building keys, indexes and foreign keys", done: 0 });
  await tx.unsafe(after.map((s) => s.sql).join(";\n")).simple();
  return loaded;
}
