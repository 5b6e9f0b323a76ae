// Streams one `COPY ... TO STDOUT` to the output thread. postgres.js (as patched by build/patch-postgres.mjs) hands
// over the rows of each socket read as one chunk; chunks are gathered into ~256 KiB batches, the output thread's
// unit of work. The socket is paused while the output thread is behind, so memory stays bounded however fast the
// server sends.
import type { Readable } from "node:stream";
import type { OutputThread } from "./output-thread.ts";

const BATCH_BYTES = 256 * 1024;

/** Resolves when the last batch is sent. `onBatch` gets the bytes of each batch (progress, memory guard). */
export function pumpCopy(readable: Readable, output: OutputThread, onBatch: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let pending = 0;
    const flush = () => {
      if (pending === 0) return;
      output.send("data", chunks, pending);
      onBatch(pending);
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
