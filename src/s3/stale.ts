// Multipart uploads left behind by a backup that was killed (kill -9, a crashed machine, a lost network) hold their
// parts in the bucket, invisible to listings and billed, until someone aborts them. The next backup to the same prefix
// calls this, as removeStalePartials does for local partial files.
//
// Which uploads are safe to abort: S3 cannot tell us whether an upload's writer is alive (ListMultipartUploads shows
// only key, id and start time; metadata is not listed), so "gone" means "idle": an upload whose latest activity
// (its start, or its newest part) is older than `idleMs` (default 1 hour). A live writer sends a part at least every
// few seconds to minutes (8 MiB of compressed dump), so an hour of silence is far beyond any live backup, while a
// killed nightly backup is cleaned by the next night's run. Only keys under the prefix that `match` accepts (the
// caller's backup names) are touched, never another tool's uploads. Aborting a live upload by mistake cannot corrupt
// anything: its writer fails at the next part or at Complete with NoSuchUpload, and nothing appears under its key.
import { log } from "../log.ts";
import type { MultipartUploadInfo, S3Client } from "./client.ts";
import { formatS3Url } from "./location.ts";

export const DEFAULT_STALE_IDLE_MS = 60 * 60 * 1000;

export interface StaleUpload extends MultipartUploadInfo {
  /** The newest of the upload's start and its parts' upload times. */
  lastActivity: Date;
}

export interface StaleOptions {
  idleMs?: number;
  /** Only keys this accepts (default: all under the prefix). */
  match?: (key: string) => boolean;
  /** Upload ids never to touch (the caller's own running upload). */
  keep?: ReadonlySet<string>;
  now?: Date;
}

/** Aborts the idle multipart uploads under `prefix`; returns what was aborted. */
export async function abortStaleUploads(client: S3Client, bucket: string, prefix: string, options: StaleOptions = {}): Promise<StaleUpload[]> {
  const idleMs = options.idleMs ?? DEFAULT_STALE_IDLE_MS;
  const now = (options.now ?? new Date()).getTime();
  const aborted: StaleUpload[] = [];
  for (const upload of await client.listMultipartUploads(bucket, prefix)) {
    if (options.keep?.has(upload.uploadId)) continue;
    if (options.match && !options.match(upload.key)) continue;
    if (now - upload.initiated.getTime() < idleMs) continue;
    const parts = await client.listParts(bucket, upload.key, upload.uploadId);
    const newest = Math.max(upload.initiated.getTime(), ...parts.map((p) => p.lastModified.getTime()));
    if (now - newest < idleMs) continue;
    await client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
    aborted.push({ ...upload, lastActivity: new Date(newest) });
    const idleMinutes = Math.round((now - newest) / 60_000);
    log.info(`Aborted a multipart upload to ${formatS3Url(bucket, upload.key)} left by an interrupted backup (idle for ${idleMinutes} min, ${parts.length} part${parts.length === 1 ? "" : "s"})`);
  }
  return aborted;
}
