// A backup directory in S3-compatible object storage: `s3://bucket/prefix/`. The same contract as the local
// directory (store.ts), kept the way S3 allows:
//   - a backup streams up as a multipart upload and appears under its final key only at CompleteMultipartUpload;
//     a failed or interrupted run aborts its upload, so nothing is ever left under a final key;
//   - a small lease object beside each running upload (`.netraven-db/uploads/<key>.json`: host, pid, upload id)
//     lets the next backup on the same host abort the upload of a writer that was killed (S3 cannot tell whether a
//     writer is alive); uploads without a lease, or from another host, are aborted once idle for an hour;
//   - reads pin the object's ETag from the first look, so a restore's checksum pass and its load pass read the
//     same object, or fail;
//   - with Object Lock, every object gets a retention date; retention (retention.ts) skips locked backups.
import { hostname } from "node:os";
import { Readable } from "node:stream";
import type { RetrySettings } from "../config.ts";
import type { Env } from "../config.ts";
import { Errors, isNetravenError } from "../errors.ts";
import { processAlive } from "../files.ts";
import { log } from "../log.ts";
import type { Retention, S3Client } from "../s3/client.ts";
import type { BackupSink, BackupStore, StoredFile } from "./store.ts";

const LEASES = ".netraven-db/uploads/";
const MAX_SEQUENCE = 100;

interface Lease {
  key: string;
  uploadId: string;
  host: string;
  pid: number;
  started_at: string;
}

export interface S3StoreOptions {
  /** Object Lock retention for every object written (the bucket must have Object Lock on). */
  lockDays?: number;
  retry?: RetrySettings;
}

/** The S3 modules are loaded only when a location is an s3:// URL. */
export async function openS3Store(url: string, env: Env, options: S3StoreOptions = {}): Promise<S3Store> {
  const [{ parseS3Url }, { resolveS3Settings }, { S3Client: Client }] = await Promise.all([import("../s3/location.ts"), import("../s3/settings.ts"), import("../s3/client.ts")]);
  const location = parseS3Url(url, "directory", "--dir");
  const client = new Client(resolveS3Settings(env), { retry: options.retry });
  return new S3Store(client, location.bucket, location.key, options);
}

