// One backup run as the `backup` command does it: write the backup; then, only after it fully succeeded, remove
// what interrupted runs left behind and apply retention (which never deletes the newest backup).
import type { Connection } from "../db.ts";
import type { BackupStore } from "../storage/store.ts";
import { createBackup, type BackupOptions, type BackupResult } from "./create.ts";
import { applyRetention, type RetentionPolicy } from "./retention.ts";

export interface BackupJobResult extends BackupResult {
  /** Backups deleted by retention. */
  deleted: string[];
  /** Partial files of interrupted runs that were removed. */
  removedPartials: string[];
}

export async function runBackupJob(connection: Connection, store: BackupStore, options: BackupOptions & RetentionPolicy): Promise<BackupJobResult> {
  const result = await createBackup(connection, store, options);
  const removedPartials = await store.removeStale();
  const deleted = await applyRetention(store, options.prefix, options);
  return { ...result, deleted, removedPartials };
}
