// The compressions a backup can use: their names, file extensions and levels, how each is recognised from its
// first bytes (never from the file name), and the node:zlib streams that make and read them. Every other module
// takes these facts from here.
import { createGunzip, createGzip, createZstdCompress, createZstdDecompress, constants } from "node:zlib";
import { Transform } from "node:stream";
import { DEFAULTS } from "../defaults.ts";
import { runtime } from "../runtime.ts";
import { READ_CHUNK_BYTES } from "../streams.ts";
import { createMultiFrameZstdDecompress } from "./zstd-frames.ts";

export const COMPRESSIONS = ["gzip", "zstd", "none"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const EXTENSION_OF: Record<Compression, string> = { gzip: ".sql.gz", zstd: ".sql.zst", none: ".sql" };

/** Highest level each compressor takes (as the gzip and zstd command-line tools). */
export const MAX_LEVEL: Record<Compression, number> = { gzip: 9, zstd: 19, none: 0 };

export function defaultLevel(compression: Compression): number | undefined {
  return compression === "none" ? undefined : DEFAULTS.level[compression];
}

/** Big output chunks: handing bytes around in small pieces is what makes streams slow in Bun. */
const CHUNK_BYTES = 256 * 1024;

type OneShot = (data: Uint8Array, options: Record<string, unknown>) => Uint8Array;
/** Bun's one-shot compressors (gzip through libdeflate, zstd); undefined under Deno. */
const bun = (globalThis as { Bun?: { gzipSync?: OneShot; zstdCompressSync?: OneShot } }).Bun;

/**
 * A compressor that cuts its input into pieces of `pieceBytes` and compresses each with `compress` on the calling
 * thread (the output thread): gzip members or zstd frames, which gunzip, zstd -d, our reader and Deno's take as one
 * stream (a --jobs backup has always been made of them).
 */
function createPiecewise(pieceBytes: number, compress: (data: Uint8Array) => Uint8Array): Transform {
  // Our own copy: the caller's buffer goes back to its pool (transferred away) once a write is acknowledged.
  const pending = Buffer.allocUnsafe(pieceBytes);
  let filled = 0;
  let pieces = 0;
  const cut = (stream: Transform) => {
    // No input still gives one (empty) member or frame, as a stream compressor does: readers expect at least one.
    if (filled === 0 && pieces > 0) return;
    stream.push(compress(pending.subarray(0, filled)));
    filled = 0;
    pieces++;
  };
  return new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      try {
        for (let at = 0; at < chunk.length; ) {
          const n = Math.min(chunk.length - at, pieceBytes - filled);
          pending.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === pieceBytes) cut(this);
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        cut(this);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * gzip: members of 512 KiB of input through libdeflate. Deflate's window is 32 KiB, so cutting costs next to
 * nothing, and at 5:1 a member stays under mimalloc's large-object size (see READ_CHUNK_BYTES). libdeflate at level
 * 6 compressed 210 MB of a backup's SQL in 2.15 s to 39.5 MB, zlib's stream in 2.43 s to 40.7 MB (bench/notes.md).
 */
const GZIP_MEMBER_BYTES = 512 * 1024;
/**
 * zstd: frames of 2 MiB of input. Level 3's window is 2 MiB, so smaller frames lose matches: on 500 MB of a
 * backup's SQL, one stream came to 85.3 MB, 1 MiB frames to 89.6 MB, 2 MiB frames to 87.6 MB (+2.7 %), 4 MiB frames
 * to 86.1 MB. 2 MiB was the fastest backup (3.4-3.6 s against 3.7-4.0 s with 4 MiB frames, whose compression
 * contexts are freed and faulted in again between frames).
 */
const ZSTD_FRAME_BYTES = 2 * 1024 * 1024;

/** Whether every chunk createCompressor gives out is a buffer of its own, which the caller may transfer away. */
export function compressorOwnsChunks(compression: Compression): boolean {
  return compression === "gzip" ? Boolean(bun?.gzipSync) : compression === "zstd" ? Boolean(bun?.zstdCompressSync) : false;
}

export function createCompressor(compression: Compression, level = defaultLevel(compression)): Transform | undefined {
  if (compression === "gzip") {
    const gzipLevel = level ?? DEFAULTS.level.gzip;
    const gzipSync = bun?.gzipSync;
    return gzipSync ? createPiecewise(GZIP_MEMBER_BYTES, (data) => gzipSync(data, { level: gzipLevel, library: "libdeflate" })) : createGzip({ chunkSize: CHUNK_BYTES, level });
  }
  if (compression === "zstd") {
    const zstdLevel = level ?? DEFAULTS.level.zstd;
    const zstdSync = bun?.zstdCompressSync;
    return zstdSync
      ? createPiecewise(ZSTD_FRAME_BYTES, (data) => zstdSync(data, { level: zstdLevel }))
      : createZstdCompress({ chunkSize: CHUNK_BYTES, params: { [constants.ZSTD_c_compressionLevel]: zstdLevel } });
  }
  return undefined;
}

export function createDecompressor(compression: Compression): Transform | undefined {
  if (compression === "gzip") return createGunzip({ chunkSize: READ_CHUNK_BYTES });
  // Deno's reads only the first frame (zstd-frames.ts); Bun's reads them all, as the zstd tool does.
  if (compression === "zstd") return runtime.name === "Deno" ? createMultiFrameZstdDecompress({ chunkSize: READ_CHUNK_BYTES }) : createZstdDecompress({ chunkSize: READ_CHUNK_BYTES });
  return undefined;
}

/** The compression of a backup, from its first bytes; `plainMagic` is what an uncompressed backup starts with. */
export function detectCompression(start: Uint8Array, plainMagic: string): Compression | undefined {
  if (start[0] === 0x1f && start[1] === 0x8b) return "gzip";
  if (start[0] === 0x28 && start[1] === 0xb5 && start[2] === 0x2f && start[3] === 0xfd) return "zstd";
  if (Buffer.from(start.subarray(0, plainMagic.length)).toString("latin1") === plainMagic) return "none";
  return undefined;
}

/** zlib and zstd report damaged input with these codes and messages. */
export function isDecompressionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code ?? "";
  return /^Z_|ZSTD|ERR_ZLIB|ERR_ZSTD/.test(code) || /incorrect header|invalid|unexpected end|zstd|corrupt/i.test((error as Error)?.message ?? "");
}
