// src/s3/download.ts against a real S3 server: an object is read as a stream with backpressure (a reader that stops
// reading stops the transfer; counted by a proxy between us and RGW), ranged, cancelled early, and a download that is
// cut short or stalls fails with one line instead of passing a truncated object on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { S3Client } from "../../src/s3/client.ts";
import { openObjectStream } from "../../src/s3/download.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { MultipartWriter } from "../../src/s3/upload.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";
import { startS3Proxy } from "../harness/s3proxy.ts";

const MiB = 1024 * 1024;
const FAST_RETRY = { attempts: 3, intervalMs: 20, maxIntervalMs: 50 };
const KEY = "dl/netraven_20261130_030000.sql.gz";

let server: Rgw;
let bucket: string;
let data: Buffer;
let sha256: string;

function client(env: Record<string, string> = {}): S3Client {
  return new S3Client(resolveS3Settings({ ...server.env, ...env }), { retry: FAST_RETRY });
}

async function failure(promise: Promise<unknown>): Promise<NetravenError> {
  try {
    await promise;
  } catch (error) {
    if (isNetravenError(error)) return error;
    throw error;
  }
  throw new Error("expected a failure, got success");
}

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

beforeAll(async () => {
  server = await rgw();
  bucket = await server.createBucket();
  data = randomBytes(32 * MiB);
  sha256 = createHash("sha256").update(data).digest("hex");
  const writer = new MultipartWriter(client(), bucket, KEY);
  await writer.write(data);
  await writer.finish();
}, 180_000);

afterAll(async () => {
  if (bucket) await server.deleteBucket(bucket);
});

describe("streaming GetObject", () => {
  test("as async chunks: every byte, SHA-256 equal, size and length from the answer", async () => {
    const stream = await openObjectStream(client(), bucket, KEY);
    expect(stream.size).toBe(data.length);
    expect(stream.length).toBe(data.length);
    expect(stream.etag).toMatch(/-\d+$/);
    expect(await drain(stream.chunks)).toEqual({ bytes: data.length, sha256 });
  });

  test("as a node Readable through stream.pipeline", async () => {
    const stream = await openObjectStream(client(), bucket, KEY);
    const hash = createHash("sha256");
    await pipeline(stream.readable(), new Writable({ write: (chunk, _e, cb) => (hash.update(chunk), cb()) }));
    expect(hash.digest("hex")).toBe(sha256);
  });

  test("backpressure: while the reader pauses, the transfer stops far short of the object (bytes counted by a proxy)", async () => {
    const proxy = await startS3Proxy(server.endpoint);
    try {
      const stream = await openObjectStream(client({ AWS_ENDPOINT_URL_S3: proxy.url }), bucket, KEY);
      const iterator = stream.chunks[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const duringPause = proxy.bytesToClient;
      // Kernel socket buffers and the runtime's read-ahead hold a few MiB at most: far from the 32 MiB object.
      expect(duringPause).toBeLessThan(16 * MiB);
      const hash = createHash("sha256").update(first.value!);
      let bytes = first.value!.length;
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
        hash.update(step.value);
        bytes += step.value.length;
      }
      expect({ bytes, sha256: hash.digest("hex") }).toEqual({ bytes: data.length, sha256 });
      expect(proxy.bytesToClient).toBe(data.length);
    } finally {
      await proxy.close();
    }
  });

  test("a ranged stream delivers exactly that slice and reports the whole size", async () => {
    const stream = await openObjectStream(client(), bucket, KEY, { range: [5 * MiB - 10, 5 * MiB + 9] });
    expect(stream.size).toBe(data.length);
    expect(stream.length).toBe(20);
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream.chunks) chunks.push(chunk);
    expect(new Uint8Array(Buffer.concat(chunks))).toEqual(new Uint8Array(data.subarray(5 * MiB - 10, 5 * MiB + 10)));
  });

  test("ifMatch with another ETag fails (the object changed between reads) instead of mixing versions", async () => {
    const error = await failure(openObjectStream(client(), bucket, KEY, { ifMatch: "0123456789abcdef0123456789abcdef" }));
    expect(error.code).toBe("S3_REQUEST_FAILED");
    expect(error.message).toStartWith(`s3://${bucket}/${KEY}: GetObject failed: HTTP 412 PreconditionFailed`);
  });

  test("cancel after the first chunk releases the connection; the client keeps working", async () => {
    const s3 = client();
    const stream = await openObjectStream(s3, bucket, KEY);
    const iterator = stream.chunks[Symbol.asyncIterator]();
    await iterator.next();
    await stream.cancel();
    expect((await s3.headObject(bucket, KEY))?.size).toBe(data.length);
    const again = await openObjectStream(s3, bucket, KEY, { range: [0, 9] });
    expect((await drain(again.chunks)).bytes).toBe(10);
  });
});

describe("a broken download never passes as complete", () => {
  test("connection cut after 3 MiB: one line saying how far it got (S3_REQUEST_FAILED, exit 8)", async () => {
    const proxy = await startS3Proxy(server.endpoint, { cutAfterBytes: 3 * MiB });
    try {
      const stream = await openObjectStream(client({ AWS_ENDPOINT_URL_S3: proxy.url }), bucket, KEY);
      const error = await failure(drain(stream.chunks));
      expect(error.code).toBe("S3_REQUEST_FAILED");
      expect(error.exitStatus).toBe(8);
      // Up to the cut (a reset may drop the last bytes in flight), never the whole object.
      const match = error.message.match(new RegExp(`^s3://${bucket}/${KEY.replace(/\./g, "\\.")}: the download broke off after (\\d+) of ${data.length} bytes: (the connection ended early|connection reset by the server|the server closed the connection)$`));
      expect(match).not.toBeNull();
      const received = Number(match![1]);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThanOrEqual(3 * MiB);
      expect(error.details).toMatchObject({ received_bytes: received, expected_bytes: data.length });
    } finally {
      await proxy.close();
    }
  });

  test("a transfer that stalls runs into the idle timeout", async () => {
    const proxy = await startS3Proxy(server.endpoint, { stallAfterBytes: 1 * MiB });
    try {
      const stream = await openObjectStream(client({ AWS_ENDPOINT_URL_S3: proxy.url }), bucket, KEY, { idleTimeoutMs: 700 });
      const error = await failure(drain(stream.chunks));
      expect(error.code).toBe("S3_REQUEST_FAILED");
      expect(error.message).toEndWith(`: the download broke off after ${1 * MiB} of ${data.length} bytes: no data for 0.7 s`);
    } finally {
      await proxy.close();
    }
  });

  test("a missing object fails before any byte: S3_OBJECT_NOT_FOUND", async () => {
    const error = await failure(openObjectStream(client(), bucket, "dl/netraven_19990101_000000.sql.gz"));
    expect(error.code).toBe("S3_OBJECT_NOT_FOUND");
  });
});
