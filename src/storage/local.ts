// A backup directory on a local (or mounted) file system. A backup is written under a hidden temporary name in the
// same directory, synced, and only then given its final name with link(2), which never replaces an existing file
// (two backups started in the same second get different names); a crash leaves at most a hidden partial file,
// which `list` never shows and the next backup removes once its writer is gone.
import { createReadStream } from "node:fs";
import { link, open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Sha256Counter, type Digest } from "../checksum.ts";
import { Errors } from "../errors.ts";
import { fileError, fsyncPath, PARTIAL_MARK, partialPath, processAlive, writeFileAtomic } from "../files.ts";
import { log } from "../log.ts";
import { READ_CHUNK_BYTES } from "../streams.ts";
import type { BackupSink, BackupStore, StoredFile } from "./store.ts";

/** The kernel is asked to write the file out every this many bytes, so the final fsync is short. */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;
/** Names tried before giving up (100 backups started in the same second). */
const MAX_SEQUENCE = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

class LocalSink implements BackupSink {
  private position = 0;
  private readonly checksum = new Sha256Counter();
  private sinceSync = 0;
  private syncing: Promise<void> | undefined;
  private closed = false;
  readonly name: string;

  constructor(
    private readonly dir: string,
    private readonly nameFor: (sequence: number) => string,
    private readonly temp: string,
    private readonly handle: FileHandle,
    private sequence: number,
  ) {
    this.name = nameFor(sequence);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    try {
      while (offset < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset, this.position);
        offset += bytesWritten;
        this.position += bytesWritten;
      }
    } catch (error) {
      throw fileError(error, "cannot write", this.temp);
    }
    this.checksum.update(chunk);
    this.sinceSync += chunk.length;
    if (this.sinceSync >= SYNC_EVERY_BYTES && !this.syncing) {
      // Write the file out in the background while the dump goes on (the kernel would wait for gigabytes first).
      this.sinceSync = 0;
      this.syncing = this.handle.datasync().finally(() => (this.syncing = undefined));
      this.syncing.catch(() => undefined);
    }
  }

  /**
   * The checksum is of the bytes as they were written. Reading the file back (as format 2 did) proved no more: right
   * after writing, a read comes from the page cache, not the disk. What protects the bytes on disk is the fsync before
   * the file gets its name, and every later verify and restore checks them against this checksum.
   */
  async finish(): Promise<Digest & { name: string }> {
    await this.syncing;
    await this.handle.sync().catch((error) => {
      throw fileError(error, "cannot write", this.temp);
    });
    this.closed = true;
    await this.handle.close();
    const name = await this.publish();
    await fsyncPath(this.dir).catch(() => undefined);
    return { name, ...this.checksum.digest() };
  }

  /** Gives the file its final name without ever replacing another file. */
  private async publish(): Promise<string> {
    for (; this.sequence < MAX_SEQUENCE; this.sequence++) {
      const target = join(this.dir, this.nameFor(this.sequence));
      try {
        await link(this.temp, target);
        await rm(this.temp, { force: true });
        return this.nameFor(this.sequence);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EEXIST") continue;
        // File systems without hard links (some network and FAT mounts): check, then rename.
        if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EMLINK") {
          if (await stat(target).then(() => true, () => false)) continue;
          await rename(this.temp, target);
          return this.nameFor(this.sequence);
        }
        throw fileError(error, "cannot rename", this.temp);
      }
    }
    throw fileError(Object.assign(new Error(`too many backups named ${this.nameFor(0)}`), { code: "EEXIST" }), "cannot name", join(this.dir, this.nameFor(0)));
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.temp, { force: true }).catch(() => undefined);
  }
}

export class LocalStore implements BackupStore {
  constructor(readonly location: string) {}

  describe(name: string): string {
    return join(this.location, name);
  }

  async list(): Promise<StoredFile[]> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (error) {
      throw fileError(error, "cannot read the backup directory", this.location);
    }
    const files: StoredFile[] = [];
    for (const name of names) {
      if (name.startsWith(".")) continue; // partial files of running or crashed backups
      const file = await this.stat(name).catch(() => undefined);
      if (file) files.push(file);
    }
    return files;
  }

  async stat(name: string): Promise<StoredFile | undefined> {
    try {
      const info = await stat(join(this.location, name));
      if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
      return { name, size: info.size, modified: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw fileError(error, "cannot read", this.describe(name));
    }
  }

  async create(nameFor: (sequence: number) => string): Promise<BackupSink> {
    for (let sequence = 0; sequence < MAX_SEQUENCE; sequence++) {
      if (await this.stat(nameFor(sequence))) continue;
      const temp = partialPath(this.describe(nameFor(sequence)));
      try {
        return new LocalSink(this.location, nameFor, temp, await open(temp, "wx", 0o600), sequence);
      } catch (error) {
        throw fileError(error, (error as NodeJS.ErrnoException).code === "ENOSPC" ? "cannot write" : "cannot create", temp);
      }
    }
    throw Errors.internal(`too many backups named ${nameFor(0)} in ${this.location}`);
  }

  read(name: string, options: { start?: number } = {}): Readable {
    return createReadStream(this.describe(name), { start: options.start ?? 0, highWaterMark: READ_CHUNK_BYTES });
  }

  async readText(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.describe(name), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw fileError(error, "cannot read", this.describe(name));
    }
  }

  async writeText(name: string, text: string): Promise<void> {
    await writeFileAtomic(this.describe(name), text);
  }

  async remove(name: string): Promise<void> {
    await rm(this.describe(name), { force: true }).catch((error) => {
      throw fileError(error, "cannot remove", this.describe(name));
    });
  }

  /** Hidden partial files whose writer is gone (a backup killed with -9, a crashed machine), or older than a day. */
  async removeStale(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdir(this.location).catch(() => [] as string[])) {
      const at = name.lastIndexOf(PARTIAL_MARK);
      if (!name.startsWith(".") || at < 0) continue;
      const pid = Number(name.slice(at + PARTIAL_MARK.length));
      const path = join(this.location, name);
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (Number.isInteger(pid) && pid !== process.pid && (!processAlive(pid) || age > DAY_MS)) {
        await rm(path, { force: true });
        removed.push(name);
        log.info(`Removed ${name}, left behind by an interrupted backup`);
      }
    }
    return removed;
  }
}
