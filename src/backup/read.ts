// Streams a backup and checks everything about it: header, SQL text, every COPY block, row counts, size and the
// trailer. verify runs it alone; restore runs it with handlers that feed each COPY block to the server. Memory
// stays bounded: data passes through in the decompressor's chunks, and only SQL text between blocks is buffered.
// A damaged file is a BACKUP_INVALID error naming the file and the place; a file that cannot be read, a file error.
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import { AGE_MAGIC } from "../age/format.ts";
import type { AgeIdentities } from "../age/identities.ts";
import { Errors, isNetravenError } from "../errors.ts";
import { fileError } from "../files.ts";
import { allTables, type TableDef } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import type { BackupStore } from "../storage/store.ts";
import { createDecompressor, detectCompression, isDecompressionError, type Compression } from "./compression.ts";
import { decodeHeaderUnit, FormatError, HEADER_BYTES, HEADER_UNIT_BYTES, MAGIC_LINE, parseHeader, renderScriptParts, type BackupHeader } from "./format.ts";
import { memoryGuard } from "./memory.ts";
import { crc32Hex, parseTableEnd, parseTrailer, TRAILER_START } from "./sections.ts";
import { foreignFileError, recogniseForeignFile } from "../pgdump/detect.ts";

export interface BlockStart {
  table: TableDef;
  /** Column names in the order the block holds them. */
  columns: string[];
}

export interface ReadHandlers {
  /** The header is good; throw to stop before any data is read. */
  onHeader?(header: BackupHeader): void | Promise<void>;
  onBlockStart?(block: BlockStart): void | Promise<void>;
  /** Raw COPY text data (possibly partial rows), in order. */
  onData?(chunk: Buffer): void | Promise<void>;
  onBlockEnd?(block: BlockStart, rows: number): void | Promise<void>;
  /** Bytes of SQL read so far (of header.data_bytes), after each chunk. */
  onProgress?(bytes: number, table: string | undefined): void;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Needed for an encrypted backup. */
  identities?: AgeIdentities;
  /** The script's size as the manifest records it: reading never inflates past it (a zip bomb). */
  expectedBytes?: number;
}

export interface ReadSummary {
  header: BackupHeader;
  compression: Compression;
  tables: Array<{ name: string; rows: number }>;
  dataBytes: number;
  finishedAt: string;
}

/**
 * Without a manifest, no backup inflates more than this many times its stored size: deflate's limit is about
 * 1032:1, and real dumps compress 3-15:1. A zip bomb is refused long before it fills memory or a disk.
 */
const MAX_INFLATION = 1100;

const MAX_TEXT_LINE = 1 << 20; // SQL lines we write are short; a huge one means the file is not ours
const NEWLINE = 10;
const TAB = 9;
const BACKSLASH = 92;
const DOT = 46;

/**
 * The stored bytes from the start, decrypted when the file is an age file (decryption needs `identities`). Each
 * chunk of plaintext is authentic, but the stream is whole only when it ends without an error.
 */
async function* plaintext(store: BackupStore, name: string, identities: AgeIdentities | undefined): AsyncGenerator<Buffer> {
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
async function takeHeader(plain: AsyncGenerator<Buffer>): Promise<{ header: BackupHeader; compression: Compression; rest: AsyncGenerator<Buffer> }> {
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

/** A handler's own failure (a server error while loading a block): passed to the caller untouched. */
class HandlerFailure {
  constructor(readonly cause: unknown) {}
}

async function inHandler<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new HandlerFailure(error);
  }
}

