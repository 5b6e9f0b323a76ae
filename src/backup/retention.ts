// Retention after a successful backup. It only ever deletes backups this tool made with the same prefix (file name
// pattern AND a valid manifest naming netraven-db), never the newest one, and never anything else in the store:
// old-script dumps, foreign files and files without a manifest are left alone.
import { log } from "../log.ts";
import type { BackupStore } from "../storage/store.ts";
import { listBackups } from "./list.ts";
import { manifestName } from "./naming.ts";

export interface RetentionPolicy {
  /** Delete backups older than this many days; 0 keeps them regardless of age. */
  keepDays: number;
  /** Keep at most this many backups; 0 means no limit. */
  keep: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function applyRetention(store: BackupStore, prefix: string, policy: RetentionPolicy, now = new Date()): Promise<string[]> {
  // Keep forever, keep any number: nothing can be deleted, so nothing needs to be listed and read.
  if (policy.keepDays === 0 && policy.keep === 0) return [];
  const ours = (await listBackups(store)).filter((b) => b.prefix === prefix && b.manifest !== undefined);
  const deleted: string[] = [];
  for (const [index, backup] of ours.entries()) {
    if (index === 0) continue; // the newest good backup always stays
    const tooOld = policy.keepDays > 0 && now.getTime() - backup.time.getTime() > policy.keepDays * DAY_MS;
    const tooMany = policy.keep > 0 && index >= policy.keep;
    if (!tooOld && !tooMany) continue;
    const lockedUntil = (await store.stat(backup.name))?.lockedUntil;
    if (lockedUntil && lockedUntil > now) {
      log.info(`Retention: kept ${backup.name} (${tooOld ? `older than ${policy.keepDays} days` : `beyond the newest ${policy.keep}`}, but Object Lock keeps it until ${lockedUntil.toISOString()})`);
      continue;
    }
    await store.remove(backup.name);
    await store.remove(manifestName(backup.name));
    deleted.push(backup.name);
    log.info(`Retention: deleted ${backup.name} (${tooOld ? `older than ${policy.keepDays} days` : `beyond the newest ${policy.keep}`})`);
  }
  return deleted;
}
