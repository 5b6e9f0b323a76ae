// File names and the sidecar manifest. `<file>.json` carries the same facts as the header plus the SHA-256 of the
// final file, so `verify` can check integrity before decompressing anything and `list` never has to open a backup.
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { createHash } from "node:crypto";
import { z } from "zod";
import { NetravenError } from "../errors.ts";
import { writeFileAtomic } from "../files.ts";
import { EXTENSION_OF, FORMAT_VERSION, type Compression } from "./format.ts";

export const ManifestSchema = z.object({
  tool: z.literal("netraven-db"),
  format_version: z.literal(FORMAT_VERSION),
  file: z.string(),
  size_bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  compression: z.enum(["gzip", "zstd", "none"]),
  tool_version: z.string(),
  tool_revision: z.string(),
  schema_version: z.number().int().positive(),
  server_version: z.string(),
  database: z.string(),
  schema: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  duration_ms: z.number().nonnegative(),
  data_bytes: z.number().int().nonnegative(),
  rows_total: z.number().int().nonnegative(),
  tables: z.array(z.object({ name: z.string(), rows: z.number().int().nonnegative(), columns: z.array(z.string()) })),
  /** Not in the backup: tables found in the schema that the definitions do not know. */
  skipped_tables: z.array(z.string()).default([]),
  /** Last successful full `verify` (checksum + parse), if any. */
  verified_at: z.string().nullable().default(null),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const manifestPath = (file: string) => `${file}.json`;

/** `netraven_20261125_190501.sql.gz`: the old backup script's layout, in UTC. */
export function backupFileName(prefix: string, at: Date, compression: Compression, sequence = 0): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  return `${prefix}_${stamp}${sequence ? `_${sequence}` : ""}${EXTENSION_OF[compression]}`;
}

const NAME = /^(.+)_(\d{8})_(\d{6})(?:_(\d+))?\.sql(\.gz|\.zst)?$/;

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

export async function readManifest(file: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(manifestPath(file), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new NetravenError("FILE_UNREADABLE", `cannot read ${manifestPath(file)}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new NetravenError("BACKUP_INVALID", `${basename(manifestPath(file))}: not valid JSON`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new NetravenError("BACKUP_INVALID", `${basename(manifestPath(file))}: ${issue.path.join(".") || "manifest"}: ${issue.message}`);
  }
  if (parsed.data.file !== basename(file)) {
    throw new NetravenError("BACKUP_INVALID", `${basename(manifestPath(file))} describes ${parsed.data.file}, not ${basename(file)}`);
  }
  return parsed.data;
}

export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(manifestPath(file), `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}
