// What the two streaming readers (a netraven-db backup, an old pg_dump script) share: a decompressed stream read a
// chunk at a time by a scanner that switches between SQL text and COPY data, with a line cut by a chunk boundary
// carried into the next chunk; and a handler's own failure (the server refusing a row) passed through the reader
// untouched, so it is never mistaken for a damaged file.

export const NEWLINE = 10;
export const TAB = 9;
export const BACKSLASH = 92;
export const DOT = 46;

/** A handler's own failure (a server error while loading a block): passed to the caller untouched. */
export class HandlerFailure {
  constructor(readonly cause: unknown) {}
}

export async function inHandler<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new HandlerFailure(error);
  }
}

export interface ChunkScan {
  /** What a scanner left unconsumed at the end of a chunk (a cut line): the next chunk is read after it. */
  carry?: Buffer;
}

/**
 * Feeds every chunk of `stream` (after what the previous one left in `state.carry`) to `step`, which scans from
 * `offset` and returns where the next mode starts, or -1 when it used the chunk up.
 */
export async function scanChunks(
  stream: AsyncIterable<Buffer>,
  state: ChunkScan,
  step: (buf: Buffer, offset: number) => Promise<number>,
  around: { before(chunk: Buffer): void; after?(): void },
): Promise<void> {
  for await (const chunk of stream) {
    around.before(chunk);
    const buf = state.carry ? Buffer.concat([state.carry, chunk]) : chunk;
    state.carry = undefined;
    for (let offset = 0; offset >= 0 && offset < buf.length; ) offset = await step(buf, offset);
    around.after?.();
  }
}

export interface CopyRowsHooks {
  /** Raw COPY text (possibly partial rows), in order. */
  emit(data: Buffer): Promise<void>;
  /** After the block's `\.` line. */
  end(): Promise<void>;
  /** A `\` at a row start that is not the `\.` line. */
  malformedEnd(): Error;
  /** Row `row` (1-based) holds `found` columns. */
  wrongColumns(found: number, row: number): Error;
  /** Called for every whole row before its columns are checked, with the row's text when `keepText` is set. */
  row?(text: string): void;
  /** Keep each row's text (a few small tables only): up to this many characters, else `rowTooLong`. */
  keepText?: { max: number; rowTooLong(): Error };
}

/**
 * The COPY data of one block, read across chunks: every row's column count checked, rows counted, the data passed
 * on in slices as large as the chunk allows. Scanning uses indexOf, which is native: a byte-by-byte loop here was
 * most of the CPU a restore used, and that CPU is the server's (restore is server-bound on a small machine).
 */
export class CopyRows {
  rows = 0;
  private tabs = 0;
  private rowStart = true;
  private text = "";

  constructor(
    private readonly columns: number,
    private readonly hooks: CopyRowsHooks,
  ) {}

  /** Consumes data from buf[offset..]; returns where text resumes after `\.`, or -1 when the chunk is used up. */
  async consume(buf: Buffer, offset: number, scan: ChunkScan): Promise<number> {
    const expectedTabs = this.columns - 1;
    const keep = this.hooks.keepText;
    let i = offset;
    while (i < buf.length) {
      if (this.rowStart) {
        if (buf.length - i < 3 && buf[i] === BACKSLASH) {
          // Possibly the end marker, split across chunks: hand over what we have and carry the rest.
          if (i > offset) await this.hooks.emit(buf.subarray(offset, i));
          scan.carry = Buffer.from(buf.subarray(i));
          return -1;
        }
        if (buf[i] === BACKSLASH && buf[i + 1] === DOT) {
          if (buf[i + 2] !== NEWLINE) throw this.hooks.malformedEnd();
          if (i > offset) await this.hooks.emit(buf.subarray(offset, i));
          await this.hooks.end();
          return i + 3;
        }
      }
      this.rowStart = false;
      const newline = buf.indexOf(NEWLINE, i);
      const end = newline < 0 ? buf.length : newline;
      for (let tab = buf.indexOf(TAB, i); tab !== -1 && tab < end; tab = buf.indexOf(TAB, tab + 1)) this.tabs++;
      if (keep) {
        this.text += buf.toString("utf8", i, end);
        if (this.text.length > keep.max) throw keep.rowTooLong();
      }
      if (newline < 0) {
        i = buf.length;
        break;
      }
      this.hooks.row?.(this.text);
      if (this.tabs !== expectedTabs) throw this.hooks.wrongColumns(this.tabs + 1, this.rows + 1);
      this.rows++;
      this.text = "";
      this.tabs = 0;
      this.rowStart = true;
      i = newline + 1;
    }
    if (i > offset) await this.hooks.emit(buf.subarray(offset, i));
    return -1;
  }
}
