// What is in a backup directory, newest first, from file names and manifests only (nothing is decompressed).
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileError } from "../files.ts";
import { parseBackupFileName, readManifest, type Manifest } from "./manifest.ts";

export interface BackupEntry {
  file: string;
  path: string;
  prefix: string;
  /** From the manifest when there is one, else from the file name. */
  time: Date;
  sizeBytes: number;
  manifest?: Manifest;
  /** Why the manifest could not be used, when it exists but is bad. */
  manifestProblem?: string;
  status: "verified" | "checksummed" | "no-manifest" | "bad-manifest";
}

export async function listBackups(dir: string): Promise<BackupEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw fileError(error, "cannot read the backup directory", dir);
  }
  const entries: BackupEntry[] = [];
  for (const file of names) {
    if (file.startsWith(".")) continue; // partial files of running or crashed backups
    const parsed = parseBackupFileName(file);
    if (!parsed) continue;
    const path = join(dir, file);
    let info;
    try {
      info = await stat(path);
    } catch {
      continue; // deleted meanwhile
    }
    if (!info.isFile()) continue;
    let manifest: Manifest | undefined;
    let manifestProblem: string | undefined;
    try {
      manifest = await readManifest(path);
    } catch (error) {
      manifestProblem = (error as Error).message;
    }
    entries.push({
      file,
      path,
      prefix: parsed.prefix,
      time: manifest ? new Date(manifest.started_at) : parsed.at,
      sizeBytes: info.size,
      manifest,
      manifestProblem,
      status: manifestProblem ? "bad-manifest" : !manifest ? "no-manifest" : manifest.verified_at ? "verified" : "checksummed",
    });
  }
  return entries.sort((a, b) => b.time.getTime() - a.time.getTime() || b.file.localeCompare(a.file));
}
