// One backup run as the `backup` command does it: write the backup to every location; then, in each location where
// it fully succeeded, remove what interrupted runs left behind and apply retention (which never deletes the newest
// backup). A location that failed makes the run fail, naming it, after the others are complete and pruned.
import type { Connection } from "../db.ts";
import { Errors } from "../errors.ts";
import type { BackupStore } from "../storage/store.ts";
import { createBackup, type BackupOptions, type StoredBackup } from "./create.ts";
import { applyRetention, type RetentionPolicy } from "./retention.ts";

export interface BackupJobResult {
  written: Array<StoredBackup & { deleted: string[]; removedPartials: string[] }>;
}

export async function runBackupJob(connection: Connection, stores: BackupStore[], options: BackupOptions & RetentionPolicy): Promise<BackupJobResult> {
  const result = await createBackup(connection, stores, options);
  const written: BackupJobResult["written"] = [];
  for (const backup of result.written) {
    const removedPartials = await backup.store.removeStale();
    const deleted = await applyRetention(backup.store, options.prefix, options);
    written.push({ ...backup, deleted, removedPartials });
  }
  if (result.failed.length > 0) throw Errors.partialBackup(result.failed.map((f) => ({ location: f.store.location, failure: f.failure })), written.map((w) => w.location));
  return { written };
}
