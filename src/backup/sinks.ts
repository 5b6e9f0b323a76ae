// How the bytes of one backup reach every location it goes to: compressed once, encrypted once (age, when asked),
// then written to each store's sink. A location that fails is aborted and set aside while the others go on: the data
// is read from the database only once, and what completes elsewhere stays. Only when every location has failed does
// the backup itself stop.
import { isNetravenError, Errors, type NetravenError } from "../errors.ts";
import type { Digest } from "../checksum.ts";
import type { BackupSink, BackupStore } from "../storage/store.ts";
import type { Recipients } from "../age/recipients.ts";

/** What the output thread writes into. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

export interface Target {
  store: BackupStore;
  sink: BackupSink;
  failure?: NetravenError;
}

export type Finished = { store: BackupStore; stored: Digest & { name: string } } | { store: BackupStore; failure: NetravenError };

const asFailure = (error: unknown) => (isNetravenError(error) ? error : Errors.internal((error as Error)?.message ?? String(error), error));

export class FanOut implements ByteSink {
  constructor(readonly targets: Target[]) {}

  private live(): Target[] {
    return this.targets.filter((t) => !t.failure);
  }

  private async fail(target: Target, error: unknown): Promise<void> {
    target.failure = asFailure(error);
    await target.sink.abort();
  }

  async write(chunk: Uint8Array): Promise<void> {
    await Promise.all(this.live().map((t) => t.sink.write(chunk).catch((error) => this.fail(t, error))));
    // Nowhere left to write: the backup has failed everywhere, with the first location's reason.
    if (this.live().length === 0) throw this.targets[0]!.failure!;
  }

  /** Finishes every location that is still writing; each result says where the backup is, or why not. */
  async finish(): Promise<Finished[]> {
    await Promise.all(this.live().map((t) => t.sink.finish().then((stored) => ((t as Target & { stored?: typeof stored }).stored = stored), (error) => this.fail(t, error))));
    return this.targets.map((t) => (t.failure ? { store: t.store, failure: t.failure } : { store: t.store, stored: (t as Target & { stored: Digest & { name: string } }).stored }));
  }

  async abort(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.sink.abort()));
  }
}

/**
 * Pushes chunks into a pull-based stream stage (the age encrypter is an async generator) with backpressure: a
 * write resolves when the stage has taken the chunk, and what the stage yields goes on to `next`.
 */
export async function encryptInto(next: ByteSink, recipients: Recipients): Promise<ByteSink & { finish(): Promise<void>; abort(): void }> {
  const { encryptStream } = await import("../age/encrypt.ts");
  const queue: Array<{ chunk: Uint8Array; taken: () => void }> = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const nudge = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  async function* input(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const item = queue.shift();
      if (item) {
        item.taken();
        yield item.chunk;
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resume) => (wake = resume));
      }
    }
  }
  const pump = (async () => {
    for await (const chunk of encryptStream(recipients)(input())) await next.write(chunk);
  })();
  // A failed pump must not leave writers waiting for a stage that is gone.
  pump.catch(() => {
    for (const item of queue.splice(0)) item.taken();
  });
  const stopped = pump.then(() => {
    throw Errors.internal("encryption stopped before the backup was complete");
  });
  stopped.catch(() => undefined);
  return {
    async write(chunk) {
      const taken = new Promise<void>((resolve) => queue.push({ chunk, taken: resolve }));
      nudge();
      await Promise.race([taken, stopped]);
    },
    async finish() {
      ended = true;
      nudge();
      await pump;
    },
    abort() {
      ended = true;
      nudge();
    },
  };
}
