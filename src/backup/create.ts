// `backup`: one consistent snapshot of the schema, streamed over COPY into a compressed, checksummed file.
//
// All tables are read inside one REPEATABLE READ READ ONLY transaction, so foreign keys hold in the file even while
// the app writes. COPY output arrives one row per message; the main thread gathers rows into ~256 KiB batches
// (handling them row by row is ~35x slower in Bun) and hands them to the output thread, which counts rows, takes
// each table's CRC-32, compresses and writes. The file is written under a hidden temporary name, its header completed in
// place, fsynced and read back for its SHA-256, and only then renamed into place; any failure removes it. A backup
// never reports success when it failed.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import * as zlib from "node:zlib";
import { translateError, type Connection, type TransactionSql } from "../db.ts";
import { NetravenError } from "../errors.ts";
import { fileError, fsyncPath, partialPath } from "../files.ts";
import { log } from "../log.ts";
import { quoteIdent } from "../quote.ts";
import { allTables, type TableDef } from "../schema/index.ts";
import { BASELINE_VERSION } from "../schema/migrations.ts";
import { TOOL_REVISION, TOOL_VERSION } from "../version.ts";
import { inspectSchema } from "../validate/inspect.ts";
import { copyColumns, encodeHeaderUnit, FORMAT_VERSION, HEADER_BYTES, HEADER_UNIT_BYTES, renderHeader, renderScriptParts, TRAILER, type BackupHeader, type Compression } from "./format.ts";
import { backupFileName, writeManifest, type Manifest } from "./manifest.ts";
import { memoryGuard, memoryGuardSource } from "./memory.ts";

export interface BackupOptions {
  dir: string;
  schema: string;
  compression: Compression;
  level?: number;
  prefix: string;
  /** Show a live progress line (only on a terminal). */
  progress: boolean;
}

export interface BackupResult {
  path: string;
  manifest: Manifest;
}

const BATCH_BYTES = 256 * 1024;
/** Batches travel in pooled buffers of this size (a longer batch, i.e. a huge row, gets a buffer of its own). */
const BUFFER_BYTES = 512 * 1024;
/** Uncompressed bytes handed to the output thread and not yet written: bounds memory, keeps the thread busy. */
const IN_FLIGHT_BYTES = 4 * 1024 * 1024;
/** The output thread asks the kernel to write the file out every this many bytes, so the final fsync is short. */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

// ---- The output thread -----------------------------------------------------------------------------------------
//
// Compression (and for every compression: hashing, row counting and writing) runs on its own thread, so the main
// thread only pumps COPY rows: in Bun, node:zlib streams compress on the calling thread, which made a backup take
// as long as dumping plus compressing. The thread is a Web Worker built from `outputThread`'s own source (a blob
// URL), which works the same from the sources, in the compiled binary and in Deno. Where no Worker can be started
// the same function runs in-process. Batch buffers go back and forth (transferred, never copied or collected).

type ToOutput =
  | { type: "start"; path: string; offset: number; compression: Compression; level?: number; syncEvery: number }
  | { type: "text" | "data"; data: ArrayBuffer; length: number }
  | { type: "table" }
  | { type: "table-end" }
  | { type: "end" };
type FromOutput =
  | { type: "ack"; bytes: number; buffer?: ArrayBuffer }
  | { type: "table"; rows: number; crc32: string }
  | { type: "done"; bytesOut: number }
  | { type: "error"; message: string; code?: string };

interface Scope {
  postMessage(message: FromOutput, transfer?: ArrayBuffer[]): void;
  onmessage: ((event: { data: ToOutput }) => void) | null;
}

/**
 * The output thread's body. It is turned into source text, so it must use nothing but its parameters (no imports,
 * no module-level names). Messages are handled strictly in order; every data and text message is acknowledged once
 * it is compressed and written, and its buffer goes back with the acknowledgement.
 */
