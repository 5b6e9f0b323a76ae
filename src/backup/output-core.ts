// The output thread's work: per-table row counts and CRC-32 of the COPY data, and compression of the whole
// script. It runs in a Worker (output-worker.ts) so the main thread only pumps COPY rows: in Bun, node:zlib streams
// compress on the calling thread, which made a backup take as long as dumping plus compressing. Where no Worker
// can be started, the same function runs in-process. Messages are handled strictly in order.
import { crc32 } from "node:zlib";
import type { Transform } from "node:stream";
import { compressorOwnsChunks, createCompressor } from "./compression.ts";
import { memoryGuard } from "./memory.ts";
import type { OutputScope, ToOutput } from "./output-protocol.ts";
import { crc32Hex, renderTableEnd, renderTrailer } from "./sections.ts";

const NEWLINE = 10;

function countRows(data: Uint8Array): number {
  let rows = 0;
  for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, i + 1)) rows++;
  return rows;
}

export function runOutput(scope: OutputScope): void {
  let failed = false;
  let compressor: Transform | undefined;
  /** One-shot compressors give each chunk a buffer of its own: those go to the main thread without a copy. */
  let ownChunks = false;
  let table: { name: string; crc: number; rows: number } | undefined;
  /** Uncompressed bytes of the script so far, and rows of every table so far: for the trailer. */
  let dataBytes = 0;
  let tables = 0;
  let rowsTotal = 0;
  const relieveMemory = memoryGuard();
  // Messages wait here while the compressor works on earlier ones (its callbacks are asynchronous).
  const queue: ToOutput[] = [];
  let busy = false;

  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    const e = error as { message?: string; code?: string };
    scope.postMessage({ type: "error", message: String(e?.message ?? error), code: typeof e?.code === "string" ? e.code : undefined });
  };
  /** Compressed bytes may share one ArrayBuffer with the compressor's next output: then send a copy of our part. */
  const sendOut = (chunk: Uint8Array) => {
    const whole = ownChunks && chunk.byteOffset === 0 && chunk.length === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    const copy = whole ? (chunk.buffer as ArrayBuffer) : (chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length) as ArrayBuffer);
    scope.postMessage({ type: "out", data: copy, length: copy.byteLength }, [copy]);
  };
  /** Our own lines (table ends, trailer) go the way the batches go, then `then` runs. */
  const emit = (text: string, then: () => void) => {
    const data = new TextEncoder().encode(text);
    dataBytes += data.length;
    if (!compressor) {
      sendOut(data);
      return then();
    }
    compressor.write(data, (error) => (error ? fail(error) : then()));
  };
  const handle = (message: ToOutput) => {
    switch (message.type) {
      case "start":
        dataBytes = message.headerBytes;
        tables = message.counted?.tables ?? 0;
        rowsTotal = message.counted?.rows ?? 0;
        compressor = createCompressor(message.compression, message.level);
        ownChunks = compressorOwnsChunks(message.compression);
        compressor?.on("data", (chunk: Uint8Array) => {
          if (!failed) sendOut(chunk);
        });
        compressor?.on("error", fail);
        return next();
      case "table":
        table = { name: message.name, crc: 0, rows: 0 };
        return next();
      case "table-end": {
        const done = table!;
        table = undefined;
        tables++;
        rowsTotal += done.rows;
        scope.postMessage({ type: "table", rows: done.rows, crc32: crc32Hex(done.crc) });
        return emit(renderTableEnd(done.name, done.rows, crc32Hex(done.crc)), next);
      }
      case "data":
      case "text": {
        const data = new Uint8Array(message.data, 0, message.length);
        dataBytes += data.length;
        if (message.type === "data") {
          table!.crc = crc32(data, table!.crc);
          table!.rows += countRows(data);
        }
        relieveMemory(data.length);
        if (!compressor) {
          // Uncompressed: the buffer itself goes to the sink, and comes back to the pool from there.
          scope.postMessage({ type: "ack", bytes: data.length });
          scope.postMessage({ type: "out", data: message.data, length: message.length }, [message.data]);
          return next();
        }
        compressor.write(data, (error) => {
          if (error) return fail(error);
          scope.postMessage({ type: "ack", bytes: data.length, buffer: message.data }, [message.data]);
          next();
        });
        return;
      }
      case "end": {
        const finished = () => scope.postMessage({ type: "done", dataBytes, rows: rowsTotal });
        const flush = () => {
          if (!compressor) return finished();
          compressor.once("end", finished);
          compressor.end();
          compressor.resume();
        };
        if (message.finishedAt === undefined) return flush();
        emit(renderTrailer({ tables, rows: rowsTotal, dataBytes, finishedAt: message.finishedAt }), flush);
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
