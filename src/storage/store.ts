// Where backups live: a store holds named files (a backup, its manifest) in one place (a directory today, an
// object-storage prefix next). Backup code writes through a sink and reads, lists and deletes through the store,
// so it never knows which kind of place it talks to. The contract each kind must keep:
//   - a backup appears under its final name complete, or not at all (partial data has a hidden name or none);
//   - small files (manifests) are replaced atomically;
//   - listing shows finished files only, and what an interrupted run left behind is found and removed later.
import type { Readable } from "node:stream";
import type { Digest } from "../checksum.ts";

export interface StoredFile {
  name: string;
  size: number;
  modified: Date;
  /** Object Lock: nobody can delete or overwrite it before this date. */
  lockedUntil?: Date;
}

/** One backup being written. */
export interface BackupSink {
  /** The name the backup gets if it can keep it: `finish` may pick the next free one (a backup of the same second). */
  readonly name: string;
  /** Appends bytes; resolves when the store has taken them (backpressure). Nothing written is ever rewritten. */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the backup appear under its final name, durable and complete; returns the SHA-256 and size of the bytes. */
  finish(): Promise<Digest & { name: string }>;
  /** Removes whatever was written. Safe after a failure and when called twice. */
  abort(): Promise<void>;
}

export interface BackupStore {
  /** How messages name the place: `/backups`, later `s3://bucket/prefix/`. */
  readonly location: string;
  /** How messages and --json name one file in it. */
  describe(name: string): string;
  /** Finished files, in no particular order. */
  list(): Promise<StoredFile[]>;
  stat(name: string): Promise<StoredFile | undefined>;
  /** Starts a backup under the first name `nameFor(0)`, `nameFor(1)`, ... that is not taken. */
  create(nameFor: (sequence: number) => string): Promise<BackupSink>;
  /** Streams a file from byte `start` (default 0) to the end. */
  read(name: string, options?: { start?: number }): Readable;
  /** A small file's text, or undefined when it does not exist. */
  readText(name: string): Promise<string | undefined>;
  /** Replaces a small file atomically. */
  writeText(name: string, text: string): Promise<void>;
  remove(name: string): Promise<void>;
  /** Removes what interrupted runs left behind; returns what it removed. */
  removeStale(): Promise<string[]>;
}
