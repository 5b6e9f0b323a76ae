// The manifest beside each backup (`<backup>.json`): the header's facts plus the SHA-256 and size of the final
// file, so `verify` can check integrity before decompressing anything and `list` never has to open a backup.
import * as z from "../zod.ts";
import { Errors } from "../errors.ts";
import type { BackupStore } from "../storage/store.ts";
import { HeaderSchema } from "./format.ts";
import { manifestName } from "./naming.ts";

export const ManifestSchema = z.extend(z.pick(HeaderSchema, {
  format_version: true,
  tool_version: true,
  schema_version: true,
  server_version: true,
  database: true,
  schema: true,
  compression: true,
  started_at: true,
}), {
  tool: z.literal("netraven-db"),
  file: z.string(),
  size_bytes: z.int().check(z.nonnegative()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  tool_revision: z.string(),
  finished_at: z.string(),
  duration_ms: z.number().check(z.nonnegative()),
  /** Size of the whole SQL script, decompressed: reading never inflates past it. */
  data_bytes: z.int().check(z.nonnegative()),
  rows_total: z.int().check(z.nonnegative()),
  tables: z.array(z.object({ name: z.string(), rows: z.int().check(z.nonnegative()), columns: z.array(z.string()) })),
  /** Encrypted with age to these recipients (public keys), or not encrypted. The SHA-256 is of the stored bytes. */
  encryption: z._default(z.nullable(z.object({ method: z.literal("age"), recipients: z.array(z.string()) })), null),
  /** Not in the backup: tables found in the schema that the definitions do not know. */
  skipped_tables: z._default(z.array(z.string()), []),
  /** Where the snapshot was read: the primary, or a standby (whose data is as old as its last replayed commit). */
  taken_from: z._default(z.enum(["primary", "standby"]), "primary"),
  /** On a standby: pg_last_xact_replay_timestamp() in the backup's snapshot, the commit time the data is as of. */
  standby_replay_timestamp: z._default(z.nullable(z.string()), null),
  /** Last successful full `verify` (checksum + parse), if any. */
  verified_at: z._default(z.nullable(z.string()), null),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** The manifest of `backup`, or undefined when there is none. A manifest that is there but bad is an error. */
export async function readManifest(store: BackupStore, backup: string): Promise<Manifest | undefined> {
  const name = manifestName(backup);
  const text = await store.readText(name);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw Errors.badBackup(name, "not valid JSON");
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw Errors.badBackup(name, `${issue.path.join(".") || "manifest"}: ${issue.message}`);
  }
  if (parsed.data.file !== backup) throw Errors.badBackup(name, `describes ${parsed.data.file}, not ${backup}`);
  return parsed.data;
}

export async function writeManifest(store: BackupStore, backup: string, manifest: Manifest): Promise<void> {
  await store.writeText(manifestName(backup), `${JSON.stringify(manifest, null, 2)}\n`);
}
