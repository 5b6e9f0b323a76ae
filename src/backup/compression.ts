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

/** Bun's one-shot gzip, which can use libdeflate; undefined under Deno. */
const bunGzipSync = (globalThis as { Bun?: { gzipSync?: (data: Uint8Array, options: { level: number; library: "libdeflate" }) => Uint8Array } }).Bun?.gzipSync;
/** Input per gzip member: at 5:1 the member stays under mimalloc's large-object size (see READ_CHUNK_BYTES). */
const MEMBER_BYTES = 512 * 1024;

/**
 * gzip through libdeflate: the data as a run of independent gzip members of MEMBER_BYTES of input each. gunzip,
 * zcat, our reader and Deno's take concatenated members as one stream (a --jobs backup has always been one), and
 * deflate's window is 32 KiB, so cutting every 512 KiB costs next to nothing. libdeflate at level 6 compressed 210 MB
 * of a backup's SQL in 2.15 s to 39.5 MB, zlib's stream in 2.43 s to 40.7 MB (bench/notes.md).
 */
function createMemberGzip(level: number, gzipSync: NonNullable<typeof bunGzipSync>): Transform {
  // Our own copy: the caller's buffer goes back to its pool (transferred away) once a write is acknowledged.
  const pending = Buffer.allocUnsafe(MEMBER_BYTES);
  let filled = 0;
  const cut = (stream: Transform) => {
    if (filled === 0) return;
    stream.push(gzipSync(pending.subarray(0, filled), { level, library: "libdeflate" }));
    filled = 0;
  };
  return new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      try {
        for (let at = 0; at < chunk.length; ) {
          const n = Math.min(chunk.length - at, MEMBER_BYTES - filled);
          pending.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === MEMBER_BYTES) cut(this);
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

export function createCompressor(compression: Compression, level = defaultLevel(compression)): Transform | undefined {
  if (compression === "gzip") return bunGzipSync ? createMemberGzip(level ?? DEFAULTS.level.gzip, bunGzipSync) : createGzip({ chunkSize: CHUNK_BYTES, level });
  if (compression === "zstd") return createZstdCompress({ chunkSize: CHUNK_BYTES, params: { [constants.ZSTD_c_compressionLevel]: level ?? DEFAULTS.level.zstd } });
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
