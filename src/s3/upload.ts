// Streaming an object of unknown size into S3 with bounded memory: write() fills part buffers, full parts go up as
// UploadPart while the next one fills, finish() completes the multipart upload, so the object appears under its final
// key only when it is whole (a run that fails or is killed leaves no object there; abort() or, after kill -9,
// stale.ts removes the parts). An object smaller than one part goes up as a single PutObject (also atomic).
// It computes the SHA-256 and byte count of everything written as it streams: the manifest needs both.
//
// Sizes: parts of 8 MiB (the AWS CLI's multipart_chunksize; S3 wants >= 5 MiB except the last, <= 10,000 parts, so
// objects up to 78 GiB), and 3 parts in flight: one filling while two travel keeps a WAN link busy, and on 2 cores more
// concurrent signing/hashing would not help. Memory is bounded by (inFlight + 1) x partSize = 32 MiB of buffers,
// reused from a pool, whatever the object's size.
import { createHash, type Hash } from "node:crypto";
import { Writable } from "node:stream";
import { Errors, NetravenError } from "../errors.ts";
import { log } from "../log.ts";
import type { Retention, S3Client } from "./client.ts";
import { formatS3Url } from "./location.ts";

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const DEFAULT_PARTS_IN_FLIGHT = 3;
const MAX_PARTS = 10_000;

export interface UploadOptions {
  /** Bytes per part, at least 5 MiB. */
  partSize?: number;
  /** Parts uploading at the same time. */
  partsInFlight?: number;
  contentType?: string;
  /** Object Lock retention for the object (the bucket must have Object Lock on). */
  retention?: Retention;
}

export interface UploadResult {
  bucket: string;
  key: string;
  bytes: number;
  /** SHA-256 (hex) of every byte written, computed while streaming. */
  sha256: string;
  /** The object's ETag as the storage reports it (HEAD after completion when the answer had none). */
  etag: string;
  /** 0 for a single PutObject. */
  parts: number;
  versionId?: string;
}

/** The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, then -N. */
export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash("md5");
  for (const etag of partEtags) md5.update(Buffer.from(etag, "hex"));
  return `${md5.digest("hex")}-${partEtags.length}`;
}

export class MultipartWriter {
  readonly bucket: string;
  readonly key: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly partsInFlight: number;
  private readonly options: UploadOptions;
  private readonly hash: Hash = createHash("sha256");
  private written = 0;
  private current: Buffer | undefined;
  private filled = 0;
  private readonly pool: Buffer[] = [];
  private uploadId: string | undefined;
  private partNumber = 0;
  private readonly etags: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private state: "open" | "finishing" | "done" | "aborted" = "open";
  result: UploadResult | undefined;

  constructor(client: S3Client, bucket: string, key: string, options: UploadOptions = {}) {
    this.client = client;
    this.bucket = bucket;
    this.key = key;
    this.options = options;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.partsInFlight = Math.max(1, options.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT);
    if (this.partSize < MIN_PART_SIZE) throw Errors.internal(`part size ${this.partSize} is below the S3 minimum of 5 MiB`);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.written;
  }

  /** The multipart upload's id once one was started (a small object never starts one). */
  get multipartUploadId(): string | undefined {
    return this.uploadId;
  }

