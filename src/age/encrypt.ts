// Encryption as a stream stage: plaintext chunks in, an age file out (https://age-encryption.org/v1), with memory
// bounded by a few 64 KiB chunks whatever the size. The stage is an async generator function, the shape that
// composes with everything the backup pipeline uses: node's `pipeline(source, createGzip(), encrypt, hash, sink)`
// takes it as a middle step, `Readable.from(encrypt(source))` or `Duplex.from(encrypt)` make node streams of it,
// and it pulls only when its consumer pulls, so backpressure reaches back to the COPY reader. Inside, the library's
// web-stream encrypter does the work (a TransformStream holds at most one chunk on each side).
import { loadAge } from "./library.ts";
import { pullStream, releaseSource } from "./pull-stream.ts";
import type { Recipients } from "./recipients.ts";

export type StreamStage = (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array, void, undefined>;

/**
 * A stage that encrypts to `recipients` (from `parseRecipients`: checked and normalised). Each run makes a new
 * random file key. The output is ~0.03 % larger than the input: a header of ~200 bytes + ~100 per extra X25519
 * recipient, a 16-byte nonce, and a 16-byte tag per 64 KiB chunk.
 */
export function encryptStream(recipients: Recipients): StreamStage {
  if (recipients.length === 0) throw new Error("encryptStream: no recipients");
  return async function* encrypt(source) {
    const iterator = source[Symbol.asyncIterator]();
    try {
      const { Encrypter } = await loadAge();
      const encrypter = new Encrypter();
      for (const recipient of recipients) encrypter.addRecipient(recipient);
      yield* await encrypter.encrypt(pullStream(iterator));
    } finally {
      // Releases the source (a file, a COPY) when the consumer stops early (a failed upload): the web streams'
      // cancel reaches it only a few ticks later, if at all. Not awaited: a source stuck in a read would hang it.
      releaseSource(iterator);
    }
  };
}
