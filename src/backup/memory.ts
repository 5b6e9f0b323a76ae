// Bounded memory for long streams. Bun hands every socket read over as a fresh buffer of up to 512 KiB, and a
// restore or verify inflates the file in 64 KiB chunks: a backup or restore makes garbage at the rate it moves data,
// and Bun's collector let it pile up (peak RSS grew with the size of the backup, past 180 MB at 2 GB).
// Every few MB the stream checks the process's RSS; above a soft limit, and then only once it has grown by HEADROOM
// since the last collection, it runs a full collection of its thread's heap (a few ms: the live heap is small).
// Bun only: elsewhere (Deno) this does nothing and memory is left to the runtime.

/** RSS below which nothing is collected (the compiled binary alone maps ~50 MB of code). */
export const SOFT_RSS_BYTES = 96 * 1024 * 1024;
/** Growth since the last collection that triggers the next one. */
export const RSS_HEADROOM_BYTES = 24 * 1024 * 1024;
/** How many bytes pass between two RSS checks (a check reads /proc: cheap, not free). */
export const RSS_CHECK_EVERY_BYTES = 8 * 1024 * 1024;

const fullGc = (globalThis as unknown as { Bun?: { gc(force: boolean): void } }).Bun?.gc;

/** Returns a function to call with the bytes just moved; it collects garbage when RSS has grown too far. */
export function memoryGuard(): (bytes: number) => void {
  if (!fullGc) return () => undefined;
  let since = 0;
  let limit = SOFT_RSS_BYTES;
  return (bytes) => {
    since += bytes;
    if (since < RSS_CHECK_EVERY_BYTES) return;
    since = 0;
    if (process.memoryUsage.rss() < limit) return;
    fullGc(true);
    limit = Math.max(SOFT_RSS_BYTES, process.memoryUsage.rss() + RSS_HEADROOM_BYTES);
  };
}

/** The same guard as source text, for a worker built from a string (it cannot import this module). */
export const memoryGuardSource = `(() => {
  const gc = globalThis.Bun ? () => globalThis.Bun.gc(true) : undefined;
  if (!gc) return () => undefined;
  let since = 0;
  let limit = ${SOFT_RSS_BYTES};
  return (bytes) => {
    since += bytes;
    if (since < ${RSS_CHECK_EVERY_BYTES}) return;
    since = 0;
    if (process.memoryUsage.rss() < limit) return;
    gc();
    limit = Math.max(${SOFT_RSS_BYTES}, process.memoryUsage.rss() + ${RSS_HEADROOM_BYTES});
  };
})()`;
