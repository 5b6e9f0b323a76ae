// The start of every read of a stored backup: its bytes as plaintext (decrypted when it is an age file), the header
// unit that opens them, and the one way read failures are named (a bad backup, a foreign file, a file error).
import { AGE_MAGIC } from "../age/format.ts";
import type { AgeIdentities } from "../age/identities.ts";
import { Errors, isNetravenError } from "../errors.ts";
import { fileError } from "../files.ts";
import { foreignFileError, recogniseForeignFile } from "../pgdump/detect.ts";
import type { BackupStore } from "../storage/store.ts";
import { HandlerFailure } from "./chunk-scan.ts";
import { detectCompression, type Compression } from "./compression.ts";
import { decodeHeaderUnit, FormatError, HEADER_UNIT_BYTES, MAGIC_LINE, parseHeader, type BackupHeader } from "./format.ts";

/**
 * The stored bytes from the start, decrypted when the file is an age file (decryption needs `identities`). Each
 * chunk of plaintext is authentic, but the stream is whole only when it ends without an error.
 */
export async function* plaintext(store: BackupStore, name: string, identities: AgeIdentities | undefined): AsyncGenerator<Buffer> {
  const source = store.read(name);
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    let head = Buffer.alloc(0);
    while (head.length < AGE_MAGIC.length) {
      const next = await chunks.next();
      if (next.done) break;
      head = Buffer.concat([head, next.value]);
    }
    const rest = async function* () {
      if (head.length) yield head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    };
    if (head.subarray(0, AGE_MAGIC.length).toString("latin1") !== AGE_MAGIC) return yield* rest();
    if (!identities) throw Errors.identityRequired(name);
    const { decryptStream } = await import("../age/decrypt.ts");
    for await (const chunk of decryptStream(identities, { name })(rest())) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  } finally {
    source.destroy();
  }
}

/** Takes the header unit from the start of the plaintext; the rest of the stream follows it. */
export async function takeHeader(plain: AsyncGenerator<Buffer>): Promise<{ header: BackupHeader; compression: Compression; rest: AsyncGenerator<Buffer> }> {
  const want = Math.max(...Object.values(HEADER_UNIT_BYTES));
  let start = Buffer.alloc(0);
  while (start.length < want) {
    const next = await plain.next();
    if (next.done) break;
    start = Buffer.concat([start, next.value]);
  }
  const compression = detectCompression(start.subarray(0, 64), MAGIC_LINE);
  if (!compression) throw new FormatError("not a netraven-db backup (unknown file type)");
  const unit = HEADER_UNIT_BYTES[compression];
  const header = parseHeader(decodeHeaderUnit(start.subarray(0, unit), compression));
  if (header.compression !== compression) throw new FormatError(`the header says ${header.compression} but the file is ${compression}`);
  const after = start.subarray(unit);
  async function* rest() {
    if (after.length) yield after;
    yield* plain;
  }
  return { header, compression, rest: rest() };
}

/** The same file errors for every read: FormatError is a bad backup, an I/O error a file error. */
export function readError(store: BackupStore, name: string, error: unknown): unknown {
  if (error instanceof HandlerFailure) return error.cause;
  if (error instanceof FormatError) return Errors.badBackup(name, error.message);
  if (isNetravenError(error)) return error;
  return fileError(error, "cannot read", store.describe(name));
}

/** Whether the stored file is an age file (its first bytes are age's magic line). */
export async function isEncryptedBackup(store: BackupStore, name: string): Promise<boolean> {
  const source = store.read(name);
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of source) {
      head = Buffer.concat([head, chunk as Buffer]);
      if (head.length >= AGE_MAGIC.length) break;
    }
  } catch (error) {
    throw readError(store, name, error);
  } finally {
    source.destroy();
  }
  return head.subarray(0, AGE_MAGIC.length).toString("latin1") === AGE_MAGIC;
}

/** Reads just the header: cheap, no decompression of the body (an encrypted file is decrypted that far). */
export async function readHeader(store: BackupStore, name: string, identities?: AgeIdentities): Promise<{ header: BackupHeader; compression: Compression }> {
  const plain = plaintext(store, name, identities);
  try {
    const { header, compression } = await takeHeader(plain);
    return { header, compression };
  } catch (error) {
    // Not ours: name it when it is a file we know (an old pg_dump script, the empty gzip of a failed one).
    const foreign = error instanceof FormatError ? await recogniseForeignFile(store, name).catch(() => undefined) : undefined;
    throw foreign ? foreignFileError(name, store.describe(name), foreign) : readError(store, name, error);
  } finally {
    await plain.return(undefined);
  }
}
