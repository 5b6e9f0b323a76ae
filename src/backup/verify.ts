// `verify`: is this file a complete, intact netraven-db backup? Size and SHA-256 against the manifest first (cheap,
// no decompression), then a full parse of every byte (read.ts). No database needed.
import type { AgeIdentities } from "../age/identities.ts";
import { Sha256Counter } from "../checksum.ts";
import { Errors } from "../errors.ts";
import { fileError } from "../files.ts";
import { log } from "../log.ts";
import type { OnProgress } from "../progress.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import type { BackupStore } from "../storage/store.ts";
import type { BackupHeader } from "./format.ts";
import { readManifest, writeManifest, type Manifest } from "./manifest.ts";
import { manifestName } from "./naming.ts";
import { isEncryptedBackup, readHeader } from "./plaintext.ts";
import { readBackup, type ReadHandlers, type ReadSummary } from "./read.ts";

export interface VerifyOptions {
  /** Write the time of this successful check into the manifest (`list` shows it). */
  record?: boolean;
  /** The key of an encrypted backup; without it only its checksum is checked. */
  identities?: AgeIdentities;
  onProgress?: OnProgress;
  signal?: AbortSignal;
}

export interface VerifyResult {
  name: string;
  manifest?: Manifest;
  /** What a full read found; undefined for an encrypted backup checked without its key (checksum only). */
  summary?: ReadSummary;
  checksum: "matched" | "no manifest";
  encrypted: boolean;
  durationMs: number;
}

/** A backup that passed the checks a restore needs before it touches a database. */
export interface CheckedBackup {
  header: BackupHeader;
  manifest?: Manifest;
  /** Rows per table, as the manifest (or, without one, a full read) says. */
  tables: Array<{ name: string; rows: number }>;
  /** Size of the SQL script: the next read must find exactly this. */
  dataBytes: number;
}

/** Size and SHA-256 against the manifest; returns the manifest (undefined when there is none). */
export async function checkManifest(store: BackupStore, name: string, options: Pick<VerifyOptions, "onProgress" | "signal"> = {}): Promise<Manifest | undefined> {
  const file = await store.stat(name);
  if (!file) throw fileError(Object.assign(new Error("missing"), { code: "ENOENT" }), "cannot read", store.describe(name));
  const manifest = await readManifest(store, name);
  if (!manifest) return undefined;
  if (manifest.size_bytes !== file.size) throw Errors.badBackup(name, `has ${file.size} bytes, its manifest says ${manifest.size_bytes} (truncated or changed)`);
  const counter = new Sha256Counter();
  const stream = store.read(name);
  try {
    for await (const chunk of stream) {
      options.signal?.throwIfAborted();
      counter.update(chunk as Buffer);
      options.onProgress?.({ step: "Checksum", done: counter.size, total: file.size });
    }
  } catch (error) {
    stream.destroy();
    if ((error as { code?: string }).code === "INTERRUPTED") throw error;
    throw fileError(error, "cannot read", store.describe(name));
  }
  if (counter.digest().sha256 !== manifest.sha256) throw Errors.badBackup(name, "SHA-256 does not match its manifest (the file was changed or damaged)");
  return manifest;
}

/** Header and manifest must tell the same story. */
export function compareHeaderWithManifest(name: string, header: BackupHeader, manifest: Manifest): void {
  if (header.schema_version !== manifest.schema_version) throw Errors.badBackup(name, `schema version ${header.schema_version} in the file, ${manifest.schema_version} in the manifest`);
  if (header.schema !== manifest.schema || header.compression !== manifest.compression) throw Errors.badBackup(name, "the manifest describes a different backup");
  if (header.tables.join(" ") !== manifest.tables.map((t) => t.name).join(" ")) throw Errors.badBackup(name, "the manifest lists other tables than the file");
}

/** Header, manifest and what a full read found must tell the same story. */
function compareWithManifest(name: string, summary: ReadSummary, manifest: Manifest): void {
  compareHeaderWithManifest(name, summary.header, manifest);
  const fromManifest = manifest.tables.map((t) => `${t.name}=${t.rows}`).join(" ");
  const fromFile = summary.tables.map((t) => `${t.name}=${t.rows}`).join(" ");
  if (fromManifest !== fromFile) throw Errors.badBackup(name, "row counts in the file differ from the manifest");
}

/** Only this version's exact SQL text is known here: a "newer" file could carry any SQL, so it is never used. */
export function refuseNewer(name: string, header: BackupHeader, refusing: string, hint: string): void {
  if (header.schema_version > SCHEMA_VERSION) throw Errors.newerSchema(name, header.schema_version, SCHEMA_VERSION, refusing, hint);
}

/** Reads every byte of the backup, reporting progress against `expectedBytes` (the manifest's size) when known. */
export function readWithProgress(store: BackupStore, name: string, expectedBytes: number | undefined, options: Pick<VerifyOptions, "onProgress" | "signal" | "identities">, handlers: ReadHandlers = {}, step = "Checking"): Promise<ReadSummary> {
  const onProgress = options.onProgress;
  const progress = onProgress ? (done: number, table: string | undefined) => onProgress({ step, item: table, done, total: expectedBytes }) : undefined;
  return readBackup(store, name, { ...handlers, onProgress: progress }, { signal: options.signal, expectedBytes, identities: options.identities });
}

export async function verifyBackup(store: BackupStore, name: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = Date.now();
  const manifest = await checkManifest(store, name, options);
  const encrypted = manifest ? manifest.encryption !== null : await isEncryptedBackup(store, name);
  if (encrypted && !options.identities) {
    // The checksum proves the stored bytes are the ones written; what they hold needs the key.
    if (!manifest) throw Errors.identityRequired(name);
    return { name, manifest, checksum: "matched", encrypted, durationMs: Date.now() - started };
  }
  const { header } = await readHeader(store, name, options.identities);
  if (!manifest) log.warn(`${name} has no manifest (${manifestName(name)}): checking its structure only, not its checksum`);
  refuseNewer(name, header, "cannot check its SQL", "verify it with the netraven-db release that made it");
  const summary = await readWithProgress(store, name, manifest?.data_bytes, options);
  if (manifest) compareWithManifest(name, summary, manifest);
  if (manifest && options.record) {
    await writeManifest(store, name, { ...manifest, verified_at: new Date().toISOString() }).catch((error) => log.debug(`could not record the verification: ${(error as Error).message}`));
  }
  return { name, manifest, summary, checksum: manifest ? "matched" : "no manifest", encrypted, durationMs: Date.now() - started };
}