function outputThread(
  scope: Scope,
  zlib: typeof import("node:zlib"),
  fs: typeof import("node:fs"),
  relieveMemory: (bytes: number) => void,
): void {
  let fd = -1;
  let position = 0;
  let start = 0;
  let syncEvery = Number.POSITIVE_INFINITY;
  let sinceSync = 0;
  let syncing: Promise<void> | undefined;
  let failed = false;
  let compressor: import("node:stream").Transform | undefined;
  let table: { crc: number; rows: number } | undefined;
  // Messages wait here while the compressor works on earlier ones (its callbacks are asynchronous).
  const queue: ToOutput[] = [];
  let busy = false;

  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    const e = error as { message?: string; code?: string };
    scope.postMessage({ type: "error", message: String(e?.message ?? error), code: typeof e?.code === "string" ? e.code : undefined });
  };
  const writeOut = (chunk: Uint8Array) => {
    let offset = 0;
    while (offset < chunk.length) {
      const written = fs.writeSync(fd, chunk, offset, chunk.length - offset, position);
      offset += written;
      position += written;
    }
    sinceSync += chunk.length;
    if (sinceSync >= syncEvery && !syncing) {
      // Write the file out in the background while the dump goes on (the kernel would wait for gigabytes first).
      sinceSync = 0;
      syncing = new Promise((resolve) => fs.fdatasync(fd, () => resolve()));
      syncing.then(() => (syncing = undefined));
    }
  };
  const countRows = (data: Uint8Array) => {
    let rows = 0;
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) rows++;
    return rows;
  };
  const ack = (buffer: ArrayBuffer, bytes: number) => {
    relieveMemory(bytes);
    scope.postMessage({ type: "ack", bytes, buffer }, [buffer]);
    next();
  };
  const handle = (message: ToOutput) => {
    switch (message.type) {
      case "start": {
        fd = fs.openSync(message.path, "r+");
        position = start = message.offset;
        syncEvery = message.syncEvery;
        const options = { chunkSize: 256 * 1024 };
        if (message.compression === "gzip") compressor = zlib.createGzip({ ...options, level: message.level ?? 6 });
        if (message.compression === "zstd") compressor = zlib.createZstdCompress({ ...options, params: { [zlib.constants.ZSTD_c_compressionLevel]: message.level ?? 3 } });
        compressor?.on("data", (chunk: Uint8Array) => {
          try {
            if (!failed) writeOut(chunk);
          } catch (error) {
            fail(error);
          }
        });
        compressor?.on("error", fail);
        return next();
      }
      case "table":
        table = { crc: 0, rows: 0 };
        return next();
      case "table-end":
        scope.postMessage({ type: "table", rows: table!.rows, crc32: table!.crc.toString(16).padStart(8, "0") });
        table = undefined;
        return next();
      case "data":
      case "text": {
        const buffer = message.data;
        const data = new Uint8Array(buffer, 0, message.length);
        if (message.type === "data") {
          table!.crc = zlib.crc32(data, table!.crc);
          table!.rows += countRows(data);
        }
        if (!compressor) {
          writeOut(data);
          return ack(buffer, data.length);
        }
        compressor.write(data, (error) => (error ? fail(error) : ack(buffer, data.length)));
        return;
      }
      case "end": {
        const close = async () => {
          await syncing;
          fs.closeSync(fd);
          scope.postMessage({ type: "done", bytesOut: position - start });
        };
        if (!compressor) return void close().catch(fail);
        compressor.once("end", () => void close().catch(fail));
        compressor.end();
        compressor.resume();
        return;
      }
    }
  };
  function next() {
    busy = false;
    const message = queue.shift();
    if (message && !failed) run(message);
  }
  function run(message: ToOutput) {
    busy = true;
    try {
      handle(message);
    } catch (error) {
      fail(error);
    }
  }
  scope.onmessage = (event) => {
    if (failed) return;
    if (busy) queue.push(event.data);
    else run(event.data);
  };
}

