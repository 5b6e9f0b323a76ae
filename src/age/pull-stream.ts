// The bridge from the async iterables that node streams are to the web ReadableStream the age library takes. It
// reads only when the library asks (high-water mark 0), so a slow consumer of the output holds the source back
// instead of letting chunks pile up in memory.

/**
 * A web ReadableStream that reads `iterator` only when asked (high-water mark 0: nothing is read ahead), after
 * `first` (bytes already read from it) when given.
 */
export function pullStream(iterator: AsyncIterator<Uint8Array>, first?: Uint8Array): ReadableStream<Uint8Array> {
  let pending = first;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending) {
          controller.enqueue(pending);
          pending = undefined;
          return;
        }
        const next = await iterator.next();
        if (next.done) controller.close();
        else if (next.value.length > 0) controller.enqueue(next.value);
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Tells a source it will not be read any more (a no-op for one that ended), without waiting for it. */
export function releaseSource(iterator: AsyncIterator<Uint8Array>): void {
  try {
    iterator.return?.()?.catch(() => undefined);
  } catch {
    // A source whose return() throws at once has nothing left to release.
  }
}
