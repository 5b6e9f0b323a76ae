// From what a user typed to a store: `--dir /backups` names a store, `restore /backups/x.sql.gz` a file in one.
// The only place that knows which kinds of store exist.
import { basename, dirname } from "node:path";
import { LocalStore } from "./local.ts";
import type { BackupStore } from "./store.ts";

export type { BackupSink, BackupStore, StoredFile } from "./store.ts";

export function openStore(location: string): BackupStore {
  return new LocalStore(location);
}

/** The store that holds `file`, and the file's name in it. */
export function openBackupFile(file: string): { store: BackupStore; name: string } {
  return { store: new LocalStore(dirname(file)), name: basename(file) };
}
