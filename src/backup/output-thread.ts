// The main thread's side of a backup's output thread: it sends batches of the dump, writes the compressed bytes
// that come back to the sink in order, and keeps memory bounded: at most IN_FLIGHT_BYTES may be sent and not yet
// compressed, or compressed and not yet taken by the sink. It also collects each table's row count and CRC-32.
import { log } from "../log.ts";
import { OUTPUT_WORKER_URL } from "../workers.ts";
import type { Compression } from "./compression.ts";
import { runOutput } from "./output-core.ts";
import type { FromOutput, OutputScope, ToOutput } from "./output-protocol.ts";
import type { ByteSink } from "./sinks.ts";

/** Batches travel in pooled buffers of this size (a longer batch, i.e. a huge row, gets a buffer of its own). */
export const BUFFER_BYTES = 512 * 1024;
/** Bytes sent and not yet written: bounds memory, keeps both threads busy. */
const IN_FLIGHT_BYTES = 4 * 1024 * 1024;

export class OutputThread {
  /** Uncompressed bytes sent so far. */
  bytes = 0;
  /** Bytes written to the sink so far. */
  bytesOut = 0;
  readonly tables: Array<{ rows: number; crc32: string }> = [];
  private inFlight = 0;
  private readonly pool: ArrayBuffer[] = [];
  private roomWaiter: (() => void) | undefined;
  private doneWaiter: ((totals: { dataBytes: number; rows: number }) => void) | undefined;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private rejectFailed!: (error: Error) => void;
  /** Sink writes, chained so they happen in order; `finish` waits for the last. */
  private writing: Promise<void> = Promise.resolve();
  private readonly post: (message: ToOutput, transfer?: ArrayBuffer[]) => void;
  private readonly stop: () => void;

  constructor(
    private readonly sink: ByteSink,
    compression: Compression,
    level: number | undefined,
    headerBytes: number,
    private readonly onFailure: (error: Error, where: "sink" | "thread") => void,
    counted?: { tables: number; rows: number },
  ) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    let worker: Worker | undefined;
    try {
      worker = new Worker(OUTPUT_WORKER_URL, { type: "module" });
    } catch (error) {
      log.debug(`no output thread (${(error as Error).message}); compressing on the main thread`);
    }
    if (worker) {
      const thread = worker;
      thread.onmessage = (event: MessageEvent<FromOutput>) => this.receive(event.data);
      thread.onerror = (event: ErrorEvent) => {
        event.preventDefault?.();
        this.fail(new Error(`the output thread failed: ${event.message}`), "thread");
      };
      this.post = (message, transfer) => thread.postMessage(message, transfer ?? []);
      this.stop = () => thread.terminate();
    } else {
      // In-process: the same code, messages delivered asynchronously as a worker would.
      const scope: OutputScope = { postMessage: (message) => queueMicrotask(() => this.receive(message)), onmessage: null };
      runOutput(scope);
      this.post = (message) => queueMicrotask(() => scope.onmessage?.({ data: message }));
      this.stop = () => undefined;
    }
    this.post({ type: "start", compression, level, headerBytes, counted });
  }

  private receive(message: FromOutput): void {
    switch (message.type) {
      case "ack":
        this.release(message.bytes, message.buffer);
        return;
      case "out": {
        const data = new Uint8Array(message.data, 0, message.length);
        this.inFlight += data.length;
        this.writing = this.writing.then(async () => {
          if (this.failure) return;
          try {
            await this.sink.write(data);
            this.bytesOut += data.length;
          } catch (error) {
            this.fail(error as Error, "sink");
          }
          this.release(data.length, message.data);
        });
        return;
      }
      case "table":
        this.tables.push({ rows: message.rows, crc32: message.crc32 });
        return;
      case "done":
        this.doneWaiter?.({ dataBytes: message.dataBytes, rows: message.rows });
        return;
      case "error":
        this.fail(Object.assign(new Error(message.message), { code: message.code }), "thread");
        return;
    }
  }

  private release(bytes: number, buffer: ArrayBuffer | undefined): void {
    this.inFlight -= bytes;
    if (buffer?.byteLength === BUFFER_BYTES) this.pool.push(buffer);
    if (this.roomWaiter && this.inFlight <= IN_FLIGHT_BYTES / 2) {
      const resolve = this.roomWaiter;
      this.roomWaiter = undefined;
      resolve();
    }
  }

  private fail(error: Error, where: "sink" | "thread"): void {
    if (this.failure) return;
    this.failure = error;
    this.onFailure(error, where);
    this.rejectFailed(error);
    this.roomWaiter = undefined;
  }

  /** Rejects when the thread or the sink fails: race it against anything that waits on the database. */
  get failure$(): Promise<never> {
    return this.failed;
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

  tableStart(name: string): void {
    this.post({ type: "table", name });
  }

  tableEnd(): void {
    this.post({ type: "table-end" });
  }

  get full(): boolean {
    return this.inFlight > IN_FLIGHT_BYTES;
  }

  /** Resolves once the thread and the sink have caught up to half the in-flight limit. */
  room(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.full) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => (this.roomWaiter = resolve)), this.failed]);
  }

  /**
   * Writes the trailer (without `finishedAt`: none, the unit just ends), flushes the compressor and waits until the
   * sink has taken every byte.
   */
  async finish(finishedAt?: Date): Promise<{ dataBytes: number; rows: number }> {
    if (this.failure) throw this.failure;
    const done = new Promise<{ dataBytes: number; rows: number }>((resolve) => (this.doneWaiter = resolve));
    this.post({ type: "end", finishedAt: finishedAt?.toISOString() });
    const totals = await Promise.race([done, this.failed]);
    await Promise.race([this.writing, this.failed]);
    if (this.failure) throw this.failure;
    return totals;
  }

  terminate(): void {
    this.stop();
  }
}
