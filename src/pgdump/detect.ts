// What a file in the backup directory is when it is not a netraven-db backup, told from its first bytes (never from
// its name, which the old backup script shared with us): a plain-SQL pg_dump script (that script's `pg_dump | gzip`,
// or zstd, or uncompressed), or the empty gzip it left behind when pg_dump failed (and reported success anyway).
// list, verify and restore name such files for what they are instead of calling them damaged backups. Cheap: only
// the first bytes are read and decompressed, through the store, so it works wherever the backups live.
import { createDecompressor, isDecompressionError, type Compression } from "../backup/compression.ts";
import { Errors, type NetravenError } from "../errors.ts";
import type { BackupStore } from "../storage/store.ts";

/** How list, verify and restore name a pg_dump file (the words issue 17 asks for). */
export const PG_DUMP_FILE = "pg_dump file (not made by netraven-db; not verifiable)";

/** Every plain-format pg_dump script starts with these lines (pg_dump 8.x to 18). */
export const PG_DUMP_START = "--\n-- PostgreSQL database dump\n--\n";

/** Decompressed bytes enough to recognise the start (and, for messages, the pg_dump version line). */
const SNIFF_BYTES = 1024;

export interface ForeignFile {
  kind: "pg-dump" | "empty";
  compression: Compression;
  /** One sentence naming what the file is. */
  description: string;
}

/** The compression of a file from its first bytes (anything else is read as uncompressed). */
export function compressionOf(start: Buffer): Compression {
  if (start[0] === 0x1f && start[1] === 0x8b) return "gzip";
  if (start[0] === 0x28 && start[1] === 0xb5 && start[2] === 0x2f && start[3] === 0xfd) return "zstd";
  return "none";
}

/**
 * Up to `bytes` of the decompressed content. `complete`: the content ended before that (so `data` is all of it);
 * `damaged`: the decompressor gave up (a truncated or corrupt stream). Backpressure stops the decompressor as soon as
 * enough is read, so a large or hostile file costs one read of its first chunk.
 */
async function contentStart(store: BackupStore, name: string, compression: Compression, bytes: number): Promise<{ data: Buffer; complete: boolean; damaged: boolean }> {
  const source = store.read(name);
  const inflate = createDecompressor(compression);
  source.on("error", (error) => inflate?.destroy(error));
  const stream: AsyncIterable<Buffer> = inflate ? (source.pipe(inflate) as unknown as AsyncIterable<Buffer>) : source;
  const chunks: Buffer[] = [];
  let length = 0;
  let complete = true;
  let damaged = false;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) {
        complete = false;
        break;
      }
    }
  } catch (error) {
    if (!isDecompressionError(error)) throw error;
    damaged = true;
    complete = false;
  } finally {
    inflate?.destroy();
    source.destroy();
  }
  return { data: Buffer.concat(chunks).subarray(0, bytes), complete, damaged };
}

/** The first stored bytes of a file (up to 1 KiB), as they are on disk. */
export async function fileStart(store: BackupStore, name: string): Promise<Buffer> {
  return (await contentStart(store, name, "none", SNIFF_BYTES)).data;
}

/** Whether text (the start of a decompressed file) is a plain pg_dump script. */
export function isPgDumpStart(text: Buffer | string): boolean {
  return (typeof text === "string" ? text : text.toString("latin1", 0, PG_DUMP_START.length)).startsWith(PG_DUMP_START);
}

/** What the file is, when it is one of the foreign files we know; undefined for anything else. */
export async function recogniseForeignFile(store: BackupStore, name: string): Promise<ForeignFile | undefined> {
  const raw = await contentStart(store, name, "none", SNIFF_BYTES);
  if (raw.complete && raw.data.length === 0) return { kind: "empty", compression: "none", description: "empty file: no dump in it" };
  const compression = compressionOf(raw.data);
  const content = compression === "none" ? raw : await contentStart(store, name, compression, SNIFF_BYTES);
  if (isPgDumpStart(content.data)) return { kind: "pg-dump", compression, description: PG_DUMP_FILE };
  if (content.complete && content.data.length === 0) {
    return { kind: "empty", compression, description: `empty ${compression} file: no dump in it (the old backup script wrote this when pg_dump failed, and still reported success)` };
  }
  return undefined;
}

/** The refusal verify and restore give for a foreign file (BACKUP_INVALID: exit 1). `location` is the file's path. */
export function foreignFileError(name: string, location: string, file: ForeignFile): NetravenError {
  const hint =
    file.kind === "pg-dump"
      ? `to import it, run: netraven-db restore ${location} --from-pg-dump (every statement is checked first; its SQL is never run)`
      : "there is nothing in it to verify or restore: use another backup";
  return Errors.foreignFile(name, file.description, hint);
}
