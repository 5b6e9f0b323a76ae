// What a backup store holds, newest first, from names and manifests (nothing of ours is decompressed; a file without
// a manifest has its first bytes read, to name an old pg_dump script for what it is).
import type { BackupStore } from "../storage/store.ts";
import { readManifest, type Manifest } from "./manifest.ts";
import { parseBackupFileName } from "./naming.ts";
import { recogniseForeignFile, type ForeignFile } from "../pgdump/detect.ts";

export interface BackupEntry {
  name: string;
  /** How messages name it: the path, or later the URL. */
  location: string;
  prefix: string;
  /** From the manifest when there is one, else from the file name. */
  time: Date;
  sizeBytes: number;
  manifest?: Manifest;
  /** Why the manifest could not be used, when it exists but is bad. */
  manifestProblem?: string;
  /** A file without a manifest that is not ours but that we can name (an old pg_dump script, an empty gzip). */
  foreign?: ForeignFile;
  status: "verified" | "checksummed" | "no-manifest" | "bad-manifest" | ForeignFile["kind"];
}

export async function listBackups(store: BackupStore): Promise<BackupEntry[]> {
  const entries: BackupEntry[] = [];
  for (const file of await store.list()) {
    const parsed = parseBackupFileName(file.name);
    if (!parsed) continue;
    let manifest: Manifest | undefined;
    let manifestProblem: string | undefined;
    try {
      manifest = await readManifest(store, file.name);
    } catch (error) {
      manifestProblem = (error as Error).message;
    }
    // Only files without a manifest are looked into, and only their first bytes: list stays cheap.
    const foreign = manifest || manifestProblem ? undefined : await recogniseForeignFile(store, file.name).catch(() => undefined);
    entries.push({
      name: file.name,
      location: store.describe(file.name),
      prefix: parsed.prefix,
      time: manifest ? new Date(manifest.started_at) : parsed.at,
      sizeBytes: file.size,
      manifest,
      manifestProblem,
      foreign,
      status: manifestProblem ? "bad-manifest" : foreign ? foreign.kind : !manifest ? "no-manifest" : manifest.verified_at ? "verified" : "checksummed",
    });
  }
  return entries.sort((a, b) => b.time.getTime() - a.time.getTime() || b.name.localeCompare(a.name));
}
