// Streams a plain pg_dump script (gzip, zstd or uncompressed) through the store and checks all of it: pg_dump's
// opening lines, every statement through the strict recogniser (statement.ts) and the rules that tie them together
// (model.ts), every COPY block (column count of every row, rows counted), and pg_dump's closing line, so a truncated
// file is refused. The import reads the file twice: once to check it before anything is touched, once with handlers
// that feed each COPY block to the server. Memory stays bounded: data passes through in the decompressor's chunks,
// only one statement's text is held at a time.
import { Transform, type Readable } from "node:stream";
import { CopyRows, HandlerFailure, inHandler, NEWLINE, scanChunks, type ChunkScan } from "../backup/chunk-scan.ts";
import { createDecompressor, isDecompressionError, type Compression } from "../backup/compression.ts";
import { memoryGuard } from "../backup/memory.ts";
import type { BlockStart, ReadHandlers } from "../backup/read.ts";
import { Sha256Counter, type Digest } from "../checksum.ts";
import { Errors, isNetravenError } from "../errors.ts";
import { fileError } from "../files.ts";
import type { OnProgress } from "../progress.ts";
import { versionTable } from "../schema/index.ts";
import type { BackupStore } from "../storage/store.ts";
import { compressionOf, fileStart, PG_DUMP_START } from "./detect.ts";
import { DumpModelBuilder, type DumpModel } from "./model.ts";
import { recogniseStatement, StatementRefused } from "./statement.ts";

export interface PgDumpSummary {
  model: DumpModel;
  compression: Compression;
  /** SHA-256 and size of the stored bytes: the second read must see the same file as the first. */
  digest: Digest;
  /** From pg_dump's comment lines, e.g. "15.18 (Debian 15.18-0+deb12u1)", when present. */
  pgDumpVersion?: string;
  serverVersion?: string;
}

export interface PgDumpReadOptions {
  handlers?: Pick<ReadHandlers, "onBlockStart" | "onData" | "onBlockEnd">;
  onProgress?: OnProgress;
  /** What the progress line says: "Checking", "Loading". */
  step?: string;
  signal?: AbortSignal;
}

/** A structural problem (not one statement): the start, the end, a COPY block. */
class DumpFormatError extends Error {}

const MAX_LINE = 1 << 20;
const MAX_STATEMENT = 4 << 20;
const COMPLETE = "-- PostgreSQL database dump complete";

/** Reads and checks the whole dump; with handlers, each COPY block's data goes to them as it streams. */
export async function readPgDump(store: BackupStore, name: string, options: PgDumpReadOptions = {}): Promise<PgDumpSummary> {
  try {
    return await parsePgDump(store, name, options);
  } catch (error) {
    if (error instanceof HandlerFailure) throw error.cause;
    if (error instanceof DumpFormatError) throw Errors.badBackup(name, `${error.message}; not imported`);
    if (isNetravenError(error)) throw error;
    throw fileError(error, "cannot read", store.describe(name));
  }
}

