// Bun's allocator (mimalloc) gives freed pages back to the kernel 10 ms after they are freed. Reading a large backup
// frees hundreds of MB of short-lived buffers (every 64 KiB piece of the file, every inflated chunk, every COPY
// message), so with that default each new buffer is faulted in again page by page. With MIMALLOC_PURGE_DELAY=-1
// mimalloc keeps freed pages for reuse instead: a restore of the 500 MB benchmark data took 3.6 s of client CPU and
// ~90 k page faults with the default, 1.9 s and 14 k with it, at a peak RSS of 101 MB instead of 91 MB (bench/notes.md).
// mimalloc reads the setting once, from the environment, when the process starts, and the binary does not export
// mi_option_set; so `restore` and `verify` of a large file re-execute the binary with it set, before they connect.
// execve keeps the process: same PID, arguments, descriptors and parent, so signals, `kill`, exit codes and the
// process title are exactly as without it. Small files skip it: the second start costs ~25 ms and gains nothing.
// Not for `backup`: there the retained pages lifted peak RSS to 136-177 MB at 500 MB, past the 150 MB target.
// Set MIMALLOC_PURGE_DELAY yourself (any value) and the binary leaves it alone.
import { log } from "./log.ts";

/** A transfer at least this large (bytes of table data, or of the backup file) is worth the second start. */
export const BULK_TRANSFER_BYTES = 64 * 1024 * 1024;

type Execve = (file: string, args: string[], env: Record<string, string | undefined>) => never;

function execveOf(): Execve | undefined {
  const execve = (process as unknown as { execve?: Execve }).execve;
  return (globalThis as { Bun?: unknown }).Bun && typeof execve === "function" ? execve : undefined; // Deno: its own allocator
}

/** Whether moving `bytes` should restart the binary with mimalloc's purging off (see restartForBulkTransfer). */
export function bulkRestartWanted(bytes: number, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!execveOf()) return false;
  if (env.MIMALLOC_PURGE_DELAY !== undefined) return false; // set by the user, or by us before this start
  // Only the compiled binary: under `bun src/main.ts` argv[1] is the script, and in-process tests must not restart.
  if (!process.argv[1]?.startsWith("/$bunfs/")) return false;
  const threshold = env.NETRAVEN_DB_BULK_BYTES === undefined ? BULK_TRANSFER_BYTES : Number(env.NETRAVEN_DB_BULK_BYTES);
  return bytes >= threshold;
}

/** Replaces this process with the same binary and arguments, MIMALLOC_PURGE_DELAY=-1 added. Close connections first. */
export function restartForBulkTransfer(bytes: number, env: NodeJS.ProcessEnv = process.env): never {
  log.debug(`${bytes} bytes to move: restarting with MIMALLOC_PURGE_DELAY=-1 (the allocator keeps freed pages for reuse)`);
  return execveOf()!(process.execPath, [process.execPath, ...process.argv.slice(2)], { ...env, MIMALLOC_PURGE_DELAY: "-1" });
}

/** The same for reading a backup file of `size` bytes: a compressed one holds about five times that in SQL. */
export async function restartForLargeFile(store: { stat(name: string): Promise<{ size: number } | undefined> }, name: string): Promise<void> {
  if (!execveOf() || process.env.MIMALLOC_PURGE_DELAY !== undefined) return;
  const size = (await store.stat(name).catch(() => undefined))?.size ?? 0;
  const bytes = /\.sql(\.age)?$/.test(name) ? size : size * 5;
  if (bulkRestartWanted(bytes)) restartForBulkTransfer(bytes);
}