/** The same file errors for every read: FormatError is a bad backup, an I/O error a file error. */
function readError(store: BackupStore, name: string, error: unknown): unknown {
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

/** Reads and checks the whole backup, calling `handlers` on the way; stops at `options.signal`. */
export async function readBackup(store: BackupStore, name: string, handlers: ReadHandlers = {}, options: ReadOptions = {}): Promise<ReadSummary> {
  try {
    return await parseBackup(store, name, handlers, options);
  } catch (error) {
    throw readError(store, name, error);
  }
}

async function parseBackup(store: BackupStore, name: string, handlers: ReadHandlers, options: ReadOptions): Promise<ReadSummary> {
  const plain = plaintext(store, name, options.identities);
  const { header, compression, rest } = await takeHeader(plain);
  await inHandler(() => handlers.onHeader?.(header));
  const maxBytes = options.expectedBytes ?? Math.max(HEADER_BYTES, ((await store.stat(name))?.size ?? 0) * MAX_INFLATION);
  const limit = options.expectedBytes !== undefined ? `the ${options.expectedBytes} bytes its manifest records` : `${MAX_INFLATION} times its size (a zip bomb?)`;

  const byName = new Map(allTables.map((t) => [t.name, t]));
  const expectedOrder = header.tables;
  for (const name of expectedOrder) if (!byName.has(name)) throw new FormatError(`the header lists unknown table "${name}"`);
  // Exact SQL text is known for backups of this schema version; older versions are checked structurally.
  const exact = header.schema_version === SCHEMA_VERSION ? renderScriptParts(header.schema, expectedOrder.map((n) => byName.get(n)!)) : undefined;

  const counts: Array<{ name: string; rows: number }> = [];
  let dataBytes = HEADER_BYTES;
  let textBuffer = "";
  let sawPrologue = false;
  let block: BlockStart | undefined;
  let blockIndex = 0;
  let rows = 0;
  let crc = 0;
  let tabs = 0;
  let rowStart = true;
  let carry: Buffer | undefined;
  /** A block whose `\.` has passed: the next line must close it with its row count and CRC-32. */
  let closing: { name: string; rows: number; crc32: string } | undefined;
  const where = () => (block ? `table ${block.table.name}, row ${rows + 1}` : `after table ${counts.at(-1)?.name ?? "(none)"}`);

  const startBlock = async (line: string) => {
    if (!sawPrologue) {
      if (exact && textBuffer !== exact.prologue) throw new FormatError("the SQL before the data is not what netraven-db writes");
      sawPrologue = true;
    } else if (textBuffer !== "") {
      throw new FormatError(`unexpected SQL between data blocks (${where()})`);
    }
    textBuffer = "";
    const name = expectedOrder[blockIndex];
    if (name === undefined) throw new FormatError("more data blocks than the header lists");
    const table = byName.get(name)!;
    const match = line.match(/^COPY "((?:[^"]|"")+)"\."([a-z_][a-z0-9_]*)" \(((?:"[a-z_][a-z0-9_]*"(?:, )?)+)\) FROM stdin;$/);
    if (!match || match[1]!.replace(/""/g, '"') !== header.schema || match[2] !== name) {
      throw new FormatError(`expected the data block of table ${name}, found: ${line.slice(0, 120)}`);
    }
    if (exact && exact.copyLines.get(name) !== line) throw new FormatError(`the column list of table ${name} is not what netraven-db writes`);
    const columns = match[3]!.split(", ").map((c) => c.slice(1, -1));
    const known = new Set(table.columns.map((c) => c.name));
    for (const column of columns) if (!known.has(column)) throw new FormatError(`table ${name} has unknown column "${column}"`);
    block = { table, columns };
    crc = 0;
    rows = 0;
    tabs = 0;
    rowStart = true;
    await inHandler(() => handlers.onBlockStart?.(block!));
  };

  const endBlock = async () => {
    closing = { name: block!.table.name, rows, crc32: crc32Hex(crc) };
    await inHandler(() => handlers.onBlockEnd?.(block!, rows));
    block = undefined;
    blockIndex++;
  };

  /** The line after `\.` states what the block held: it must agree with what was read. */
  const closeBlock = (line: string) => {
    const stated = parseTableEnd(line);
    const table = closing!.name;
    if (!stated || stated.table !== table) throw new FormatError(`the data of table ${table} is not followed by its row count and CRC-32 line`);
    if (stated.rows !== closing!.rows) throw new FormatError(`table ${table} has ${closing!.rows} rows, the file says ${stated.rows}`);
    if (stated.crc32 !== closing!.crc32) throw new FormatError(`the data of table ${table} was changed (its CRC-32 differs from the one the file states)`);
    counts.push({ name: table, rows: stated.rows });
    closing = undefined;
  };

  const emit = async (data: Buffer) => {
    crc = crc32(data, crc);
    await inHandler(() => handlers.onData?.(data));
  };

  /** Consumes data-mode bytes from buf[offset..]; returns where text mode resumes, or -1 if the chunk is used up. */
  const consumeData = async (buf: Buffer, offset: number): Promise<number> => {
    const expectedTabs = block!.columns.length - 1;
    let i = offset;
    let sliceStart = offset;
    while (i < buf.length) {
      if (rowStart) {
        if (buf.length - i < 3 && buf[i] === BACKSLASH) {
          // Possibly the end marker, split across chunks: hand what we have and carry the rest.
          if (i > sliceStart) await emit(buf.subarray(sliceStart, i));
          carry = Buffer.from(buf.subarray(i));
          return -1;
        }
        if (buf[i] === BACKSLASH && buf[i + 1] === DOT) {
          if (buf[i + 2] !== NEWLINE) throw new FormatError(`malformed end of data (${where()})`);
          if (i > sliceStart) await emit(buf.subarray(sliceStart, i));
          await endBlock();
          return i + 3;
        }
      }
      // Scan one row (or the rest of the chunk) with indexOf, which is native: a byte-by-byte loop here was most of
      // the CPU a restore used, and that CPU is the server's (restore is server-bound on a small machine).
      rowStart = false;
      const newline = buf.indexOf(NEWLINE, i);
      const end = newline < 0 ? buf.length : newline;
      for (let tab = buf.indexOf(TAB, i); tab !== -1 && tab < end; tab = buf.indexOf(TAB, tab + 1)) tabs++;
      if (newline < 0) {
        i = buf.length;
        break;
      }
      if (tabs !== expectedTabs) throw new FormatError(`${where()}: expected ${expectedTabs + 1} columns, found ${tabs + 1}`);
      rows++;
      tabs = 0;
      rowStart = true;
      i = newline + 1;
    }
    if (i > sliceStart) await emit(buf.subarray(sliceStart, i));
    return -1;
  };

  /** Consumes text-mode bytes; returns where data mode starts, or -1 if the chunk is used up. */
  const consumeText = async (buf: Buffer, offset: number): Promise<number> => {
    let i = offset;
    while (i < buf.length) {
      const newline = buf.indexOf(NEWLINE, i);
      if (newline < 0) {
        if (buf.length - i > MAX_TEXT_LINE) throw new FormatError(`a line of SQL text is longer than ${MAX_TEXT_LINE} bytes (${where()})`);
        carry = Buffer.from(buf.subarray(i));
        return -1;
      }
      const line = buf.toString("utf8", i, newline);
      i = newline + 1;
      if (closing) {
        closeBlock(line);
        continue;
      }
      if (line.startsWith("COPY ")) {
        await startBlock(line);
        return i;
      }
      textBuffer += `${line}\n`;
      if (textBuffer.length > 4 * MAX_TEXT_LINE) throw new FormatError(`too much SQL text between data blocks (${where()})`);
    }
    return -1;
  };

  const source: Readable = Readable.from(rest, { objectMode: false, highWaterMark: 1024 * 1024 });
  const inflate = createDecompressor(compression);
  const stream: AsyncIterable<Buffer> = inflate ? (source.pipe(inflate) as unknown as AsyncIterable<Buffer>) : source;
  source.on("error", (error) => inflate?.destroy(error));
  const relieveMemory = memoryGuard();
  try {
    for await (const chunk of stream) {
      options.signal?.throwIfAborted();
      relieveMemory(chunk.length);
      dataBytes += chunk.length;
      if (dataBytes > maxBytes) throw new FormatError(`the file inflates beyond ${limit}`);
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      carry = undefined;
      let offset = 0;
      while (offset >= 0 && offset < buf.length) {
        offset = block ? await consumeData(buf, offset) : await consumeText(buf, offset);
      }
      handlers.onProgress?.(dataBytes, block?.table.name);
    }
  } catch (error) {
    inflate?.destroy();
    source.destroy();
    await plain.return(undefined);
    if (error instanceof FormatError || error instanceof HandlerFailure || isNetravenError(error)) throw error;
    if (isDecompressionError(error)) throw new FormatError(`the compressed data is damaged (${(error as Error).message})`);
    throw error;
  }

  if (block) throw new FormatError(`the file ends inside the data of table ${block.table.name} (truncated)`);
  if (carry) {
    if (closing) closeBlock(carry.toString("utf8"));
    else textBuffer += carry.toString("utf8");
  }
  if (closing) throw new FormatError(`the file ends before the line that closes table ${closing.name} (truncated)`);
  if (blockIndex !== expectedOrder.length) throw new FormatError(`the file ends after ${blockIndex} of ${expectedOrder.length} tables (truncated)`);
  // The trailer is the very last line: anything after it was appended, nothing at all means the file was cut.
  const trailerAt = textBuffer.lastIndexOf(`\n${TRAILER_START}`) + 1;
  const trailer = trailerAt > 0 && textBuffer.endsWith("\n") ? parseTrailer(textBuffer.slice(trailerAt, -1)) : undefined;
  if (!trailer) throw new FormatError("the file does not end with the netraven-db trailer (truncated or appended to)");
  if (exact && textBuffer.slice(0, trailerAt) !== exact.epilogue) throw new FormatError("the SQL after the data is not what netraven-db writes");
  const rowsTotal = counts.reduce((n, t) => n + t.rows, 0);
  if (trailer.tables !== counts.length || trailer.rows !== rowsTotal) throw new FormatError(`the trailer says ${trailer.tables} tables and ${trailer.rows} rows, the file holds ${counts.length} and ${rowsTotal}`);
  const beforeTrailer = dataBytes - Buffer.byteLength(textBuffer.slice(trailerAt));
  if (trailer.dataBytes !== beforeTrailer) throw new FormatError(`the file holds ${beforeTrailer} bytes of SQL before its trailer, the trailer says ${trailer.dataBytes}`);
  if (options.expectedBytes !== undefined && dataBytes !== options.expectedBytes) throw new FormatError(`the file holds ${dataBytes} bytes of SQL, its manifest says ${options.expectedBytes}`);
  return { header, compression, tables: counts, dataBytes, finishedAt: trailer.finishedAt };
}
