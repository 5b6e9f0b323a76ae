// `backup --jobs N`: the tables of one snapshot read over N connections at once, largest first (as pg_dump -j
// does), written as exactly the file a serial backup writes. The caller's transaction exports its snapshot and
// reads tables too; N-1 more connections import it (snapshot.ts). Each table's section (its COPY line, data, `\.`
// and closing line) is compressed by an output thread of its own into an independent gzip member or zstd frame, so
// compression uses as many cores as there are jobs, and spooled to disk (spool.ts); sections are appended to the
// file in file order as soon as every earlier one is in. The concatenation is the same SQL script, byte for byte,
// that gunzip and zstd -d read as one stream.
import type { Connection, Sql, TransactionSql } from "../db.ts";
import { log } from "../log.ts";
import { quoteIdent } from "../quote.ts";
import type { TableDef } from "../schema/index.ts";
import type { Compression } from "./compression.ts";
import { pumpCopy } from "./copy-pump.ts";
import { copyColumns, HEADER_BYTES, type ScriptParts } from "./format.ts";
import { OutputThread } from "./output-thread.ts";
import type { ByteSink } from "./sinks.ts";
import { exportSnapshot, openReader, withSnapshot } from "./snapshot.ts";
import { openSpoolDir, removeSpoolDir, Spool } from "./spool.ts";

export interface ParallelDumpOptions {
  connection: Connection;
  /** The caller's REPEATABLE READ READ ONLY transaction: it exports the snapshot and is one of the jobs. */
  tx: TransactionSql;
  jobs: number;
  sink: ByteSink;
  schema: string;
  tables: readonly TableDef[];
  tableBytes: ReadonlyMap<string, number>;
  parts: ScriptParts;
  compression: Compression;
  level?: number;
  /** Rejects when the run must stop (a signal, a failed sink): every wait races it. */
  stopped: Promise<never>;
  onFailure(error: Error): void;
  /** Uncompressed bytes read from the server, per batch (progress, memory guard). */
  onBatch(table: string, bytes: number): void;
}

export interface ParallelDumpResult {
  /** Per table, in file order. */
  counts: Array<{ rows: number; crc32: string }>;
  /** Uncompressed bytes of the script written so far, header included. */
  dataBytes: number;
  rows: number;
}

interface Section {
  spool: Spool;
  dataBytes: number;
  rows: number;
  crc32: string;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export async function dumpParallel(o: ParallelDumpOptions): Promise<ParallelDumpResult> {
  const snapshot = await exportSnapshot(o.tx);
  const dir = await openSpoolDir();
  const readers: Sql[] = [];
  const threads = new Set<OutputThread>();
  const spools = new Set<Spool>();
  // The first failure anywhere stops every lane, the assembler and the caller.
  const failure = deferred<never>();
  const stop = Promise.race([failure.promise, o.stopped]);
  stop.catch(() => undefined);
  const sections = o.tables.map(() => deferred<Section>());
  // Once the dump is stopping, writes into spools being removed fail too: consequences, never the cause.
  let stopping = false;
  const onFailure = (error: Error) => {
    if (!stopping) o.onFailure(error);
  };
  const queue = o.tables.map((def, index) => ({ def, index })).sort((a, b) => (o.tableBytes.get(b.def.name) ?? 0) - (o.tableBytes.get(a.def.name) ?? 0) || a.index - b.index);

  const dumpSection = async (tx: TransactionSql, def: TableDef, index: number): Promise<Section> => {
    const spool = await Spool.create(dir, `${index}-${def.name}`);
    spools.add(spool);
    const thread = new OutputThread(spool, o.compression, o.level, 0, onFailure);
    threads.add(thread);
    const failed = Promise.race([thread.failure$, stop]);
    thread.text(`${o.parts.copyLines.get(def.name)}\n`);
    thread.tableStart(def.name);
    const readable = await Promise.race([tx.unsafe(`COPY ${quoteIdent(o.schema)}.${quoteIdent(def.name)} (${copyColumns(def)}) TO STDOUT`).readable(), failed]);
    await Promise.race([pumpCopy(readable, thread, (bytes) => o.onBatch(def.name, bytes)), failed]);
    thread.tableEnd();
    const totals = await Promise.race([thread.finish(), failed]);
    const count = thread.tables[0];
    thread.terminate();
    threads.delete(thread);
    if (!count) throw new Error(`the output thread reported no counts for table ${def.name}`);
    log.debug(`dumped ${def.name} (${spool.bytes} bytes spooled)`);
    return { spool, dataBytes: totals.dataBytes, rows: count.rows, crc32: count.crc32 };
  };

  const lane = async (tx: TransactionSql) => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { def, index } = next;
      try {
        sections[index]!.resolve(await dumpSection(tx, def, index));
      } catch (error) {
        failure.reject(error);
        throw error;
      }
    }
  };

  try {
    // The prologue goes straight into the file; the sections follow it in file order.
    const head = new OutputThread(o.sink, o.compression, o.level, HEADER_BYTES, onFailure);
    threads.add(head);
    head.text(o.parts.prologue);
    const headDone = Promise.race([head.finish(), head.failure$, stop]);
    headDone.catch(() => undefined);

    const jobs = Math.min(o.jobs, o.tables.length);
    for (let i = 1; i < jobs; i++) readers.push(openReader(o.connection));
    const lanes = [lane(o.tx), ...readers.map((sql) => withSnapshot(sql, snapshot, lane))].map((p) =>
      p.catch((error) => {
        failure.reject(error);
        throw error;
      }),
    );

    const assemble = async (): Promise<ParallelDumpResult> => {
      let { dataBytes } = await headDone;
      head.terminate();
      threads.delete(head);
      const counts: ParallelDumpResult["counts"] = [];
      let rows = 0;
      for (const section of sections) {
        const done = await Promise.race([section.promise, stop]);
        await Promise.race([done.spool.replay(o.sink), stop]);
        spools.delete(done.spool);
        dataBytes += done.dataBytes;
        rows += done.rows;
        counts.push({ rows: done.rows, crc32: done.crc32 });
      }
      return { counts, dataBytes, rows };
    };
    const [result] = await Promise.all([assemble(), ...lanes]);
    return result;
  } catch (error) {
    stopping = true;
    failure.reject(error);
    // Streams still running on other connections are cut rather than waited for.
    await Promise.all(readers.map((sql) => sql.end({ timeout: 0 }).catch(() => undefined)));
    throw error;
  } finally {
    for (const thread of threads) thread.terminate();
    await Promise.all([...spools].map((spool) => spool.discard()));
    await Promise.all(readers.map((sql) => sql.end({ timeout: 5 }).catch(() => undefined)));
    await removeSpoolDir(dir);
  }
}