  private where(): string {
    return formatS3Url(this.bucket, this.key);
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.state !== "open") throw Errors.internal(`${this.where()}: write after ${this.state === "aborted" ? "abort" : "finish"}`);
  }

  /** Buffers the chunk; resolves when it is taken, which waits while all parts in flight are busy (backpressure). */
  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    this.hash.update(chunk);
    this.written += chunk.length;
    let offset = 0;
    try {
      while (offset < chunk.length) {
        this.current ??= this.pool.pop() ?? Buffer.allocUnsafe(this.partSize);
        const take = Math.min(chunk.length - offset, this.partSize - this.filled);
        this.current.set(chunk.subarray(offset, offset + take), this.filled);
        this.filled += take;
        offset += take;
        if (this.filled === this.partSize) await this.ship();
      }
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
  }

  /** Starts the upload of the current buffer as the next part, once a slot is free. */
  private async ship(): Promise<void> {
    const buffer = this.current!;
    const length = this.filled;
    this.current = undefined;
    this.filled = 0;
    if (this.partNumber >= MAX_PARTS) throw Errors.s3RequestFailed(`${this.where()}: the object is larger than ${MAX_PARTS} parts of ${this.partSize} bytes`);
    this.uploadId ??= await this.client.createMultipartUpload(this.bucket, this.key, { contentType: this.options.contentType, retention: this.options.retention });
    while (this.inFlight.size >= this.partsInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const partNumber = ++this.partNumber;
    const uploadId = this.uploadId;
    const task: Promise<void> = this.client
      .uploadPart(this.bucket, this.key, uploadId, partNumber, buffer.subarray(0, length), { md5: this.options.retention !== undefined })
      .then(
        (etag) => {
          this.etags[partNumber - 1] = etag;
        },
        (error) => {
          this.failure ??= error;
        },
      )
      .finally(() => {
        this.inFlight.delete(task);
        if (buffer.length === this.partSize) this.pool.push(buffer);
      });
    this.inFlight.add(task);
  }

  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Uploads what is left and completes the object; on failure, aborts the upload and throws. */
  async finish(): Promise<UploadResult> {
    this.check();
    this.state = "finishing";
    try {
      let etag: string;
      let versionId: string | undefined;
      let parts = 0;
      if (this.uploadId === undefined) {
        const body = this.current ? this.current.subarray(0, this.filled) : new Uint8Array(0);
        ({ etag, versionId } = await this.client.putObject(this.bucket, this.key, body, { contentType: this.options.contentType, retention: this.options.retention }));
      } else {
        if (this.filled > 0) await this.ship();
        await this.settle();
        if (this.failure) throw this.failure;
        parts = this.partNumber;
        const list = this.etags.map((e, i) => ({ partNumber: i + 1, etag: e }));
        const expected = multipartEtag(this.etags);
        try {
          ({ etag, versionId } = await this.client.completeMultipartUpload(this.bucket, this.key, this.uploadId, list));
        } catch (error) {
          // A retried Complete whose first attempt succeeded finds the upload gone: the object tells.
          const head = await this.client.headObject(this.bucket, this.key).catch(() => undefined);
          if (!(isS3Code(error, "NoSuchUpload") && head && head.etag === expected && head.size === this.written)) throw error;
          ({ etag, versionId } = head);
        }
        // One HEAD proves the object is there whole (RGW 16 also answers an empty <ETag>, which HEAD fills in).
        const head = await this.client.headObject(this.bucket, this.key, { versionId });
        if (!head) throw Errors.s3RequestFailed(`${this.where()}: CompleteMultipartUpload succeeded but the object is not there`);
        if (head.size !== this.written) throw Errors.s3RequestFailed(`${this.where()}: the completed object has ${head.size} bytes, ${this.written} were written`);
        etag = etag || head.etag;
        versionId ??= head.versionId;
        // RGW 16 ignores the Object Lock headers of CreateMultipartUpload: the completed object has no retention.
        // Set it now (the object was unprotected for the moment between Complete and this call).
        const wanted = this.options.retention;
        if (wanted && (!head.retention || head.retention.retainUntil < wanted.retainUntil)) {
          await this.client.putObjectRetention(this.bucket, this.key, wanted, { versionId });
        }
      }
      this.state = "done";
      this.pool.length = 0;
      this.current = undefined;
      this.result = { bucket: this.bucket, key: this.key, bytes: this.written, sha256: this.hash.digest("hex"), etag, parts, versionId };
      return this.result;
    } catch (error) {
      this.failure ??= error;
      await this.abort();
      throw error;
    }
  }

  /** Stops the upload and removes its parts; nothing appears under the key. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state === "done" || this.state === "aborted") return;
    this.state = "aborted";
    this.failure ??= Errors.internal(`${this.where()}: the upload was aborted`);
    this.current = undefined;
    this.pool.length = 0;
    await this.settle(); // a part still travelling would otherwise outlive the abort
    if (this.uploadId !== undefined) {
      await this.client.abortMultipartUpload(this.bucket, this.key, this.uploadId).catch((error) => {
        log.warn(`${(error as Error).message} (multipart upload ${this.uploadId} stays; the next backup to this prefix aborts it)`);
      });
    }
  }

  /** A node Writable over this writer (for stream.pipeline); `result` is set once it finished. */
  writable(): Writable {
    return new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Uint8Array, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.finish().then(() => callback(), callback);
      },
      destroy: (error, callback) => {
        if (this.state === "done") return callback(error);
        this.abort().then(
          () => callback(error),
          () => callback(error),
        );
      },
    });
  }
}

function isS3Code(error: unknown, code: string): boolean {
  return error instanceof NetravenError && error.details?.s3_code === code;
}
