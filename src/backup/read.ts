// Streams a backup and checks everything about it: header, SQL text, every COPY block, row counts, size and the
// trailer. verify runs it alone; restore runs it with handlers that feed each COPY block to the server. Memory
// stays bounded: data passes through in the decompressor's chunks, and only SQL text between blocks is buffered.
// A damaged file is a BACKUP_INVALID error naming the file and the place; a file that cannot be read, a file error.
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import type { AgeIdentities } from "../age/identities.ts";
import { isNetravenError } from "../errors.ts";
import { allTables, type TableDef } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import type { BackupStore } from "../storage/store.ts";
import { createDecompressor, isDecompressionError, type Compression } from "./compression.ts";
import { FormatError, HEADER_BYTES, renderScriptParts, type BackupHeader } from "./format.ts";
import { CopyRows, HandlerFailure, inHandler, NEWLINE, scanChunks, type ChunkScan } from "./chunk-scan.ts";
import { memoryGuard } from "./memory.ts";
import { plaintext, readError, takeHeader } from "./plaintext.ts";
import { crc32Hex, parseTableEnd, parseTrailer, TRAILER_START } from "./sections.ts";
import { READ_CHUNK_BYTES } from "../streams.ts";

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
  let copy: CopyRows | undefined;
  let crc = 0;
  const scan: ChunkScan = {};
  /** A block whose `\.` has passed: the next line must close it with its row count and CRC-32. */
  let closing: { name: string; rows: number; crc32: string } | undefined;
  const where = () => (block ? `table ${block.table.name}, row ${(copy?.rows ?? 0) + 1}` : `after table ${counts.at(-1)?.name ?? "(none)"}`);

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
    copy = new CopyRows(columns.length, {
      emit,
      end: endBlock,
      malformedEnd: () => new FormatError(`malformed end of data (${where()})`),
      wrongColumns: (found) => new FormatError(`${where()}: expected ${columns.length} columns, found ${found}`),
    });
    await inHandler(() => handlers.onBlockStart?.(block!));
  };

  const endBlock = async () => {
    const rows = copy!.rows;
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

  /** Consumes text-mode bytes; returns where data mode starts, or -1 if the chunk is used up. */
  const consumeText = async (buf: Buffer, offset: number): Promise<number> => {
    let i = offset;
    while (i < buf.length) {
      const newline = buf.indexOf(NEWLINE, i);
      if (newline < 0) {
        if (buf.length - i > MAX_TEXT_LINE) throw new FormatError(`a line of SQL text is longer than ${MAX_TEXT_LINE} bytes (${where()})`);
        scan.carry = Buffer.from(buf.subarray(i));
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

  const source: Readable = Readable.from(rest, { objectMode: false, highWaterMark: READ_CHUNK_BYTES });
  const inflate = createDecompressor(compression);
  const stream: AsyncIterable<Buffer> = inflate ? (source.pipe(inflate) as unknown as AsyncIterable<Buffer>) : source;
  source.on("error", (error) => inflate?.destroy(error));
  const relieveMemory = memoryGuard();
  try {
    const step = (buf: Buffer, offset: number) => (block ? copy!.consume(buf, offset, scan) : consumeText(buf, offset));
    await scanChunks(stream, scan, step, {
      before(chunk) {
        options.signal?.throwIfAborted();
        relieveMemory(chunk.length);
        dataBytes += chunk.length;
        if (dataBytes > maxBytes) throw new FormatError(`the file inflates beyond ${limit}`);
      },
      after: () => handlers.onProgress?.(dataBytes, block?.table.name),
    });
  } catch (error) {
    inflate?.destroy();
    source.destroy();
    await plain.return(undefined);
    if (error instanceof FormatError || error instanceof HandlerFailure || isNetravenError(error)) throw error;
    if (isDecompressionError(error)) throw new FormatError(`the compressed data is damaged (${(error as Error).message})`);
    throw error;
  }

  if (block) throw new FormatError(`the file ends inside the data of table ${block.table.name} (truncated)`);
  if (scan.carry) {
    if (closing) closeBlock(scan.carry.toString("utf8"));
    else textBuffer += scan.carry.toString("utf8");
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
