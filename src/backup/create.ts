// `backup`: one consistent snapshot of the schema, streamed over COPY into a compressed, checksummed file in a
// store. All tables are read inside one REPEATABLE READ READ ONLY transaction, so foreign keys hold in the file even
// while the app writes. The main thread pumps COPY rows (copy-pump.ts) to the output thread (output-thread.ts),
// which counts rows, takes CRC-32s, writes the lines that close each table and the file, compresses, and hands the
// bytes to the store's sink. The file is written front to back; only when all of it is stored does the sink give it
// its final name, and the manifest follows. Any failure, or a signal, removes what was written: a backup never
// reports success when it failed, and never leaves a half file under a final name.
import { translateError, type Connection, type TransactionSql } from "../db.ts";
import { Errors, isNetravenError, type NetravenError } from "../errors.ts";
import { log } from "../log.ts";
import type { OnProgress } from "../progress.ts";
import { quoteIdent } from "../quote.ts";
import { readSchemaVersion } from "../schema-version.ts";
import { versionTable } from "../schema/index.ts";
import { BASELINE_VERSION } from "../schema/migrations.ts";
import type { Recipients } from "../age/recipients.ts";
import type { Digest } from "../checksum.ts";
import type { BackupSink, BackupStore } from "../storage/store.ts";
import { TOOL_REVISION, TOOL_VERSION } from "../version.ts";
import type { Compression } from "./compression.ts";
import { pumpCopy } from "./copy-pump.ts";
import { copyColumns, encodeHeaderUnit, FORMAT_VERSION, HEADER_BYTES, renderHeader, renderScriptParts, type BackupHeader } from "./format.ts";
import { writeManifest, type Manifest } from "./manifest.ts";
import { memoryGuard } from "./memory.ts";
import { backupFileName } from "./naming.ts";
import { OutputThread } from "./output-thread.ts";
import { dumpParallel, type ParallelDumpResult } from "./parallel.ts";
import { planBackup } from "./plan.ts";
import { encryptInto, FanOut, type ByteSink, type Target } from "./sinks.ts";

/** Stands in for the sink of a location that failed before it started. */
const unusedSink: BackupSink = { name: "", write: async () => undefined, finish: async () => ({ name: "", sha256: "", size: 0 }), abort: async () => undefined };

export interface BackupOptions {
  schema: string;
  compression: Compression;
  level?: number;
  prefix: string;
  /** age recipients: when given, the backup is encrypted to them. */
  recipients?: Recipients;
  onProgress?: OnProgress;
  signal?: AbortSignal;
  /** Connections reading tables at once (parallel.ts); 1 (the default) reads them one after another on one. */
  jobs?: number;
}

export interface StoredBackup {
  store: BackupStore;
  name: string;
  /** How messages name it: the path (or URL) of the backup. */
  location: string;
  manifest: Manifest;
}

export interface BackupResult {
  /** Where the backup was written completely, with its manifest. */
  written: StoredBackup[];
  /** Where it could not be written, and why (the others are complete). */
  failed: Array<{ store: BackupStore; failure: NetravenError }>;
}

/** Rejects with the signal's reason once it fires: race it against anything that waits. */
function whenAborted(signal: AbortSignal | undefined): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  return aborted;
}