/** The main thread's side: sends batches, keeps at most IN_FLIGHT_BYTES outstanding, collects per-table results. */
class OutputThread {
  /** Uncompressed bytes sent so far. */
  bytes = 0;
  bytesOut = 0;
  readonly tables: Array<{ rows: number; crc32: string }> = [];
  private inFlight = 0;
  private readonly pool: ArrayBuffer[] = [];
  private roomWaiter: (() => void) | undefined;
  private doneWaiter: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private rejectFailed!: (error: Error) => void;
  private readonly post: (message: ToOutput, transfer?: ArrayBuffer[]) => void;
  private readonly stop: () => void;

  constructor(onFailure: (error: Error) => void) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    const receive = (message: FromOutput) => {
      switch (message.type) {
        case "ack":
          this.inFlight -= message.bytes;
          if (message.buffer?.byteLength === BUFFER_BYTES) this.pool.push(message.buffer);
          if (this.roomWaiter && this.inFlight <= IN_FLIGHT_BYTES / 2) {
            const resolve = this.roomWaiter;
            this.roomWaiter = undefined;
            resolve();
          }
          return;
        case "table":
          this.tables.push({ rows: message.rows, crc32: message.crc32 });
          return;
        case "done":
          this.bytesOut = message.bytesOut;
          this.doneWaiter?.();
          return;
        case "error":
          return this.fail(Object.assign(new Error(message.message), { code: message.code }), onFailure);
      }
    };
    let worker: Worker | undefined;
    let url: string | undefined;
    try {
      const source = [
        `import * as zlib from "node:zlib"; import * as fs from "node:fs";`,
        `const relieveMemory = ${memoryGuardSource};`,
        `(${outputThread.toString()})(self, zlib, fs, relieveMemory);`,
      ].join("\n");
      url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      worker = new Worker(url, { type: "module" });
    } catch (error) {
      log.debug(`no output thread (${(error as Error).message}); compressing on the main thread`);
    }
    if (worker) {
      const thread = worker;
      thread.onmessage = (event: MessageEvent<FromOutput>) => receive(event.data);
      thread.onerror = (event: ErrorEvent) => {
        event.preventDefault?.();
        this.fail(new Error(`the output thread failed: ${event.message}`), onFailure);
      };
      this.post = (message, transfer) => thread.postMessage(message, transfer ?? []);
      // The worker loads its source asynchronously: the URL may only go once the worker does.
      this.stop = () => {
        thread.terminate();
        if (url) URL.revokeObjectURL(url);
      };
    } else {
      // In-process: the same code, messages delivered asynchronously as a worker would.
      const scope: Scope = { postMessage: (message) => queueMicrotask(() => receive(message)), onmessage: null };
      outputThread(scope, zlib, fs, () => undefined);
      this.post = (message) => queueMicrotask(() => scope.onmessage?.({ data: message }));
      this.stop = () => undefined;
    }
  }

  private fail(error: Error, onFailure: (error: Error) => void): void {
    if (this.failure) return;
    this.failure = error;
    onFailure(error);
    this.rejectFailed(error);
    this.roomWaiter = undefined;
  }

  /** Rejects when the thread fails: race it against anything that waits on the database. */
  get failure$(): Promise<never> {
    return this.failed;
  }

  start(path: string, offset: number, compression: Compression, level: number | undefined): void {
    this.post({ type: "start", path, offset, compression, level, syncEvery: SYNC_EVERY_BYTES });
  }

  /** Copies the chunks into one transferable buffer and sends it. */
  send(type: "text" | "data", chunks: readonly Uint8Array[], length: number): void {
    if (this.failure) throw this.failure;
    const buffer = length <= BUFFER_BYTES ? (this.pool.pop() ?? new ArrayBuffer(BUFFER_BYTES)) : new ArrayBuffer(length);
    const view = new Uint8Array(buffer);
    let offset = 0;
    for (const chunk of chunks) {
      view.set(chunk, offset);
      offset += chunk.length;
    }
    this.inFlight += length;
    this.bytes += length;
    this.post({ type, data: buffer, length }, [buffer]);
  }

  text(text: string): void {
    const data = Buffer.from(text);
    this.send("text", [data], data.length);
  }

  tableStart(): void {
    this.post({ type: "table" });
  }

  tableEnd(): void {
    this.post({ type: "table-end" });
  }

  get full(): boolean {
    return this.inFlight > IN_FLIGHT_BYTES;
  }

  /** Resolves once the thread has caught up to half the in-flight limit. */
  room(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.full) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => (this.roomWaiter = resolve)), this.failed]);
  }

  /** Flushes the compressor, waits for every byte to be written, closes the file. */
  finish(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve) => (this.doneWaiter = resolve));
    this.post({ type: "end" });
    return Promise.race([done, this.failed]);
  }

  terminate(): void {
    this.stop();
  }
}

