// Backup file names: `netraven_20261125_190501.sql.gz`, the old backup script's layout, in UTC, with `_N` added
// when a second backup starts in the same second, and `.age` when it is encrypted. The manifest is the backup's name
// plus `.json`.
import { EXTENSION_OF, type Compression } from "./compression.ts";

export const ENCRYPTED_EXTENSION = ".age";

export function backupFileName(prefix: string, at: Date, compression: Compression, sequence = 0, encrypted = false): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  return `${prefix}_${stamp}${sequence ? `_${sequence}` : ""}${EXTENSION_OF[compression]}${encrypted ? ENCRYPTED_EXTENSION : ""}`;
}

export const manifestName = (backup: string) => `${backup}.json`;

const NAME = /^(.+)_(\d{8})_(\d{6})(?:_(\d+))?\.sql(\.gz|\.zst)?(\.age)?$/;

/** Prefix and UTC time encoded in a backup file name, or undefined for anything that is not one. */
export function parseBackupFileName(name: string): { prefix: string; at: Date } | undefined {
  const match = name.match(NAME);
  if (!match) return undefined;
  const [, prefix, day, time] = match;
  const iso = `${day!.slice(0, 4)}-${day!.slice(4, 6)}-${day!.slice(6, 8)}T${time!.slice(0, 2)}:${time!.slice(2, 4)}:${time!.slice(4, 6)}`;
  const at = new Date(`${iso}Z`);
  // Date rolls impossible stamps over (Feb 30 becomes Mar 2, 24:00 the next day): only a stamp that reads back is one.
  return Number.isNaN(at.getTime()) || at.toISOString().slice(0, 19) !== iso ? undefined : { prefix: prefix!, at };
}