export async function createBackup(connection: Connection, stores: BackupStore[], options: BackupOptions): Promise<BackupResult> {
  const plan = await planBackup(connection, options.schema).catch((error) => {
    throw translateError(error, "reading the schema");
  });
  const { tables, skipped } = plan;
  const started = new Date();
  const header: BackupHeader = {
    format_version: FORMAT_VERSION,
    tool_version: TOOL_VERSION,
    schema_version: BASELINE_VERSION,
    server_version: connection.server.version,
    database: connection.server.database,
    schema: options.schema,
    compression: options.compression,
    started_at: started.toISOString(),
    tables: tables.map((t) => t.name),
  };
  const parts = renderScriptParts(options.schema, tables);
  const encrypted = Boolean(options.recipients?.length);
  const nameFor = (sequence: number) => backupFileName(options.prefix, started, options.compression, sequence, encrypted);
  // A location that cannot even start (an unreachable bucket) fails alone; the others go on.
  const targets: Target[] = await Promise.all(
    stores.map((store) => store.create(nameFor).then((sink) => ({ store, sink }), (error) => ({ store, sink: unusedSink, failure: isNetravenError(error) ? error : Errors.internal(String(error), error) }))),
  );
  if (targets.every((t) => t.failure)) throw targets[0]!.failure;
  const fanOut = new FanOut(targets);
  const encryption = encrypted ? await encryptInto(fanOut, options.recipients!) : undefined;
  const sink: ByteSink = encryption ?? fanOut;

  let output: OutputThread | undefined;
  // A write failure (disk full) is the real cause; the database then only reports a COPY cut short.
  let outputFailure: NetravenError | undefined;
  let copying = false;
  let standby: { replayedAt: string | null } | undefined;
  /** The parallel dump: a failure waits for it to remove its spool (the transaction may fail before it does). */
  let parallelRun: Promise<ParallelDumpResult> | undefined;
  const aborted = whenAborted(options.signal);
  // Once cleanup has begun, writes that fail (into a file just closed) are consequences, never the cause.
  let cleaningUp = false;
  const onFailure = (error: Error) => {
    if (cleaningUp) return;
    outputFailure ??= isNetravenError(error) ? error : Errors.internal(`the output thread failed: ${error.message}`, error);
  };
  try {
    const relieveMemory = memoryGuard();
    let table = "";
    let bytesRead = 0;
    const progress = () => options.onProgress?.({ step: "Backing up", item: table, done: bytesRead, total: plan.estimatedBytes || undefined, estimated: true });
    let failed: Promise<never> = new Promise(() => undefined);
    let parallel: ParallelDumpResult | undefined;
    let parallelFailure: unknown;
    try {
      await connection.sql.begin("isolation level repeatable read read only", async (tx: TransactionSql) => {
        // The first statement takes the snapshot: what a standby had replayed then is what the backup holds.
        const [source] = await tx<{ standby: boolean; replayed_at: string | null }[]>`
          select pg_is_in_recovery() as standby,
                 to_char(pg_last_xact_replay_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as replayed_at`;
        standby = source!.standby ? { replayedAt: source!.replayed_at } : undefined;
        if (tables.includes(versionTable)) header.schema_version = (await readSchemaVersion(tx, options.schema)) ?? BASELINE_VERSION;
        await sink.write(encodeHeaderUnit(renderHeader(header), options.compression));
        if ((options.jobs ?? 1) > 1) {
          copying = true;
          parallelRun = dumpParallel({
            connection,
            tx,
            jobs: options.jobs!,
            sink,
            schema: options.schema,
            tables,
            tableBytes: plan.tableBytes,
            parts,
            compression: options.compression,
            level: options.level,
            stopped: aborted,
            onFailure,
            onBatch: (name, bytes) => {
              table = name;
              bytesRead += bytes;
              relieveMemory(bytes);
              progress();
            },
          }).catch((error) => {
            // Kept: leaving the transaction with a COPY still streaming on it fails again, with a consequence.
            parallelFailure = outputFailure ?? error;
            throw parallelFailure;
          });
          parallel = await parallelRun;
          copying = false;
          return;
        }
        const writer = (output = new OutputThread(sink, options.compression, options.level, HEADER_BYTES, onFailure));
        failed = writer.failure$.catch((error) => {
          throw outputFailure ?? error;
        });
        failed.catch(() => undefined);
        writer.text(parts.prologue);
        for (const def of tables) {
          table = def.name;
          writer.text(`${parts.copyLines.get(def.name)}\n`);
          writer.tableStart(def.name);
          copying = true;
          const readable = await tx.unsafe(`COPY ${quoteIdent(options.schema)}.${quoteIdent(def.name)} (${copyColumns(def)}) TO STDOUT`).readable();
          const batches = (bytes: number) => {
            bytesRead += bytes;
            relieveMemory(bytes);
            progress();
          };
          await Promise.race([pumpCopy(readable, writer, batches), failed, aborted]);
          copying = false;
          writer.tableEnd();
          log.debug(`dumped ${def.name}`);
        }
      });
    } catch (error) {
      throw translateError(parallelFailure ?? error, "reading the data");
    }
    if (parallel) {
      // The sections are in; the epilogue and the trailer, with the totals the sections counted, close the file.
      output = new OutputThread(sink, options.compression, options.level, parallel.dataBytes, onFailure, { tables: parallel.counts.length, rows: parallel.rows });
      failed = output.failure$.catch((error) => {
        throw outputFailure ?? error;
      });
      failed.catch(() => undefined);
    }
    const writer = output!;
    writer.text(parts.epilogue);
    const finishedAt = new Date();
    const totals = await Promise.race([writer.finish(finishedAt), failed, aborted]);
    await Promise.race([encryption?.finish(), aborted]);
    const counts = parallel?.counts ?? writer.tables;
    if (counts.length !== tables.length) throw Errors.internal(`the output thread reported ${counts.length} of ${tables.length} tables`);
    for (const [i, def] of tables.entries()) log.debug(`${def.name}: ${counts[i]!.rows} rows`);
    log.debug(`${totals.dataBytes} bytes of SQL written as ${writer.bytesOut} bytes`);
    options.signal?.throwIfAborted();
    const finished = await fanOut.finish();
    const manifestFor = (stored: Digest & { name: string }): Manifest => ({
      tool: "netraven-db",
      format_version: FORMAT_VERSION,
      file: stored.name,
      size_bytes: stored.size,
      sha256: stored.sha256,
      compression: options.compression,
      tool_version: TOOL_VERSION,
      tool_revision: TOOL_REVISION,
      schema_version: header.schema_version,
      server_version: header.server_version,
      database: header.database,
      schema: header.schema,
      started_at: header.started_at,
      finished_at: finishedAt.toISOString(),
      duration_ms: finishedAt.getTime() - started.getTime(),
      data_bytes: totals.dataBytes,
      rows_total: totals.rows,
      tables: tables.map((t, i) => ({ name: t.name, rows: counts[i]!.rows, columns: t.columns.map((c) => c.name) })),
      skipped_tables: skipped,
      encryption: encrypted ? { method: "age", recipients: [...options.recipients!] } : null,
      taken_from: standby ? "standby" : "primary",
      standby_replay_timestamp: standby?.replayedAt ?? null,
      verified_at: null,
    });
    const result: BackupResult = { written: [], failed: [] };
    for (const done of finished) {
      if ("failure" in done) {
        result.failed.push(done);
        continue;
      }
      const manifest = manifestFor(done.stored);
      try {
        await writeManifest(done.store, done.stored.name, manifest);
        result.written.push({ store: done.store, name: done.stored.name, location: done.store.describe(done.stored.name), manifest });
      } catch (error) {
        // A backup whose manifest could not be written is reported as failed, so it must not stay behind either.
        await done.store.remove(done.stored.name).catch(() => undefined);
        result.failed.push({ store: done.store, failure: isNetravenError(error) ? error : Errors.internal(String(error), error) });
      }
    }
    if (result.written.length === 0) throw result.failed[0]!.failure;
    return result;
  } catch (error) {
    cleaningUp = true;
    const cause = options.signal?.aborted ? options.signal.reason : (outputFailure ?? error);
    output?.terminate();
    encryption?.abort();
    await fanOut.abort();
    // The COPY may still be streaming on the connection: drop it rather than wait for the rest of the table.
    if (copying) await connection.sql.end({ timeout: 0 }).catch(() => undefined);
    await parallelRun?.catch(() => undefined);
    throw cause;
  } finally {
    output?.terminate();
  }
}
