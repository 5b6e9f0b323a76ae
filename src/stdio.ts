// process.stdout and process.stderr are created on first use, and in a compiled Bun binary creating them costs
// about as much start-up as the rest of an up-to-date `init` does on the client (measured: 6 ms with node:net
// already loaded, 20 ms without). So nothing touches them until something is really printed, and only the streams
// that were used are flushed before the process exits.
const used = new Set<NodeJS.WriteStream>();

export function stdout(): NodeJS.WriteStream {
  used.add(process.stdout);
  return process.stdout;
}

export function stderr(): NodeJS.WriteStream {
  used.add(process.stderr);
  return process.stderr;
}

/** Resolves once everything written to a used stream has been handed to the OS. */
export function flushUsed(): Promise<void> {
  return Promise.all([...used].map((stream) => new Promise<void>((resolve) => stream.write("", () => resolve())))).then(() => undefined);
}
