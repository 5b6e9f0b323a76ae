// Decryption as a stream stage: an age file in, plaintext chunks out, memory bounded by a few 64 KiB chunks. age
// authenticates every 64 KiB chunk and marks the last one, so damage anywhere and a file cut short anywhere
// (inside the header, the nonce, a chunk, or exactly at a chunk boundary) end the stream with an error, never with
// silently short output. Chunks already passed on are authentic, but the stream is only whole when it ends without
// an error: a consumer that writes (restore) must commit only then.
//
// Failures are one line each: not an age file and damaged or truncated → BACKUP_INVALID (exit 1, "bad file"); no
// identity opens any recipient stanza → IDENTITY_MISMATCH (exit 5: a wrong key is a credential problem, not a bad
// file; under verify's checker contract it becomes 2, "could not check", which is the truth). An error of the
// source itself (a read error, a dropped download) passes through unchanged.
import { Errors, type NetravenError } from "../errors.ts";
import type { AgeIdentities } from "./identities.ts";
import {
  AGE_CHUNK_BYTES,
  AGE_NONCE_BYTES,
  AGE_TAG_BYTES,
  describeStanzas,
  isAgeFile,
  isArmoredAgeFile,
  mayBeAgeFile,
  scanHeader,
  type HeaderScan,
} from "./format.ts";
import type { StreamStage } from "./encrypt.ts";
import { loadAge } from "./library.ts";
import { pullStream, releaseSource } from "./pull-stream.ts";

export interface DecryptOptions {
  /** The file's name, which starts every message (default "the backup"). */
  name?: string;
}

const NO_MATCH = "no identity matched any of the file's recipients";

export function decryptStream(identities: AgeIdentities, options: DecryptOptions = {}): StreamStage {
  const name = options.name ?? "the backup";
  const bad = (problem: string, cause?: unknown) => Errors.badBackup(name, problem, cause);

  return async function* decrypt(source) {
    const iterator = source[Symbol.asyncIterator]();
    // Errors of the source are passed on as they are; only the library's are about the file.
    let sourceError: { error: unknown } | undefined;
    const tracked: AsyncIterator<Uint8Array> = {
      async next() {
        try {
          return await iterator.next();
        } catch (error) {
          sourceError = { error };
          throw error;
        }
      },
    };
    const fromSource = (error: unknown) => sourceError !== undefined && error === sourceError.error;

    try {
      // The header, read here under a size limit (see format.ts), plus whatever payload arrived with it.
      let head: Uint8Array = new Uint8Array(0);
      let header: HeaderScan | undefined;
      while (!header) {
        const next = await tracked.next();
        if (next.done) {
          if (head.length === 0) throw bad("is empty, not an age-encrypted file");
          if (!isAgeFile(head)) throw notAge(head);
          throw bad("truncated: the file ends inside its age header");
        }
        head = concat(head, next.value);
        if (!mayBeAgeFile(head)) throw notAge(head);
        try {
          header = scanHeader(head);
        } catch (error) {
          throw bad(`the age header is damaged (${(error as Error).message})`);
        }
      }

      const { Decrypter } = await loadAge();
      const decrypter = new Decrypter();
      for (const key of identities.secretKeys()) decrypter.addIdentity(key);

      let plaintext: ReadableStream<Uint8Array>;
      try {
        plaintext = await decrypter.decrypt(pullStream(tracked, head));
      } catch (error) {
        if (fromSource(error)) throw error;
        throw headerFailure(error, header);
      }

      let emitted = 0;
      try {
        for await (const chunk of plaintext) {
          emitted += chunk.length;
          yield chunk;
        }
      } catch (error) {
        if (fromSource(error)) throw error;
        // Chunks before the failing one were passed on whole, so `emitted` counts them exactly. A file cut at a
        // chunk boundary fails on the chunk before the cut: it is full but not marked as the last one.
        const index = Math.floor(emitted / AGE_CHUNK_BYTES);
        const offset = header.length + AGE_NONCE_BYTES + index * (AGE_CHUNK_BYTES + AGE_TAG_BYTES);
        throw bad(`the encrypted data is damaged or cut short (age chunk ${index + 1}, at byte ${offset} of the file, fails its authentication check)`, error);
      }
    } finally {
      releaseSource(iterator);
    }
  };

  function headerFailure(error: unknown, header: HeaderScan): NetravenError {
    const message = (error as Error)?.message ?? "";
    if (message === NO_MATCH) {
      const types = header.stanzaTypes;
      const to = types.includes("scrypt") ? "with a passphrase, not to public keys" : `to ${describeStanzas(types)}`;
      return Errors.identityMismatch(
        `${name}: no identity in ${identities.path} can decrypt it (it is encrypted ${to})`,
        "use the identity file whose public key the backup was encrypted to (its manifest lists them)",
      );
    }
    if (message.startsWith("stream ended before reading")) return bad("truncated: the file ends right after its age header", error);
    if (message === "invalid header HMAC") return bad("the age header is damaged (its MAC does not match)", error);
    return bad("the age header is damaged (a recipient stanza cannot be read)", error);
  }

  function notAge(head: Uint8Array): NetravenError {
    if (isArmoredAgeFile(head)) return bad("is an ASCII-armored age file (age -a); netraven-db reads binary age files: age -d it, or re-encrypt without -a");
    return bad("is not an age-encrypted file (it does not start with age-encryption.org/v1)");
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
