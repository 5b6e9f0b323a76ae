// The compressors a backup writes its script through (src/backup/compression.ts). In the binary, gzip and zstd
// compress in pieces (gzip members of 512 KiB, zstd frames of 2 MiB of input; bun test runs them as the binary does): whatever the sizes of the writes,
// the output must read back byte for byte through our reader and through the system gunzip and zstd, the pieces
// must be where the comments say, and the level must reach the compressor.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import type { Transform } from "node:stream";
import { createCompressor, createDecompressor, type Compression } from "../../src/backup/compression.ts";
import { ZstdFrameScanner } from "../../src/backup/zstd-frames.ts";
import { commandWorks, optionalTool, useTool } from "../harness/tools.ts";

/** Deterministic text that compresses, but not to nothing (rows of a backup, roughly). */
function text(bytes: number, seed: number): Buffer {
  let x = seed;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const line = `${x % 100000}\tdevice-${x % 977}\t10.${x % 256}.${(x >>> 8) % 256}.1\t${"interface Gi0/1\\n".repeat(x % 5)}\n`;
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, bytes);
}

/** Runs `data` through `stream` in writes of the given sizes (cycled); resolves with everything it gave out. */
function through(stream: Transform, data: Buffer, sizes: number[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    stream.on("data", (chunk: Uint8Array) => out.push(Buffer.from(chunk)));
    stream.once("end", () => resolve(Buffer.concat(out)));
    stream.once("error", reject);
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, data.length - at);
      // A copy per write: callers hand over buffers they reuse once the write is acknowledged.
      stream.write(Buffer.from(data.subarray(at, at + n)));
      at += n;
    }
    stream.end();
  });
}

const DATA = text(5 * 1024 * 1024 + 12345, 7);
const WRITES = [1, 70_001, 256 * 1024, 3, 1024 * 1024 + 17, 512 * 1024];
const gunzip = optionalTool("gunzip", commandWorks(["gunzip", "--version"]), "apt-get install -y gzip");
const zstd = optionalTool("zstd", commandWorks(["zstd", "--version"]), "apt-get install -y zstd");
const systemTool = { gzip: { tool: gunzip, argv: ["gunzip", "-c"] }, zstd: { tool: zstd, argv: ["zstd", "-dc"] } };

describe("backup compressors", () => {
  for (const compression of ["gzip", "zstd"] as const satisfies Compression[]) {
    test(`${compression}: writes of any size read back exactly, through our reader`, async () => {
      const packed = await through(createCompressor(compression)!, DATA, WRITES);
      expect(packed.length).toBeLessThan(DATA.length / 3);
      expect((await through(createDecompressor(compression)!, packed, [65536])).equals(DATA)).toBe(true);
    });

    const { tool, argv } = systemTool[compression];
    test(`${compression}: the system ${argv[0]} reads the output as one stream${tool.note}`, async () => {
      if (!useTool(tool)) return;
      const packed = await through(createCompressor(compression)!, DATA, WRITES);
      const run = spawnSync(argv[0]!, argv.slice(1), { input: packed, maxBuffer: 64 << 20 });
      expect(run.status).toBe(0);
      expect(Buffer.from(run.stdout).equals(DATA)).toBe(true);
    });
  }

  test("zstd: one frame per 2 MiB of input", async () => {
    const packed = await through(createCompressor("zstd")!, DATA, WRITES);
    expect(new ZstdFrameScanner().feed(packed).length).toBe(Math.ceil(DATA.length / (2 * 1024 * 1024)));
  });

  test("gzip: one member per 512 KiB of input", async () => {
    const packed = await through(createCompressor("gzip")!, DATA, WRITES);
    // A member ends with the size of its input (ISIZE): 512 KiB before every further member's start, the rest last.
    const magic = Buffer.from([0x1f, 0x8b, 8]);
    let members = 1;
    for (let i = packed.indexOf(magic, 1); i !== -1; i = packed.indexOf(magic, i + 1)) if (packed.readUInt32LE(i - 4) === 512 * 1024) members++;
    expect(members).toBe(Math.ceil(DATA.length / (512 * 1024)));
    expect(packed.readUInt32LE(packed.length - 4)).toBe(DATA.length % (512 * 1024));
  });

  test("the level reaches the compressor", async () => {
    for (const compression of ["gzip", "zstd"] as const) {
      const fast = await through(createCompressor(compression, 1)!, DATA, WRITES);
      const small = await through(createCompressor(compression, compression === "gzip" ? 9 : 19)!, DATA, WRITES);
      expect(small.length).toBeLessThan(fast.length);
    }
  });

  test("no input gives output that reads back as nothing", async () => {
    for (const compression of ["gzip", "zstd"] as const) {
      const packed = await through(createCompressor(compression)!, Buffer.alloc(0), [1]);
      expect((await through(createDecompressor(compression)!, packed, [1])).length).toBe(0);
    }
  });
});
