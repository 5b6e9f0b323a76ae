// The zstd frame splitter Deno reads backups through (src/backup/zstd-frames.ts): frame ends found from the headers
// alone, in any piece sizes, for every frame shape a backup or the zstd tool writes; the decompressor built on it
// returns every frame's data and refuses damaged or truncated input. tests/deno/roundtrip.deno.ts runs it under Deno.
import { describe, expect, test } from "bun:test";
import { constants, zstdCompressSync } from "node:zlib";
import { encodeHeaderUnit, renderHeader } from "../../src/backup/format.ts";
import { createMultiFrameZstdDecompress, ZstdFrameScanner } from "../../src/backup/zstd-frames.ts";

/** Deterministic text that compresses, but not to nothing. */
function text(bytes: number, seed: number): Buffer {
  let x = seed;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const line = `row ${x % 100000}\tdevice-${x % 977}\t${"abcdefgh".repeat(x % 7)}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, bytes);
}

function skippable(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a53, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

const header = renderHeader({
  format_version: 3,
  tool_version: "0.0.0",
  schema_version: 1,
  server_version: "15",
  database: "d",
  schema: "netraven",
  compression: "zstd",
  started_at: "2026-12-01T00:00:00.000Z",
  tables: ["users"],
});

/** Frames of every shape: our raw header frame, with and without checksum, single segment, multi-block, empty. */
const contents = [header, text(300_000, 1), text(50, 2), Buffer.alloc(0), text(700_000, 3), text(9_000, 4)];
const frames = [
  encodeHeaderUnit(header, "zstd"),
  zstdCompressSync(contents[1]!, { params: { [constants.ZSTD_c_checksumFlag]: 1 } }),
  zstdCompressSync(contents[2]!),
  zstdCompressSync(contents[3]!),
  zstdCompressSync(contents[4]!, { params: { [constants.ZSTD_c_compressionLevel]: 1, [constants.ZSTD_c_contentSizeFlag]: 0 } }),
  zstdCompressSync(contents[5]!, { params: { [constants.ZSTD_c_checksumFlag]: 1, [constants.ZSTD_c_compressionLevel]: 19 } }),
];
const file = Buffer.concat(frames);
const expectedEnds = frames.reduce<number[]>((ends, f) => [...ends, (ends.at(-1) ?? 0) + f.length], []);

function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

async function decompress(input: Buffer[]): Promise<Buffer> {
  const d = createMultiFrameZstdDecompress();
  const out: Buffer[] = [];
  d.on("data", (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    d.on("end", resolve);
    d.on("error", reject);
  });
  for (const p of input) d.write(p);
  d.end();
  await done;
  return Buffer.concat(out);
}

describe("zstd frames", () => {
  test("the scanner finds every frame end, whatever the piece sizes", () => {
    for (const size of [1, 2, 3, 7, 64, 4096, 65536, file.length]) {
      const scanner = new ZstdFrameScanner();
      const ends: number[] = [];
      let offset = 0;
      for (const p of pieces(file, size)) {
        for (const end of scanner.feed(p)) ends.push(offset + end);
        offset += p.length;
      }
      expect(ends).toEqual(expectedEnds);
      expect(scanner.atBoundary).toBe(true);
    }
  });

  test("a skippable frame is a frame of its own; garbage and reserved block types are refused", () => {
    const scanner = new ZstdFrameScanner();
    const skip = skippable(Buffer.from("not data"));
    expect(scanner.feed(Buffer.concat([skip, frames[2]!]))).toEqual([skip.length, skip.length + frames[2]!.length]);
    expect(() => new ZstdFrameScanner().feed(Buffer.from("not zstd at all"))).toThrow("bad magic number");
    const reserved = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05, 0x07, 0x00, 0x00]); // block type 3
    expect(() => new ZstdFrameScanner().feed(reserved)).toThrow("reserved block type");
  });

  test("the decompressor returns the data of every frame (the runtime's own stops after the first under Deno)", async () => {
    const expected = Buffer.concat(contents);
    for (const size of [1000, 65536, file.length]) expect((await decompress(pieces(file, size))).equals(expected)).toBe(true);
  });

  test("input that ends inside a frame is refused as truncated", async () => {
    for (const cut of [expectedEnds[1]! - 1, expectedEnds[2]! + 3, file.length - 1]) {
      await expect(decompress(pieces(file.subarray(0, cut), 4096))).rejects.toThrow(/unexpected end|truncated/);
    }
  });
});
