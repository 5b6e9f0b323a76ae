// `restore`: replace the schema's data with a backup, atomically.
//
// Before touching the database the file is checked: SHA-256 against its manifest, or, without a manifest, a full
// parse. Then, in ONE transaction under the same lock init uses: bootstrap (extensions, schema, search_path), load
// the backup into a fresh staging schema (staging.ts), and only at the end drop the old tables and move the new
// ones in. Any failure (bad row, lost connection, kill -9, a signal) rolls everything back: the old data stays
// exactly as it was.
import { bootstrap } from "../bootstrap.ts";
import { inspectDatabase } from "../catalog/inspect.ts";
import { translateError, type Connection, type TransactionSql } from "../db.ts";
import { Errors, isNetravenError } from "../errors.ts";
import { acquireSchemaLock } from "../lock.ts";
import { log } from "../log.ts";
import { quoteIdent, quoteLiteral } from "../quote.ts";
import { recordVersion } from "../schema-version.ts";
import { allTables, versionTable } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import type { BackupStore } from "../storage/store.ts";
import { validateDatabase, type ValidationResult } from "../validate/index.ts";
import { isEncryptedBackup, readHeader } from "./plaintext.ts";
import { claimStaging, loadIntoStaging, removeStaleStaging, stagingSchemaName, type StagingOptions } from "./staging.ts";
import { checkManifest, compareHeaderWithManifest, readWithProgress, refuseNewer, type CheckedBackup } from "./verify.ts";

export interface RestorePlan {
  name: string;
  backup: CheckedBackup;
  database: string;
  schema: string;
  /** Defined tables in the target that hold rows, with PostgreSQL's row estimate. */
  replacing: Array<{ table: string; estimatedRows: number }>;
}

export interface RestoreOptions extends StagingOptions {
  /** Connections loading tables and building indexes at once (staging-parallel.ts); 1 loads in the one transaction. */
  jobs?: number;
  /** Target schema; the backup's own schema when undefined. */
  schema?: string;
  lockTimeoutMs: number;
  /** Asked only when existing rows would be replaced; false aborts. */
  confirm(plan: RestorePlan): Promise<boolean>;
}

export interface RestoreResult {
  name: string;
  database: string;
  schema: string;
  backupSchemaVersion: number;
  tables: Array<{ name: string; expected: number; restored: number }>;
  validation: ValidationResult;
  durationMs: number;
}

/** Everything that can be checked without a database: the checksum against the manifest, or else a full read. */
export async function preflight(store: BackupStore, name: string, options: StagingOptions = {}): Promise<CheckedBackup> {
  const manifest = await checkManifest(store, name, options);
  const encrypted = manifest ? manifest.encryption !== null : await isEncryptedBackup(store, name);
  if (encrypted && !options.identities) throw Errors.identityRequired(name);
  const { header } = await readHeader(store, name, options.identities);
  refuseNewer(name, header, "refusing to restore it", "restore it with the netraven-db release that made it");
  if (manifest) {
    compareHeaderWithManifest(name, header, manifest);
    return { header, manifest, tables: manifest.tables.map((t) => ({ name: t.name, rows: t.rows })), dataBytes: manifest.data_bytes };
  }
  log.warn(`${name} has no manifest: checking the whole file before restoring`);
  const summary = await readWithProgress(store, name, undefined, options);
  return { header, tables: summary.tables, dataBytes: summary.dataBytes };
}

/** Defined tables in `schema` that hold rows: what a restore would replace (asked about before it does). */
export async function rowsToReplace(connection: Connection, schema: string): Promise<RestorePlan["replacing"]> {
  const present = await connection.sql<{ table: string; estimate: number }[]>`
    select c.relname as table, greatest(c.reltuples, 0)::bigint::int as estimate
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind in ('r', 'p') and c.relname in ${connection.sql(allTables.map((t) => t.name))}`;
  const replacing: RestorePlan["replacing"] = [];
  for (const { table, estimate } of present) {
    const [row] = await connection.sql.unsafe<Array<{ any: boolean }>>(`select exists (select 1 from ${quoteIdent(schema)}.${quoteIdent(table)}) as any`);
    if (row!.any && table !== versionTable.name) replacing.push({ table, estimatedRows: Math.max(estimate, 1) });
  }
  return replacing;
}

/** Serial and identity columns continue after the restored rows (none in the NetRaven tables today). */
async function resetSequences(tx: TransactionSql, schema: string): Promise<void> {
  const owned = await tx<{ seq: string; tbl: string; col: string }[]>`
    select pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) as seq, c.relname as tbl, a.attname as col
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
      and pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) is not null`;
  for (const { seq, tbl, col } of owned) {
    await tx.unsafe(`select setval($1, coalesce((select max(${quoteIdent(col)}) from ${quoteIdent(schema)}.${quoteIdent(tbl)}), 0) + 1, false)`, [seq]);
  }
}

