// `verify`: is this file a complete, intact netraven-db backup? Checksum against the manifest first (cheap, no
// decompression), then a full parse of every byte (read.ts). No database needed.
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { NetravenError } from "../errors.ts";
import { fileError } from "../files.ts";
import { log } from "../log.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import { FormatError } from "./format.ts";
import { readManifest, sha256File, writeManifest, type Manifest } from "./manifest.ts";
import { readBackup, readHeader, type ReadHandlers, type ReadSummary } from "./read.ts";

export interface VerifyResult {
  file: string;
  manifest?: Manifest;
  summary: ReadSummary;
  checksum: "matched" | "no manifest";
  durationMs: number;
}

export function invalid(file: string, problem: string): NetravenError {
  return new NetravenError("BACKUP_INVALID", `${basename(file)}: ${problem}`);
}

async function statBackup(file: string): Promise<number> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
    return info.size;
  } catch (error) {
    throw fileError(error, "cannot read", file);
  }
}

/** Size and SHA-256 against the manifest; returns the manifest (undefined when there is none). */
export async function checkManifest(file: string): Promise<Manifest | undefined> {
  const size = await statBackup(file);
  const manifest = await readManifest(file);
  if (!manifest) return undefined;
  if (manifest.size_bytes !== size) throw invalid(file, `has ${size} bytes, its manifest says ${manifest.size_bytes} (truncated or changed)`);
  const { sha256 } = await sha256File(file).catch((error) => {
    throw fileError(error, "cannot read", file);
  });
  if (sha256 !== manifest.sha256) throw invalid(file, "SHA-256 does not match its manifest (the file was changed or damaged)");
  return manifest;
}

/** Header and manifest must tell the same story. */
function compareWithManifest(file: string, summary: ReadSummary, manifest: Manifest): void {
  const header = summary.header;
  if (header.schema_version !== manifest.schema_version) throw invalid(file, `schema version ${header.schema_version} in the file, ${manifest.schema_version} in the manifest`);
  if (header.schema !== manifest.schema || header.compression !== manifest.compression) throw invalid(file, "the manifest describes a different backup");
  const fromManifest = manifest.tables.map((t) => `${t.name}=${t.rows}`).join(" ");
  const fromFile = summary.tables.map((t) => `${t.name}=${t.rows}`).join(" ");
  if (fromManifest !== fromFile) throw invalid(file, "row counts in the file differ from the manifest");
}

/** Full read with FormatErrors turned into one-line BACKUP_INVALID errors. */
export async function parseBackup(file: string, handlers?: ReadHandlers): Promise<ReadSummary> {
  try {
    return await readBackup(file, handlers);
  } catch (error) {
    if (error instanceof FormatError) throw invalid(file, error.message);
    if ((error as NodeJS.ErrnoException).code && !(error instanceof NetravenError)) throw fileError(error, "cannot read", file);
    throw error;
  }
}

/** Header only (for restore's version check and prompt), as a one-line error when it is bad. */
export async function peekHeader(file: string) {
  await statBackup(file);
  try {
    return await readHeader(file);
  } catch (error) {
    if (error instanceof FormatError) throw invalid(file, error.message);
    throw fileError(error, "cannot read", file);
  }
}

export async function verifyBackup(file: string, options: { record?: boolean } = {}): Promise<VerifyResult> {
  const started = Date.now();
  const manifest = await checkManifest(file);
  if (!manifest) log.warn(`${basename(file)} has no manifest (${basename(file)}.json): checking its structure only, not its checksum`);
  // Only this version's exact SQL text is known here: a "newer" file could carry any SQL, so it is never called good.
  const { header } = await peekHeader(file);
  if (header.schema_version > SCHEMA_VERSION) {
    throw new NetravenError("VERSION_TOO_NEW", `${basename(file)} holds schema version ${header.schema_version}, newer than this netraven-db knows (${SCHEMA_VERSION}); cannot check its SQL`, {
      hint: "verify it with the netraven-db release that made it",
    });
  }
  const summary = await parseBackup(file);
  if (manifest) compareWithManifest(file, summary, manifest);
  if (manifest && options.record) {
    await writeManifest(file, { ...manifest, verified_at: new Date().toISOString() }).catch((error) => log.debug(`could not record the verification: ${(error as Error).message}`));
  }
  return { file, manifest, summary, checksum: manifest ? "matched" : "no manifest", durationMs: Date.now() - started };
}