async function parsePgDump(store: BackupStore, name: string, options: PgDumpReadOptions): Promise<PgDumpSummary> {
  const total = (await store.stat(name))?.size;
  const handlers = options.handlers ?? {};
  const builder = new DumpModelBuilder();
  const counter = new Sha256Counter();
  let compression: Compression;
  let lineNo = 0;
  let statement = "";
  let statementLine = 0;
  let quote: string | undefined;
  let opening = 0; // how many of pg_dump's three opening lines were seen
  let restrictKey: string | undefined;
  let complete = false;
  let unrestricted = false;
  let pgDumpVersion: string | undefined;
  let serverVersion: string | undefined;
  let block: (BlockStart & { sample: string[] | undefined }) | undefined;
  let copy: CopyRows | undefined;
  const scan: ChunkScan = {};

  const refused = (reason: string, line = statementLine || lineNo) => Errors.badBackup(name, `not imported: line ${line}: ${reason}`);
  const step = (call: () => void, line?: number) => {
    try {
      call();
    } catch (error) {
      if (error instanceof StatementRefused) throw refused(error.message, line);
      throw error;
    }
  };

  const onStatement = async (text: string) => {
    let recognised!: ReturnType<typeof recogniseStatement>;
    step(() => (recognised = recogniseStatement(text)));
    if (recognised.kind !== "copy") {
      step(() => builder.add(recognised, statementLine));
      return;
    }
    let start!: { table: BlockStart["table"]; columns: string[] };
    step(() => (start = builder.startCopy(recognised as Extract<typeof recognised, { kind: "copy" }>, statementLine)));
    const opened = (block = { ...start, sample: start.table.name === versionTable.name ? ([] as string[]) : undefined });
    const table = opened.table.name;
    copy = new CopyRows(opened.columns.length, {
      emit,
      end: async () => {
        lineNo++;
        await endBlock();
      },
      malformedEnd: () => new DumpFormatError(`line ${lineNo + 1}: malformed end of the data of table ${table}`),
      wrongColumns: (found, row) => new DumpFormatError(`line ${lineNo}: table ${table}, row ${row}: expected ${opened.columns.length} columns, found ${found}`),
      row: (text) => {
        lineNo++;
        opened.sample?.push(text);
      },
      keepText: opened.sample ? { max: MAX_LINE, rowTooLong: () => new DumpFormatError(`line ${lineNo + 1}: a row of table ${table} is too long`) } : undefined,
    });
    await inHandler(() => handlers.onBlockStart?.(block!));
  };

  const onTextLine = async (line: string) => {
    lineNo++;
    if (opening < 3) {
      if (line !== PG_DUMP_START.split("\n")[opening]) throw new DumpFormatError("not a pg_dump script (it does not start with pg_dump's \"-- PostgreSQL database dump\" lines)");
      opening++;
      return;
    }
    if (statement !== "") {
      statement += `\n${line}`;
      if (statement.length > MAX_STATEMENT) throw refused(`a statement longer than ${MAX_STATEMENT >> 20} MiB`);
    } else {
      if (line === "") return;
      if (line.startsWith("--")) {
        if (line === COMPLETE) complete = true;
        pgDumpVersion ??= line.match(/^-- Dumped by pg_dump version (.+)$/)?.[1];
        serverVersion ??= line.match(/^-- Dumped from database version (.+)$/)?.[1];
        return;
      }
      if (line.startsWith("\\")) {
        const meta = line.match(/^\\(restrict|unrestrict) ([A-Za-z0-9]+)$/);
        if (meta?.[1] === "restrict" && restrictKey === undefined && statementLine === 0) restrictKey = meta[2];
        else if (meta?.[1] === "unrestrict" && complete && !unrestricted && meta[2] === restrictKey) unrestricted = true;
        else throw refused(`a psql command pg_dump does not write there: ${line.slice(0, 80)}`, lineNo);
        return;
      }
      if (complete) throw refused("SQL after pg_dump's \"dump complete\" line (something was appended to the dump)", lineNo);
      statement = line;
      statementLine = lineNo;
    }
    // The statement ends at a `;` that closes a line outside quotes.
    for (const c of line) {
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
    }
    if (quote === undefined && line.trimEnd().endsWith(";")) {
      const text = statement;
      statement = "";
      await onStatement(text);
    }
  };

  const emit = async (data: Buffer) => {
    await inHandler(() => handlers.onData?.(data));
  };

  const endBlock = async () => {
    const rows = copy!.rows;
    step(() => builder.endCopy(rows, block!.sample ?? []));
    await inHandler(() => handlers.onBlockEnd?.(block!, rows));
    block = undefined;
  };

  /** Consumes text lines; returns where COPY data starts, or -1 when the chunk is used up. */
  const consumeText = async (buf: Buffer, offset: number): Promise<number> => {
    let i = offset;
    while (i < buf.length) {
      const newline = buf.indexOf(NEWLINE, i);
      if (newline < 0) {
        if (buf.length - i > MAX_LINE) throw refused(`a line longer than ${MAX_LINE >> 20} MiB`, lineNo + 1);
        scan.carry = Buffer.from(buf.subarray(i));
        return -1;
      }
      await onTextLine(buf.toString("utf8", i, newline));
      i = newline + 1;
      if (block) return i;
    }
    return -1;
  };

  const raw = await fileStart(store, name);
  if (raw.length === 0) throw new DumpFormatError("the file is empty: no dump in it");
  compression = compressionOf(raw);
  const source: Readable = store.read(name);
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      counter.update(chunk);
      options.onProgress?.({ step: options.step ?? "Checking", item: block?.table.name, done: counter.size, total });
      done(null, chunk);
    },
  });
  const inflate = createDecompressor(compression);
  source.on("error", (error) => tap.destroy(error));
  tap.on("error", (error) => inflate?.destroy(error));
  const stream: AsyncIterable<Buffer> = (inflate ? source.pipe(tap).pipe(inflate) : source.pipe(tap)) as unknown as AsyncIterable<Buffer>;
  const relieveMemory = memoryGuard();
  try {
    const scanStep = (buf: Buffer, offset: number) => (block ? copy!.consume(buf, offset, scan) : consumeText(buf, offset));
    await scanChunks(stream, scan, scanStep, {
      before(chunk) {
        options.signal?.throwIfAborted();
        relieveMemory(chunk.length);
      },
    });
  } catch (error) {
    inflate?.destroy();
    tap.destroy();
    source.destroy();
    if (error instanceof DumpFormatError || error instanceof HandlerFailure || isNetravenError(error)) throw error;
    if (isDecompressionError(error)) throw new DumpFormatError(`the compressed data is damaged or cut short (${(error as Error).message})`);
    throw error;
  }

  if (scan.carry) {
    if (block) throw new DumpFormatError(`the file ends inside the data of table ${block.table.name} (truncated)`);
    await onTextLine(scan.carry.toString("utf8"));
  }
  if (block) throw new DumpFormatError(`the file ends inside the data of table ${block.table.name} (truncated)`);
  if (opening < 3) throw new DumpFormatError(lineNo === 0 ? "the file is empty: no dump in it" : "not a pg_dump script (it does not start with pg_dump's \"-- PostgreSQL database dump\" lines)");
  if (statement !== "") throw new DumpFormatError(`the file ends inside the statement that starts at line ${statementLine} (truncated)`);
  if (!complete) throw new DumpFormatError(`the file ends without pg_dump's "${COMPLETE}" line (truncated)`);
  if (restrictKey !== undefined && !unrestricted) throw new DumpFormatError("the file ends without the \\unrestrict line that closes its \\restrict (truncated)");
  let model!: DumpModel;
  step(() => (model = builder.finish()), lineNo);
  return { model, compression, digest: counter.digest(), pgDumpVersion, serverVersion };
}
