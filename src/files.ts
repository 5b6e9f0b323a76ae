// File-system steps that must not lose data: write to a hidden temporary name in the target directory, fsync,
// rename into place, fsync the directory. A crash leaves either the old state or the new one, plus at most a
// hidden temporary file that later runs clean up and that `list` never shows.
import { constants } from "node:fs";
import { access, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Errors, NetravenError } from "./errors.ts";

export const PARTIAL_MARK = ".partial-";

export function partialPath(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}${PARTIAL_MARK}${process.pid}`);
}

const FS_REASON: Record<string, string> = {
  ENOENT: "does not exist",
  EEXIST: "already exists",
  ENOTDIR: "not a directory (or a part of the path is not one)",
  EISDIR: "is a directory, not a file",
  EINVAL: "not a regular file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exceeded",
  EIO: "input/output error (a failing disk or an unreachable network file system?)",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many levels of symbolic links",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  EBUSY: "busy (in use by another process)",
  ETXTBSY: "busy (a running program)",
  ENOTEMPTY: "not empty",
  EXDEV: "on another file system",
};

/** The reason an fs call failed, in words: never the errno name or Node's "ENOENT: no such file..., open '...'" text. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code && FS_REASON[code]) return FS_REASON[code];
  const message = (error as Error)?.message ?? String(error);
  // An errno this table does not know: keep the words, drop the code prefix and the syscall/path suffix.
  return message.replace(/^E[A-Z]+: /, "").replace(/, [a-z_]+ '.*'$/, "");
}

export function fileError(error: unknown, doing: string, path: string): NetravenError {
  const writing = /writ|creat|renam|remov|delet/i.test(doing);
  return new NetravenError(writing ? "FILE_UNWRITABLE" : "FILE_UNREADABLE", `${doing} ${path}: ${describeFsError(error)}`, { cause: error });
}

/**
 * Paths given on the command line are checked before any work starts; a wrong one is bad input (the usage exit
 * status), unlike a disk that fills up half-way. `setting` names the flag or argument in the message. Nothing is
 * ever created here: a backup directory that does not exist is an unmounted volume or a typo, and backups written
 * to the container's root disk instead vanish with it.
 */
export async function requirePath(path: string, kind: "file" | "directory" | "writable directory", setting: string): Promise<void> {
  try {
    const info = await stat(path);
    if (kind === "file" && !info.isFile()) throw Object.assign(new Error("not a regular file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
    if (kind !== "file" && !info.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    await access(path, kind === "writable directory" ? constants.W_OK | constants.X_OK : constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" && kind !== "file" ? "does not exist (is the backup volume mounted?)" : describeFsError(error);
    const writing = kind === "writable directory" && (code === "EACCES" || code === "EPERM" || code === "EROFS") ? "cannot write backups there: " : "";
    throw Errors.badPath(setting, path, `${writing}${reason}`);
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
