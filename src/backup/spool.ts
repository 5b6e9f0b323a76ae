// Where a parallel backup keeps the table sections that finished before their turn in the file. Sections are
// spooled to disk already compressed (each its own gzip member or zstd frame), so the spool costs at most the size
// of the backup file and memory stays bounded whatever the tables weigh: buffering them in memory would grow with
// the largest out-of-order table. The spool directory is private to the run (mode 0700, files 0600); a run that
// was killed leaves its directory behind, and the next parallel backup removes directories whose process is gone.
import { mkdtemp, open, readdir, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileError, processAlive } from "../files.ts";
import { log } from "../log.ts";
import type { ByteSink } from "./sinks.ts";

const SPOOL_PREFIX = "netraven-db-spool-";
const REPLAY_BYTES = 1024 * 1024;

/** A fresh spool directory for this run, after removing the ones runs that no longer exist left behind. */
export async function openSpoolDir(parent = tmpdir()): Promise<string> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(SPOOL_PREFIX)) continue;
    const pid = Number(name.slice(SPOOL_PREFIX.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    log.debug(`removed the spool of an interrupted backup: ${name}`);
  }
  try {
    return await mkdtemp(join(parent, `${SPOOL_PREFIX}${process.pid}-`));
  } catch (error) {
    throw fileError(error, "cannot create the spool directory in", parent);
  }
}

export async function removeSpoolDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** One section's bytes on disk: written once front to back, then replayed into the backup once. */
export class Spool implements ByteSink {
  bytes = 0;
  private constructor(
    private readonly path: string,
    private readonly file: FileHandle,
  ) {}

  static async create(dir: string, name: string): Promise<Spool> {
    const path = join(dir, name);
    try {
      return new Spool(path, await open(path, "wx+", 0o600));
    } catch (error) {
      throw fileError(error, "cannot create", path);
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    try {
      for (let done = 0; done < chunk.length; ) done += (await this.file.write(chunk, done, chunk.length - done, this.bytes + done)).bytesWritten;
    } catch (error) {
      throw fileError(error, "cannot write", this.path);
    }
    this.bytes += chunk.length;
  }

  /** Writes the spooled bytes into `into` in order, then removes the spool. */
  async replay(into: ByteSink): Promise<void> {
    for (let position = 0; position < this.bytes; ) {
      // A fresh buffer each time: a sink may keep the chunk (an upload part) after write() resolves.
      const buffer = new Uint8Array(Math.min(REPLAY_BYTES, this.bytes - position));
      let got: number;
      try {
        got = (await this.file.read(buffer, 0, buffer.length, position)).bytesRead;
      } catch (error) {
        throw fileError(error, "cannot read", this.path);
      }
      if (got === 0) throw fileError(new Error("the file is shorter than what was written"), "cannot read", this.path);
      await into.write(got === buffer.length ? buffer : buffer.subarray(0, got));
      position += got;
    }
    await this.discard();
  }

  async discard(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}
