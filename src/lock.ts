// The database lock that makes concurrent init and restore runs safe. A transaction-level advisory lock, polled
// with pg_try_advisory_xact_lock instead of blocking on pg_advisory_lock (a blocked session can deadlock with
// CREATE INDEX CONCURRENTLY, and a poll can give up cleanly). It is released by COMMIT, ROLLBACK or a dropped
// connection, so a killed netraven-db never leaves it behind. Keyed by schema: advisory locks are per database.
import type { TransactionSql } from "./db.ts";
import { Errors } from "./errors.ts";
import { log } from "./log.ts";

const POLL_MS = 100;

/** Waits for the lock (polling) until `timeoutMs`, or until `signal` fires. */
export async function acquireSchemaLock(tx: TransactionSql, schema: string, timeoutMs: number, purpose: string, signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  let announced = false;
  while (true) {
    signal?.throwIfAborted();
    const [row] = await tx<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(hashtext('netraven-db'), hashtext(${schema})) as locked`;
    if (row!.locked) {
      if (announced) log.info(`Lock acquired after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      throw Errors.lockTimeout(schema, waited, purpose);
    }
    if (!announced) {
      log.info(`Waiting for another netraven-db run on schema "${schema}" to finish (lock timeout ${(timeoutMs / 1000).toFixed(0)} s)`);
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS + Math.random() * POLL_MS));
  }
}
