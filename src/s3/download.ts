// Reading an object as a stream, so verify and restore work straight from the bucket without a local copy and
// without holding the object in memory: the body is pulled chunk by chunk as the consumer asks (fetch applies TCP
// backpressure to the server while nobody reads). A transfer that stalls (idle timeout) or ends short of its
// Content-Length fails with one line saying how far it got; a truncated object is never passed on as complete.
import { Readable } from "node:stream";
import { Errors, NetravenError } from "../errors.ts";
import type { S3Client } from "./client.ts";
import { describeNetworkError } from "./http.ts";
import { formatS3Url } from "./location.ts";

export interface ObjectStream {
  /** The whole object's size (from Content-Range for a ranged read). */
  size: number;
  /** Bytes this stream will deliver. */
  length: number;
  etag: string;
  /** The body as Uint8Array chunks, pulled on demand. Read it once: either this or `readable()`. */
  chunks: AsyncIterable<Uint8Array>;
  /** The body as a node Readable (for stream.pipeline). */
  readable(): Readable;
  /** Stops the transfer early (the consumer has seen enough). */
  cancel(): Promise<void>;
}

export interface OpenOptions {
  /** Inclusive byte range [first, last]; last omitted = to the end. */
  range?: [number, number?];
  /** Only this version of the object (its ETag): a changed object fails instead of mixing versions. */
  ifMatch?: string;
  versionId?: string;
  /** Abort when no byte arrives for this long. */
  idleTimeoutMs?: number;
}

export async function openObjectStream(client: S3Client, bucket: string, key: string, options: OpenOptions = {}): Promise<ObjectStream> {
  const where = formatS3Url(bucket, key);
  const answer = await client.getObject(bucket, key, { range: options.range, ifMatch: options.ifMatch, versionId: options.versionId });
  const length = Number(answer.headers.get("content-length") ?? Number.NaN);
  if (!Number.isFinite(length)) {
    answer.abort();
    throw Errors.s3RequestFailed(`${where}: GetObject failed: the answer has no Content-Length`);
  }
  const contentRange = answer.headers.get("content-range");
  const size = contentRange ? Number(contentRange.split("/")[1]) : length;
  const etag = (answer.headers.get("etag") ?? "").replace(/^"|"$/g, "");
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const reader = answer.body.getReader();
  let received = 0;
  let consumed = false;

  const lost = (reason: string, cause?: unknown) =>
    Errors.s3RequestFailed(`${where}: the download broke off after ${received} of ${length} bytes: ${reason}`, { cause, details: { action: "GetObject", bucket, received_bytes: received, expected_bytes: length } });

  async function* pull(): AsyncGenerator<Uint8Array> {
    if (consumed) throw Errors.internal(`${where}: the object stream was read twice`);
    consumed = true;
    let finished = false;
    let idle = false;
    try {
      while (true) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await Promise.race([
            reader.read(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                idle = true;
                const timeout = new DOMException(`no data for ${idleTimeoutMs / 1000} s`, "TimeoutError");
                answer.abort(timeout);
                reject(timeout);
              }, idleTimeoutMs);
            }),
          ]);
        } catch (error) {
          if (error instanceof NetravenError) throw error;
          if (idle) throw lost(`no data for ${idleTimeoutMs / 1000} s`, error);
          throw lost(describeNetworkError(error)?.reason ?? (error as Error)?.message ?? String(error), error);
        } finally {
          clearTimeout(timer);
        }
        if (step.done) break;
        received += step.value.length;
        if (received > length) throw lost("the storage sent more bytes than its Content-Length");
        yield step.value;
      }
      if (received !== length) throw lost("the connection ended early");
      finished = true;
    } finally {
      // The consumer stopped early or something failed: release the connection.
      if (!finished) await reader.cancel().catch(() => undefined);
    }
  }

  const chunks = pull();
  return {
    size,
    length,
    etag,
    chunks,
    readable: () => Readable.from(chunks, { objectMode: false, highWaterMark: 64 * 1024 }),
    cancel: async () => {
      await chunks.return(undefined);
      await reader.cancel().catch(() => undefined);
    },
  };
}
