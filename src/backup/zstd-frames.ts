// Deno's zstd (node:zlib, sync and stream alike) stops after the first frame and says nothing: the rest of the input
// is dropped. A zstd backup is a run of frames (the header unit, then the body; with --jobs one frame per table
// section), so under Deno the file is cut into its frames here and each frame gets a decompressor of its own. The
// frame ends are found from the frame and block headers alone (RFC 8878, section 3.1), without decompressing.
import { Transform, type TransformCallback } from "node:stream";
import { finished } from "node:stream/promises";
import { createZstdDecompress } from "node:zlib";

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames: 0x184D2A50 to 0x184D2A5F, then a 4-byte size. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

type Field = "magic" | "skippable-size" | "descriptor" | "block-header" | "checksum";

/** Reads frame boundaries from a stream of bytes fed in any pieces. */
export class ZstdFrameScanner {
  /** A header field being collected (a few bytes that may straddle pieces), or bytes to pass over. */
  private field: Field | undefined = "magic";
  private collected: number[] = [];
  private skip = 0;
  private afterSkip: Field | "end" = "magic";
  private checksum = false;

  /** Whether the bytes fed so far end exactly at a frame's end (or nothing was fed). */
  get atBoundary(): boolean {
    return this.field === "magic" && this.collected.length === 0 && this.skip === 0;
  }

  /** Feeds `bytes`; returns the offsets within them at which a frame ends. Throws on bytes that are no zstd frame. */
  feed(bytes: Uint8Array): number[] {
    const ends: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.next(this.afterSkip, ends, i);
        continue;
      }
      this.collected.push(bytes[i++]!);
      if (this.collected.length < this.sizeOf(this.field!)) continue;
      const field = this.field!;
      const got = this.collected;
      this.collected = [];
      this.parse(field, got, ends, i);
    }
    return ends;
  }

  private sizeOf(field: Field): number {
    return field === "descriptor" ? 1 : field === "block-header" ? 3 : 4;
  }

  private next(what: Field | "end", ends: number[], at: number): void {
    if (what === "end") {
      ends.push(at);
      this.field = "magic";
    } else this.field = what;
  }

  private pass(bytes: number, then: Field | "end", ends: number[], at: number): void {
    if (bytes === 0) return this.next(then, ends, at);
    this.skip = bytes;
    this.afterSkip = then;
    this.field = undefined;
  }

  private parse(field: Field, b: number[], ends: number[], at: number): void {
    const u32 = () => (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    switch (field) {
      case "magic": {
        const magic = u32();
        if (magic === FRAME_MAGIC) return this.next("descriptor", ends, at);
        if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) return this.next("skippable-size", ends, at);
        throw Object.assign(new Error("zstd: not a zstd frame (bad magic number)"), { code: "ERR_ZSTD_FRAME" });
      }
      case "skippable-size":
        return this.pass(u32(), "end", ends, at);
      case "descriptor": {
        const d = b[0]!;
        const singleSegment = (d & 0x20) !== 0;
        this.checksum = (d & 0x04) !== 0;
        const fcsFlag = d >> 6;
        const rest = (singleSegment ? 0 : 1) + [0, 1, 2, 4][d & 0x03]! + (fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!);
        return this.pass(rest, "block-header", ends, at);
      }
      case "block-header": {
        const h = b[0]! | (b[1]! << 8) | (b[2]! << 16);
        const last = (h & 1) === 1;
        const type = (h >> 1) & 3;
        if (type === 3) throw Object.assign(new Error("zstd: reserved block type (corrupt data)"), { code: "ERR_ZSTD_FRAME" });
        const content = type === 1 ? 1 : h >>> 3;
        return this.pass(content, last ? (this.checksum ? "checksum" : "end") : "block-header", ends, at);
      }
      case "checksum":
        return this.next("end", ends, at);
    }
  }
}


/** A zstd decompressor that reads every frame of its input, one decompressor per frame. */
export function createMultiFrameZstdDecompress(options: { chunkSize?: number } = {}): Transform {
  const scanner = new ZstdFrameScanner();
  let inner: Transform | undefined;
  const splitter: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const write = async (piece: Buffer) => {
        if (piece.length === 0) return;
        const target = (inner ??= open());
        await new Promise<void>((resolve, reject) => target.write(piece, (error) => (error ? reject(error) : resolve())));
      };
      const close = async () => {
        if (!inner) return;
        const done = inner;
        inner = undefined;
        done.end();
        await finished(done);
      };
      (async () => {
        let start = 0;
        for (const end of scanner.feed(chunk)) {
          await write(chunk.subarray(start, end));
          await close();
          start = end;
        }
        await write(chunk.subarray(start));
      })().then(() => callback(), (error) => callback(error as Error));
    },
    flush(callback: TransformCallback) {
      if (!scanner.atBoundary) return callback(Object.assign(new Error("zstd: unexpected end of data inside a frame (truncated)"), { code: "ERR_ZSTD_FRAME" }));
      if (!inner) return callback();
      const done = inner;
      inner = undefined;
      done.end();
      finished(done).then(() => callback(), (error) => callback(error as Error));
    },
  });
  const open = (): Transform => {
    const d = createZstdDecompress(options);
    d.on("data", (data: Buffer) => splitter.push(data));
    d.on("error", (error) => splitter.destroy(error));
    return d;
  };
  return splitter;
}
