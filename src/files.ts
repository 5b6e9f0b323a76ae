// File-system steps that must not lose data: write to a hidden temporary name in the target directory, fsync,
// rename into place, fsync the directory. A crash leaves either the old state or the new one, plus at most a
// hidden temporary file that later runs clean up and that `list` never shows.
import { constants } from "node:fs";
import { access, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { NetravenError } from "./errors.ts";

export const PARTIAL_MARK = ".partial-";

export function partialPath(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}${PARTIAL_MARK}${process.pid}`);
}

/** The reason an fs call failed, in words. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOSPC" ? "the disk is full"
    : code === "EACCES" || code === "EPERM" ? "permission denied"
    : code === "ENOENT" ? "no such file or directory"
    : code === "EROFS" ? "the file system is read-only"
    : code === "EDQUOT" ? "the disk quota is exceeded"
    : code === "EISDIR" ? "it is a directory"
    : code === "ENOTDIR" ? "not a directory (or a part of the path is not one)"
    : code === "EINVAL" ? "not a regular file"
    : (error as Error)?.message ?? String(error);
}

export function fileError(error: unknown, doing: string, path: string): NetravenError {
  const writing = /writ|creat|renam|remov|delet/i.test(doing);
  return new NetravenError(writing ? "FILE_UNWRITABLE" : "FILE_UNREADABLE", `${doing} ${path}: ${describeFsError(error)}`, { cause: error });
}

/**
 * Paths given on the command line are checked before any work starts; a wrong one is bad input (the usage exit
 * status), unlike a disk that fills up half-way. `setting` names the flag or argument in the message.
 */
export async function requirePath(path: string, kind: "file" | "directory" | "writable directory", setting: string): Promise<void> {
  try {
    if (kind === "writable directory") return await ensureWritableDirectory(path, true);
    const info = await stat(path);
    if (kind === "file" && !info.isFile()) throw Object.assign(new Error("not a regular file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
    if (kind === "directory" && !info.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    await access(path, constants.R_OK);
  } catch (error) {
    const cause = (error as NetravenError).cause ?? error;
    throw new NetravenError("USAGE", `${setting} ${path}: ${kind === "writable directory" ? "cannot write backups there: " : ""}${describeFsError(cause)}`);
  }
}

export async function ensureWritableDirectory(dir: string, create: boolean): Promise<void> {
  try {
    if (create) await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await stat(dir);
    if (!info.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw fileError(error, "cannot write backups to", dir);
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Atomically replaces `path` with `content`, mode 0600. */
export async function writeFileAtomic(path: string, content: string | Buffer): Promise<void> {
  const temp = partialPath(path);
  try {
    const handle = await open(temp, "w", 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await fsyncPath(dirname(path));
  } catch (error) {
    await rm(temp, { force: true });
    throw fileError(error, "cannot write", path);
  }
}

/** Whether a process still runs (to tell a crashed writer's leftovers from a running one's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
