// Backpressure for writes to node streams: resolve when the stream drains, reject if it fails meanwhile. And the
// chunk size for reading backups.
import type { Writable } from "node:stream";

/**
 * Backups are read (file reads, decompressed output) in 64 KiB chunks, below mimalloc's large-object size (128 KiB):
 * each chunk is garbage a moment later, and large blocks freed by the memory guard's collections go back to the
 * kernel and fault in again on the next allocation. With 1 MiB reads and 256 KiB decompressed chunks, a verify of
 * 500 MB took 55-60 k page faults and 2.0 s; with 64 KiB, 16-18 k and 1.55 s and 15 MB less peak RSS (bench/notes.md).
 */
export const READ_CHUNK_BYTES = 64 * 1024;

export function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off("error", onError);
      resolve();
    };
    const onError = (error: Error) => {
      stream.off("drain", onDrain);
      reject(error);
    };
    stream.once("drain", onDrain);
    stream.once("error", onError);
  });
}
