// Retention after a successful backup. It only ever deletes backups this tool made with the same prefix (file name
// pattern AND a valid manifest naming netraven-db), never the newest one, and never anything else in the directory:
// old-script dumps, foreign files and files without a manifest are left alone.
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PARTIAL_MARK, processAlive } from "../files.ts";
import { log } from "../log.ts";
import { listBackups } from "./list.ts";
import { manifestPath } from "./manifest.ts";

export interface RetentionPolicy {
  /** Delete backups older than this many days; 0 keeps them regardless of age. */
  keepDays: number;
  /** Keep at most this many backups; 0 means no limit. */
  keep: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function applyRetention(dir: string, prefix: string, policy: RetentionPolicy, now = new Date()): Promise<string[]> {
  const ours = (await listBackups(dir)).filter((b) => b.prefix === prefix && b.manifest !== undefined);
  const deleted: string[] = [];
  for (const [index, backup] of ours.entries()) {
    if (index === 0) continue; // the newest good backup always stays
    const tooOld = policy.keepDays > 0 && now.getTime() - backup.time.getTime() > policy.keepDays * DAY_MS;
    const tooMany = policy.keep > 0 && index >= policy.keep;
    if (!tooOld && !tooMany) continue;
    await rm(backup.path, { force: true });
    await rm(manifestPath(backup.path), { force: true });
    deleted.push(backup.file);
    log.info(`Retention: deleted ${backup.file} (${tooOld ? `older than ${policy.keepDays} days` : `beyond the newest ${policy.keep}`})`);
  }
  return deleted;
}

/** Removes hidden partial files whose writer is gone (a backup killed with -9, a crashed machine). */
export async function removeStalePartials(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const at = name.lastIndexOf(PARTIAL_MARK);
    if (!name.startsWith(".") || at < 0) continue;
    const pid = Number(name.slice(at + PARTIAL_MARK.length));
    const path = join(dir, name);
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (Number.isInteger(pid) && pid !== process.pid && (!processAlive(pid) || age > DAY_MS)) {
      await rm(path, { force: true });
      removed.push(name);
      log.info(`Removed ${name}, left behind by an interrupted backup`);
    }
  }
  return removed;
}