/**
 * The swap: only now are the live tables touched. Waiting behind the app is bounded by --lock-timeout. `note` is
 * recorded with the version ("restored from x (...)").
 */
export async function swapIn(tx: TransactionSql, staging: string, schema: string, note: string, lockTimeoutMs: number): Promise<void> {
  await tx.unsafe(`SET LOCAL lock_timeout = ${quoteLiteral(`${lockTimeoutMs}ms`)}`);
  await tx.unsafe(`DROP TABLE IF EXISTS ${allTables.map((t) => `${quoteIdent(schema)}.${quoteIdent(t.name)}`).join(", ")}`);
  for (const table of allTables) await tx.unsafe(`ALTER TABLE ${quoteIdent(staging)}.${quoteIdent(table.name)} SET SCHEMA ${quoteIdent(schema)}`);
  await tx.unsafe(`DROP SCHEMA ${quoteIdent(staging)}`);
  await tx.unsafe(recordVersion(schema, SCHEMA_VERSION, note, "restore").sql);
  await resetSequences(tx, schema);
}

/** A failure inside the restore transaction, which was rolled back: the error to report, saying nothing changed. */
export function restoreFailure(error: unknown): unknown {
  if (isNetravenError(error) && error.code === "INTERRUPTED") return error;
  const failure = translateError(error, "restore");
  if ((error as { code?: string }).code === "2BP01") {
    return Errors.nothingChanged(failure, "other objects depend on the NetRaven tables: drop them first, or restore into another database with --target-db");
  }
  return Errors.nothingChanged(failure);
}

export async function restoreBackup(connection: Connection, store: BackupStore, name: string, backup: CheckedBackup, options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const { header } = backup;
  const schema = options.schema ?? header.schema;
  const database = connection.server.database;

  const replacing = await rowsToReplace(connection, schema).catch((error) => {
    throw translateError(error, "reading the target schema");
  });
  if (replacing.length > 0 && !(await options.confirm({ name, backup, database, schema, replacing }))) throw Errors.notConfirmed(name, database);

  const staging = stagingSchemaName();
  const jobs = options.jobs ?? 1;
  let stagingCommitted = false;
  try {
    await connection.sql.begin(async (tx) => {
      await acquireSchemaLock(tx, schema, options.lockTimeoutMs, "restore", options.signal);
      if (jobs > 1 && (await bootstrap(tx, schema, database, await inspectDatabase(tx, schema), { searchPath: true, dryRun: true })).length > 0) {
        // The other connections create tables that may need the extensions: a database that lacks them gets its
        // bootstrap (extensions, empty schema, search_path) committed first, on a connection of its own while this
        // transaction holds the lock. It holds no data to lose.
        const side = connection.another();
        try {
          await side.begin(async (btx) => void (await bootstrap(btx, schema, database, await inspectDatabase(btx, schema), { searchPath: true })));
        } finally {
          await side.end({ timeout: 5 }).catch(() => undefined);
        }
      }
      await removeStaleStaging(tx);
      await bootstrap(tx, schema, database, await inspectDatabase(tx, schema), { searchPath: true });
      log.info(`Loading ${name} into database "${database}"${jobs > 1 ? ` over ${jobs} connections` : ""}`);
      if (jobs > 1) {
        await claimStaging(tx, staging);
        stagingCommitted = true;
        const { loadIntoStagingParallel } = await import("./staging-parallel.ts");
        await loadIntoStagingParallel(connection, jobs, store, name, backup, staging, options);
      } else {
        await loadIntoStaging(tx, store, name, backup, staging, options);
      }
      // Past this point a signal waits: the swap is short, and stopping inside it could leave no way to say
      // whether the commit happened.
      options.signal?.throwIfAborted();
      await swapIn(tx, staging, schema, `restored from ${name} (backup of schema version ${header.schema_version}, ${header.started_at})`, options.lockTimeoutMs);
    });
  } catch (error) {
    // The parallel load committed its staging schema: take it away now (a dead server: the next restore does).
    if (stagingCommitted) await connection.sql.unsafe(`DROP SCHEMA IF EXISTS ${quoteIdent(staging)} CASCADE`).catch(() => undefined);
    throw restoreFailure(error);
  }

  // Afterwards: what is in the database now, counted by the server, and a full validate.
  const tables: RestoreResult["tables"] = [];
  for (const t of backup.tables) {
    const [row] = await connection.sql.unsafe<Array<{ n: number }>>(`select count(*)::int as n from ${quoteIdent(schema)}.${quoteIdent(t.name)}`);
    tables.push({ name: t.name, expected: t.rows, restored: row!.n });
  }
  const validation = await validateDatabase(connection.sql, schema);
  return { name, database, schema, backupSchemaVersion: header.schema_version, tables, validation, durationMs: Date.now() - started };
}