/** Streams one COPY ... TO STDOUT to the output thread in batches; resolves when the last batch is sent. */
function pumpCopy(readable: Readable, output: OutputThread, onProgress: () => void, relieveMemory: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let pending = 0;
    const flush = () => {
      if (pending === 0) return;
      output.send("data", chunks, pending);
      relieveMemory(pending);
      chunks = [];
      pending = 0;
    };
    readable.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      pending += chunk.length;
      if (pending < BATCH_BYTES) return;
      try {
        flush();
      } catch (error) {
        return reject(error);
      }
      onProgress();
      if (output.full) {
        readable.pause();
        output.room().then(() => readable.resume(), reject);
      }
    });
    readable.once("end", () => {
      try {
        flush();
        resolve();
      } catch (error) {
        reject(error);
      }
    });
    readable.once("error", reject);
  });
}

/** SHA-256 of the file as it is on disk now (large reads: this pass is on the critical path of every backup). */
async function readBack(path: string): Promise<{ sha256: string; size: number }> {
  const handle = await open(path, "r");
  try {
    const hash = crypto.createHash("sha256");
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { sha256: hash.digest("hex"), size };
  } finally {
    await handle.close();
  }
}

async function chooseFileName(dir: string, prefix: string, at: Date, compression: Compression): Promise<string> {
  for (let sequence = 0; sequence < 100; sequence++) {
    const candidate = join(dir, backupFileName(prefix, at, compression, sequence));
    try {
      await (await open(candidate, "r")).close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return candidate;
      throw fileError(error, "cannot check", candidate);
    }
  }
  throw new NetravenError("FILE_UNWRITABLE", `too many backups named ${backupFileName(prefix, at, compression)} in ${dir}`);
}

/** Which defined tables exist, and which tables the schema holds that we do not define. */
async function planTables(connection: Connection, schema: string): Promise<{ tables: TableDef[]; skipped: string[] }> {
  const model = await inspectSchema(connection.sql, schema);
  if (model.tables.length === 0) {
    throw new NetravenError("DRIFT", `nothing to back up: schema "${schema}" has no tables in database "${connection.server.database}"`, { hint: "check --schema and the database name; run netraven-db init to create the schema" });
  }
  const present = new Set(model.tables);
  const columns = new Set(model.columns.map((c) => `${c.table}.${c.name}`));
  const problems: string[] = [];
  const tables: TableDef[] = [];
  for (const table of allTables) {
    if (!present.has(table.name)) {
      // A database the ORM built has no version table yet; every app table must be there.
      if (table.name !== "netraven_db_version") problems.push(`table ${table.name} is missing`);
      continue;
    }
    for (const column of table.columns) if (!columns.has(`${table.name}.${column.name}`)) problems.push(`column ${table.name}.${column.name} is missing`);
    tables.push(table);
  }
  if (problems.length) {
    throw new NetravenError("DRIFT", `cannot back up schema "${schema}": ${problems.slice(0, 3).join(", ")}${problems.length > 3 ? ` and ${problems.length - 3} more` : ""}`, {
      hint: "run netraven-db validate for the full report",
    });
  }
  const defined = new Set(allTables.map((t) => t.name));
  const extraColumns = model.columns.filter((c) => defined.has(c.table) && !allTables.find((t) => t.name === c.table)!.columns.some((d) => d.name === c.name));
  for (const c of extraColumns) log.warn(`column ${c.table}.${c.name} is not in the definitions and is NOT in this backup`);
  const skipped = model.tables.filter((t) => !defined.has(t));
  for (const t of skipped) log.warn(`table ${schema}.${t} is not in the definitions and is NOT in this backup`);
  return { tables: tablesInFileOrder(tables), skipped };
}