export class S3Store implements BackupStore {
  readonly location: string;
  /** ETags seen by stat(): later reads of the same object must find the same one. */
  private readonly etags = new Map<string, string>();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly options: S3StoreOptions,
  ) {
    this.location = `s3://${bucket}/${prefix}`;
  }

  describe(name: string): string {
    return `${this.location}${name}`;
  }

  /** One request before any work: the credentials and the bucket answer (and Object Lock is on when asked for). */
  async probe(access: "write" | "read"): Promise<void> {
    await this.client.headBucket(this.bucket, access === "write" ? "PutObject" : "GetObject");
    if (access === "write" && this.options.lockDays) {
      const lock = await this.client.getObjectLockConfiguration(this.bucket);
      if (!lock.enabled) throw Errors.usage(`--object-lock-days: bucket ${this.bucket} has no Object Lock (it can only be enabled when a bucket is created)`);
    }
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  private retention(): Retention | undefined {
    if (!this.options.lockDays) return undefined;
    return { mode: "COMPLIANCE", retainUntil: new Date(Date.now() + this.options.lockDays * 24 * 60 * 60 * 1000) };
  }

  async list(): Promise<StoredFile[]> {
    const files: StoredFile[] = [];
    for (const object of await this.client.listObjects(this.bucket, this.prefix)) {
      const name = object.key.slice(this.prefix.length);
      if (name === "" || name.includes("/")) continue; // deeper "directories", our leases
      files.push({ name, size: object.size, modified: object.lastModified });
    }
    return files;
  }

  async stat(name: string): Promise<StoredFile | undefined> {
    const info = await this.client.headObject(this.bucket, this.key(name));
    if (!info) return undefined;
    if (!this.etags.has(name)) this.etags.set(name, info.etag);
    return { name, size: info.size, modified: info.lastModified, lockedUntil: info.retention?.retainUntil };
  }

  async create(nameFor: (sequence: number) => string): Promise<BackupSink> {
    const { MultipartWriter } = await import("../s3/upload.ts");
    for (let sequence = 0; sequence < MAX_SEQUENCE; sequence++) {
      const name = nameFor(sequence);
      if (await this.client.headObject(this.bucket, this.key(name))) continue;
      const writer = new MultipartWriter(this.client, this.bucket, this.key(name), { retention: this.retention() });
      return new S3Sink(this, name, writer);
    }
    throw Errors.internal(`too many backups named ${nameFor(0)} in ${this.location}`);
  }

  read(name: string, options: { start?: number } = {}): Readable {
    const store = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const { openObjectStream } = await import("../s3/download.ts");
      const stream = await openObjectStream(store.client, store.bucket, store.key(name), {
        range: options.start ? [options.start] : undefined,
        ifMatch: store.etags.get(name),
      });
      store.etags.set(name, stream.etag);
      yield* stream.chunks;
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: 1024 * 1024 });
  }

  async readText(name: string): Promise<string | undefined> {
    if (!(await this.client.headObject(this.bucket, this.key(name)))) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  async writeText(name: string, text: string): Promise<void> {
    // PutObject is atomic: the object is the old one or the new one, never half of either.
    await this.client.putObject(this.bucket, this.key(name), Buffer.from(text), { contentType: "application/json", retention: this.retention() });
  }

  async remove(name: string): Promise<void> {
    const info = await this.client.headObject(this.bucket, this.key(name));
    if (!info) return;
    // In a versioned bucket a delete without a version only hides the object: remove the version itself.
    await this.client.deleteObject(this.bucket, this.key(name), { versionId: info.versionId });
  }

  /** Writes the lease of a starting upload. */
  async lease(lease: Lease): Promise<void> {
    await this.client.putObject(this.bucket, this.leaseKey(lease.key), Buffer.from(JSON.stringify(lease)), { contentType: "application/json" });
  }

  async release(key: string): Promise<void> {
    await this.client.deleteObject(this.bucket, this.leaseKey(key)).catch((error) => log.debug(`could not remove the lease of ${key}: ${(error as Error).message}`));
  }

  private leaseKey(key: string): string {
    return `${this.prefix}${LEASES}${key.slice(this.prefix.length)}.json`;
  }

  /**
   * Aborts multipart uploads whose writer is gone: a lease from this host whose process no longer runs, or (for
   * other hosts, and uploads without a lease) an upload idle for an hour.
   */
  async removeStale(): Promise<string[]> {
    const removed: string[] = [];
    const handled = new Set<string>();
    const here = hostname();
    for (const object of await this.client.listObjects(this.bucket, `${this.prefix}${LEASES}`)) {
      let lease: Lease;
      try {
        lease = JSON.parse((await this.readText(object.key.slice(this.prefix.length))) ?? "") as Lease;
      } catch {
        continue; // unreadable: the idle rule below still applies to its upload
      }
      handled.add(lease.uploadId);
      const gone = lease.host === here && lease.pid !== process.pid && !processAlive(lease.pid);
      if (!gone) continue;
      await this.client.abortMultipartUpload(this.bucket, lease.key, lease.uploadId).catch((error) => {
        if (!isNetravenError(error) || !/NoSuchUpload|not found/i.test(error.message)) throw error;
      });
      await this.client.deleteObject(this.bucket, object.key).catch(() => undefined);
      removed.push(lease.key.slice(this.prefix.length));
      log.info(`Aborted the upload of ${this.describe(lease.key.slice(this.prefix.length))} left by an interrupted backup (process ${lease.pid} on this host is gone)`);
    }
    const { abortStaleUploads } = await import("../s3/stale.ts");
    const idle = await abortStaleUploads(this.client, this.bucket, this.prefix, {
      keep: handled,
      match: (key) => !key.slice(this.prefix.length).includes("/"),
    });
    for (const upload of idle) {
      removed.push(upload.key.slice(this.prefix.length));
      await this.release(upload.key);
    }
    return removed;
  }
}

type Writer = InstanceType<(typeof import("../s3/upload.ts"))["MultipartWriter"]>;

class S3Sink implements BackupSink {
  private leased = false;

  constructor(
    private readonly store: S3Store,
    readonly name: string,
    private readonly writer: Writer,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    await this.writer.write(chunk);
    // The upload exists once its first part is on its way: that is when a lease can name it.
    if (!this.leased && this.writer.multipartUploadId) {
      this.leased = true;
      await this.store.lease({ key: this.writer.key, uploadId: this.writer.multipartUploadId, host: hostname(), pid: process.pid, started_at: new Date().toISOString() });
    }
  }

  async finish(): Promise<{ name: string; sha256: string; size: number }> {
    const result = await this.writer.finish();
    if (this.leased) await this.store.release(this.writer.key);
    return { name: this.name, sha256: result.sha256, size: result.bytes };
  }

  async abort(): Promise<void> {
    await this.writer.abort().catch((error) => log.debug(`could not abort the upload of ${this.name}: ${(error as Error).message}`));
    if (this.leased) await this.store.release(this.writer.key);
  }
}