function tablesInFileOrder(tables: TableDef[]): TableDef[] {
  // Parents before children, so a psql restore with keys added at the end never depends on order anyway; the order
  // is fixed so files are comparable.
  return allTables.filter((t) => tables.includes(t));
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export { formatBytes };

export async function createBackup(connection: Connection, options: BackupOptions): Promise<BackupResult> {
  const { tables, skipped } = await planTables(connection, options.schema).catch((error) => {
    throw translateError(error, "reading the schema");
  });
  const started = new Date();
  const finalPath = await chooseFileName(options.dir, options.prefix, started, options.compression);
  const temp = partialPath(finalPath);
  const header: BackupHeader = {
    format_version: FORMAT_VERSION,
    tool_version: TOOL_VERSION,
    schema_version: BASELINE_VERSION,
    server_version: connection.server.version,
    database: connection.server.database,
    schema: options.schema,
    compression: options.compression,
    started_at: started.toISOString(),
    finished_at: null,
    data_bytes: 0,
    tables: tables.map((t) => ({ name: t.name, rows: 0, crc32: "00000000" })),
    complete: false,
  };
  const parts = renderScriptParts(options.schema, tables);

  // A signal must not leave a partial file behind (kill -9 can: the next backup removes it).
  const onSignal = (signal: NodeJS.Signals) => {
    fs.rmSync(temp, { force: true });
    log.error(`interrupted by ${signal}; removed the partial backup`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let output: OutputThread | undefined;
  // A write failure (disk full) is the real cause; the database then only reports a COPY cut short.
  let outputFailure: NetravenError | undefined;
  let cleaningUp = false;
  try {
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.write(encodeHeaderUnit(renderHeader(header), options.compression), 0, undefined, 0);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw fileError(error, (error as NodeJS.ErrnoException).code === "ENOSPC" ? "cannot write" : "cannot create", temp);
    }
    output = new OutputThread((error) => {
      // Errors after we started to clean up are consequences, not causes.
      if (!cleaningUp) outputFailure = fileError(error, "cannot write", temp);
    });
    const outError = output.failure$.catch((error) => {
      throw outputFailure ?? error;
    });
    outError.catch(() => undefined);
    output.start(temp, HEADER_UNIT_BYTES[options.compression], options.compression, options.level);
    const writer = output;
    const relieveMemory = memoryGuard();

    let dumped = 0;
    let lastProgress = 0;
    const progress = (force = false) => {
      if (!options.progress) return;
      const now = Date.now();
      if (!force && now - lastProgress < 500) return;
      lastProgress = now;
      const seconds = (now - started.getTime()) / 1000;
      process.stderr.write(`\r\u001B[K  ${dumped}/${tables.length} tables, ${formatBytes(writer.bytes)}, ${formatBytes(writer.bytes / Math.max(seconds, 0.001))}/s`);
    };

    writer.text(parts.prologue);
    try {
      await connection.sql.begin("isolation level repeatable read read only", async (tx: TransactionSql) => {
        if (tables.some((t) => t.name === "netraven_db_version")) {
          const [row] = await tx.unsafe<Array<{ v: number | null }>>(`select max(version)::int as v from ${quoteIdent(options.schema)}.netraven_db_version`);
          header.schema_version = row?.v ?? BASELINE_VERSION;
        }
        for (const table of tables) {
          writer.text(`${parts.copyLines.get(table.name)}\n`);
          writer.tableStart();
          const readable = await tx.unsafe(`COPY ${quoteIdent(options.schema)}.${quoteIdent(table.name)} (${copyColumns(table)}) TO STDOUT`).readable();
          await Promise.race([pumpCopy(readable, writer, () => progress(), relieveMemory), outError]);
          writer.tableEnd();
          writer.text("\\.\n");
          dumped++;
          log.debug(`dumped ${table.name}`);
        }
      });
    } catch (error) {
      throw translateError(error, "reading the data");
    }
    writer.text(parts.epilogue + TRAILER);
    await Promise.race([writer.finish(), outError]);
    progress(true);
    if (options.progress) process.stderr.write("\n");
    const counts = writer.tables.map((t) => t.rows);
    if (counts.length !== tables.length) throw new NetravenError("INTERNAL", `the output thread reported ${counts.length} of ${tables.length} tables`);
    for (const [i, table] of tables.entries()) log.debug(`${table.name}: ${counts[i]} rows`);
    log.debug(`${formatBytes(writer.bytes)} of SQL written as ${formatBytes(writer.bytesOut)}`);

    const finishedAt = new Date();
    header.finished_at = finishedAt.toISOString();
    header.data_bytes = HEADER_BYTES + writer.bytes;
    header.tables = tables.map((t, i) => ({ name: t.name, rows: counts[i]!, crc32: writer.tables[i]!.crc32 }));
    header.complete = true;
    // The completed header goes in place, then the file is fsynced while it is read back: the checksum is of the
    // bytes a restore will read, and both must be done before the file gets its final name.
    let sha256: string;
    let size: number;
    try {
      const handle = await open(temp, "r+");
      try {
        await handle.write(encodeHeaderUnit(renderHeader(header), options.compression), 0, undefined, 0);
        const [synced, read] = await Promise.allSettled([handle.sync(), readBack(temp)]);
        if (synced.status === "rejected") throw fileError(synced.reason, "cannot write", temp);
        if (read.status === "rejected") throw fileError(read.reason, "cannot read back", temp);
        ({ sha256, size } = read.value);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw error instanceof NetravenError ? error : fileError(error, "cannot write", temp);
    }
    await rename(temp, finalPath).catch((error) => {
      throw fileError(error, "cannot rename", temp);
    });
    await fsyncPath(options.dir).catch(() => undefined);
    const manifest: Manifest = {
      tool: "netraven-db",
      format_version: FORMAT_VERSION,
      file: basename(finalPath),
      size_bytes: size,
      sha256,
      compression: options.compression,
      tool_version: TOOL_VERSION,
      tool_revision: TOOL_REVISION,
      schema_version: header.schema_version,
      server_version: header.server_version,
      database: header.database,
      schema: header.schema,
      started_at: header.started_at,
      finished_at: header.finished_at,
      duration_ms: finishedAt.getTime() - started.getTime(),
      data_bytes: header.data_bytes,
      rows_total: counts.reduce((a, b) => a + b, 0),
      tables: tables.map((t, i) => ({ name: t.name, rows: counts[i]!, columns: t.columns.map((c) => c.name) })),
      skipped_tables: skipped,
      verified_at: null,
    };
    try {
      await writeManifest(finalPath, manifest);
    } catch (error) {
      // A backup whose manifest could not be written is reported as failed, so it must not stay behind either.
      await rm(finalPath, { force: true });
      throw error;
    }
    return { path: finalPath, manifest };
  } catch (error) {
    cleaningUp = true;
    output?.terminate();
    await rm(temp, { force: true }).catch(() => undefined);
    if (outputFailure) {
      // The COPY is still streaming on the connection: drop it rather than wait for the rest of the table.
      await connection.sql.end({ timeout: 0 }).catch(() => undefined);
      throw outputFailure;
    }
    throw error;
  } finally {
    output?.terminate();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
