// src/s3/upload.ts and src/s3/stale.ts against a real S3 server: a streamed multipart upload arrives whole (an
// independent client, the AWS CLI, downloads it and sha256sum agrees with the SHA-256 the writer computed), an
// aborted or failed upload leaves nothing under its key and no parts behind, Object Lock retention is set on the
// object, and the uploads a killed backup leaves are found and aborted by the next one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { S3Client, type RequestEvent } from "../../src/s3/client.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { abortStaleUploads } from "../../src/s3/stale.ts";
import { MIN_PART_SIZE, multipartEtag, MultipartWriter } from "../../src/s3/upload.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";
import { slowDown, startS3Proxy } from "../harness/s3proxy.ts";

const AWS = "/usr/bin/aws";
const MiB = 1024 * 1024;
const FAST_RETRY = { attempts: 3, intervalMs: 20, maxIntervalMs: 50 };

let server: Rgw;
let bucket: string;
let locked: string;
let scratch: string;

function client(env: Record<string, string> = {}, options: ConstructorParameters<typeof S3Client>[1] = {}): S3Client {
  return new S3Client(resolveS3Settings({ ...server.env, ...env }), { retry: FAST_RETRY, ...options });
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

/** Writes `data` in uneven chunks, as a compressor would hand them over. */
async function writeUneven(writer: MultipartWriter, data: Uint8Array): Promise<void> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = [65_536, 1_000_003, 7, 300_000, 2 * MiB + 1][i++ % 5]!;
    await writer.write(data.subarray(offset, offset + size));
    offset += size;
  }
}

/** The AWS CLI v2 from Debian with a private config: path-style addressing, our endpoint and keys. */
function aws(args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(AWS)) throw new Error(`${AWS} is missing: apt-get install -y awscli (.ci/run installs it)`);
  const result = spawnSync(AWS, ["--endpoint-url", server.endpoint, ...args], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: scratch,
      AWS_CONFIG_FILE: join(scratch, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(scratch, "aws-credentials"),
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_DEFAULT_REGION: server.region,
    },
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function pendingUploads(name: string, prefix: string): Promise<string[]> {
  return (await client().listMultipartUploads(name, prefix)).map((u) => u.key);
}

beforeAll(async () => {
  server = await rgw();
  bucket = await server.createBucket();
  locked = await server.createBucket({ objectLock: true });
  scratch = mkdtempSync(join(tmpdir(), "netraven-s3up-"));
  writeFileSync(join(scratch, "aws-config"), "[default]\ns3 =\n  addressing_style = path\n");
}, 180_000);

afterAll(async () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (bucket) await server.deleteBucket(bucket);
  if (locked) await server.deleteBucket(locked);
});

describe("streamed multipart upload", () => {
  test("~30 MiB in 5 MiB parts: SHA-256 and size as written; the AWS CLI downloads the same bytes (sha256sum)", async () => {
    const data = randomBytes(30 * MiB + 12_345);
    const events: RequestEvent[] = [];
    const writer = new MultipartWriter(client({}, { onRequest: (e) => events.push(e) }), bucket, "mp/netraven_20261130_030000.sql.gz", { partSize: MIN_PART_SIZE, partsInFlight: 2 });
    await writeUneven(writer, data);
    const result = await writer.finish();
    const sha256 = createHash("sha256").update(data).digest("hex");
    expect(result).toMatchObject({ bucket, key: "mp/netraven_20261130_030000.sql.gz", bytes: data.length, sha256, parts: 7 });
    expect(result.etag).toMatch(/^[0-9a-f]{32}-7$/);
    const actions = events.map((e) => e.action);
    expect(actions.filter((a) => a === "UploadPart").length).toBe(7);
    expect(actions[0]).toBe("CreateMultipartUpload");
    expect(actions.filter((a) => a === "CompleteMultipartUpload").length).toBe(1);

    const head = aws(["s3api", "head-object", "--bucket", bucket, "--key", result.key, "--output", "json"]);
    expect(head.status).toBe(0);
    expect(JSON.parse(head.stdout)).toMatchObject({ ContentLength: data.length, ETag: `"${result.etag}"` });
    const file = join(scratch, "download.bin");
    const copy = aws(["s3", "cp", "--only-show-errors", `s3://${bucket}/${result.key}`, file]);
    expect(copy.stderr).toBe("");
    expect(copy.status).toBe(0);
    const sum = spawnSync("sha256sum", [file], { encoding: "utf8" });
    expect(sum.stdout.split(" ")[0]).toBe(result.sha256);
    rmSync(file);
  }, 120_000);

  test("multipartEtag computes the ETag S3 gives a multipart object from the part ETags", async () => {
    const s3 = client();
    const id = await s3.createMultipartUpload(bucket, "mp/etag");
    const parts = [await s3.uploadPart(bucket, "mp/etag", id, 1, randomBytes(MIN_PART_SIZE)), await s3.uploadPart(bucket, "mp/etag", id, 2, randomBytes(10))];
    await s3.completeMultipartUpload(bucket, "mp/etag", id, parts.map((etag, i) => ({ partNumber: i + 1, etag })));
    expect((await s3.headObject(bucket, "mp/etag"))?.etag).toBe(multipartEtag(parts));
  });

  test("an object smaller than one part is a single PutObject (no multipart upload), empty ones too", async () => {
    for (const size of [0, 1, 100_000]) {
      const data = randomBytes(size);
      const events: RequestEvent[] = [];
      const writer = new MultipartWriter(client({}, { onRequest: (e) => events.push(e) }), bucket, `small/${size}`);
      await writer.write(data);
      const result = await writer.finish();
      expect(result).toMatchObject({ bytes: size, parts: 0, sha256: createHash("sha256").update(data).digest("hex"), etag: createHash("md5").update(data).digest("hex") });
      expect(events.map((e) => e.action)).toEqual(["PutObject"]);
      expect((await client().headObject(bucket, `small/${size}`))?.size).toBe(size);
    }
  });

  test("as a node Writable at the end of stream.pipeline; result set after the pipeline ends", async () => {
    const data = randomBytes(11 * MiB);
    const writer = new MultipartWriter(client(), bucket, "mp/piped", { partSize: MIN_PART_SIZE });
    await pipeline(Readable.from((function* () {
      for (let i = 0; i < data.length; i += 256 * 1024) yield data.subarray(i, i + 256 * 1024);
    })()), writer.writable());
    expect(writer.result).toMatchObject({ bytes: data.length, parts: 3, sha256: createHash("sha256").update(data).digest("hex") });
  });

  test("a throttled UploadPart (503 SlowDown from a proxy in front of RGW) is retried and the object completes", async () => {
    let parts = 0;
    const proxy = await startS3Proxy(server.endpoint, { inject: (req) => (req.method === "PUT" && req.url?.includes("partNumber=") && ++parts === 2 ? slowDown() : undefined) });
    try {
      const data = randomBytes(12 * MiB);
      const writer = new MultipartWriter(client({ AWS_ENDPOINT_URL_S3: proxy.url }), bucket, "mp/throttled", { partSize: MIN_PART_SIZE });
      await writeUneven(writer, data);
      const result = await writer.finish();
      expect(result.sha256).toBe(createHash("sha256").update(data).digest("hex"));
      expect(proxy.requests.filter((r) => r.url.includes("partNumber=")).length).toBe(4); // 3 parts + 1 retry
      expect(proxy.requests.filter((r) => r.injected).length).toBe(1);
      expect((await client().headObject(bucket, "mp/throttled"))?.size).toBe(data.length);
    } finally {
      await proxy.close();
    }
  });
});

describe("nothing under the final key unless complete", () => {
  test("abort() after parts were uploaded: no object, no multipart upload left", async () => {
    const writer = new MultipartWriter(client(), bucket, "abort/netraven_x.sql.gz", { partSize: MIN_PART_SIZE });
    await writer.write(randomBytes(12 * MiB));
    expect(writer.multipartUploadId).toBeString();
    expect(await pendingUploads(bucket, "abort/")).toEqual(["abort/netraven_x.sql.gz"]);
    await writer.abort();
    await writer.abort(); // twice is fine
    expect(await client().headObject(bucket, "abort/netraven_x.sql.gz")).toBeUndefined();
    expect(await pendingUploads(bucket, "abort/")).toEqual([]);
    expect(await client().listObjects(bucket, "abort/")).toEqual([]);
    await expect(writer.write(new Uint8Array(1))).rejects.toThrow("the upload was aborted");
  });

  test("a part refused mid-upload (AccessDenied from the proxy): finish fails with that error, nothing is left", async () => {
    let parts = 0;
    const denied = { status: 403, body: "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>" };
    const proxy = await startS3Proxy(server.endpoint, { inject: (req) => (req.method === "PUT" && req.url?.includes("partNumber=") && ++parts === 3 ? denied : undefined) });
    try {
      const writer = new MultipartWriter(client({ AWS_ENDPOINT_URL_S3: proxy.url }), bucket, "fail/netraven_y.sql.gz", { partSize: MIN_PART_SIZE, partsInFlight: 1 });
      const error = await failure((async () => {
        await writeUneven(writer, randomBytes(22 * MiB));
        await writer.finish();
      })());
      expect(error.code).toBe("S3_ACCESS_DENIED");
      expect(error.message).toBe(`s3://${bucket}/fail/netraven_y.sql.gz: access denied for UploadPart (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the key's permissions)`);
      await writer.abort(); // what a caller does after a failed write
      expect(await client().headObject(bucket, "fail/netraven_y.sql.gz")).toBeUndefined();
      expect(await pendingUploads(bucket, "fail/")).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  test("an upload aborted by someone else fails with one line at the next part; nothing appears", async () => {
    const writer = new MultipartWriter(client(), bucket, "gone/netraven_z.sql.gz", { partSize: MIN_PART_SIZE, partsInFlight: 1 });
    await writer.write(randomBytes(6 * MiB));
    await client().abortMultipartUpload(bucket, "gone/netraven_z.sql.gz", writer.multipartUploadId!);
    const error = await failure((async () => {
      await writer.write(randomBytes(6 * MiB));
      await writer.finish();
    })());
    expect(error.code).toBe("S3_REQUEST_FAILED");
    expect(error.message).toBe(`s3://${bucket}/gone/netraven_z.sql.gz: UploadPart failed: the multipart upload is gone (aborted by someone else, or expired)`);
    expect(await client().headObject(bucket, "gone/netraven_z.sql.gz")).toBeUndefined();
  });
});

describe("the storage going away mid-upload", () => {
  test("the endpoint stops answering: retried, then S3_UNREACHABLE (exit 4); no object under the key; the parts are cleaned up later", async () => {
    const proxy = await startS3Proxy(server.endpoint);
    const key = "down/netraven_20261130_030000.sql.gz";
    const writer = new MultipartWriter(client({ AWS_ENDPOINT_URL_S3: proxy.url }), bucket, key, { partSize: MIN_PART_SIZE, partsInFlight: 1 });
    await writer.write(randomBytes(6 * MiB)); // one part sent, through the proxy
    await proxy.close(); // the "server" is gone: connections are refused from now on
    const error = await failure((async () => {
      await writer.write(randomBytes(6 * MiB));
      await writer.finish();
    })());
    expect(error.code).toBe("S3_UNREACHABLE");
    expect(error.exitStatus).toBe(4);
    expect(error.message).toMatch(new RegExp(`^s3://${bucket}/down/netraven_20261130_030000\\.sql\\.gz: cannot reach ${proxy.url.replace(/\./g, "\\.")} for UploadPart: connection refused .*; gave up after 3 attempts over \\d+\\.\\d s$`));
    await writer.abort(); // cannot reach the storage either: a warning, the upload stays for the next run
    expect(await client().headObject(bucket, key)).toBeUndefined();
    expect(await pendingUploads(bucket, "down/")).toEqual([key]);
    const cleaned = await abortStaleUploads(client(), bucket, "down/", { now: new Date(Date.now() + 2 * 60 * 60 * 1000) });
    expect(cleaned.map((u) => u.key)).toEqual([key]);
    expect(await pendingUploads(bucket, "down/")).toEqual([]);
  });

  test("a writer killed with -9 mid-upload leaves no object, only a multipart upload that the next run aborts", async () => {
    const key = "killed/netraven_20261130_030000.sql.gz";
    const child = spawn(process.execPath, [join(import.meta.dir, "fixtures", "upload-memory.ts")], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...server.env, BUCKET: bucket, KEY: key, SIZE_MIB: "400" },
      stdio: "ignore",
    });
    try {
      // Wait until at least one part is up, then kill it without a chance to clean up.
      const deadline = Date.now() + 60_000;
      let parts = 0;
      while (parts === 0 && Date.now() < deadline) {
        const [upload] = await client().listMultipartUploads(bucket, "killed/");
        if (upload) parts = (await client().listParts(bucket, key, upload.uploadId)).length;
        if (parts === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(parts).toBeGreaterThan(0);
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    expect(await client().headObject(bucket, key)).toBeUndefined();
    expect(await client().listObjects(bucket, "killed/")).toEqual([]);
    expect(await pendingUploads(bucket, "killed/")).toEqual([key]);
    const match = (k: string) => /\/netraven_\d{8}_\d{6}\.sql\.gz$/.test(k);
    const cleaned = await abortStaleUploads(client(), bucket, "killed/", { match, now: new Date(Date.now() + 2 * 60 * 60 * 1000) });
    expect(cleaned.map((u) => u.key)).toEqual([key]);
    expect(await pendingUploads(bucket, "killed/")).toEqual([]);
  }, 120_000);
});

describe("Object Lock retention on uploads", () => {
  test("a multipart upload and a small one both carry the asked retention", async () => {
    const retainUntil = new Date(Math.ceil((Date.now() + 2 * 60 * 60 * 1000) / 1000) * 1000);
    const big = new MultipartWriter(client(), locked, "lock/netraven_big.sql.gz", { partSize: MIN_PART_SIZE, retention: { mode: "COMPLIANCE", retainUntil } });
    await big.write(randomBytes(6 * MiB));
    const bigResult = await big.finish();
    expect(bigResult.parts).toBe(2);
    expect(bigResult.versionId).toBeString();
    const small = new MultipartWriter(client(), locked, "lock/netraven_big.sql.gz.json", { retention: { mode: "GOVERNANCE", retainUntil } });
    await small.write(new TextEncoder().encode("{}"));
    await small.finish();
    expect(await client().getObjectRetention(locked, "lock/netraven_big.sql.gz")).toEqual({ mode: "COMPLIANCE", retainUntil });
    expect(await client().getObjectRetention(locked, "lock/netraven_big.sql.gz.json")).toEqual({ mode: "GOVERNANCE", retainUntil });
    expect((await failure(client().deleteObject(locked, "lock/netraven_big.sql.gz", { versionId: bigResult.versionId }))).code).toBe("S3_ACCESS_DENIED");
  });
});

describe("stale multipart uploads (a backup killed with -9 leaves one)", () => {
  test("only idle uploads under the prefix that match are aborted; fresh ones, kept ones and other prefixes stay", async () => {
    const s3 = client();
    const stale = await s3.createMultipartUpload(bucket, "stale/netraven_20261129_030000.sql.gz");
    await s3.uploadPart(bucket, "stale/netraven_20261129_030000.sql.gz", stale, 1, randomBytes(MIN_PART_SIZE));
    const otherTool = await s3.createMultipartUpload(bucket, "stale/someone-elses.bin");
    const kept = await s3.createMultipartUpload(bucket, "stale/netraven_20261130_030000.sql.gz");
    const elsewhere = await s3.createMultipartUpload(bucket, "other/netraven_20261129_030000.sql.gz");
    const match = (key: string) => /\/netraven_\d{8}_\d{6}\.sql\.gz$/.test(key);

    // Just started: nothing is idle yet.
    expect(await abortStaleUploads(s3, bucket, "stale/", { match })).toEqual([]);
    // Two hours later (the clock is an input): the idle, matching upload goes; the kept one and the other tool's stay.
    const later = new Date(Date.now() + 2 * 60 * 60 * 1000);
    const aborted = await abortStaleUploads(s3, bucket, "stale/", { match, keep: new Set([kept]), now: later });
    expect(aborted.map((u) => [u.key, u.uploadId])).toEqual([["stale/netraven_20261129_030000.sql.gz", stale]]);
    expect((await pendingUploads(bucket, "stale/")).sort()).toEqual(["stale/netraven_20261130_030000.sql.gz", "stale/someone-elses.bin"]);
    expect(await pendingUploads(bucket, "other/")).toEqual(["other/netraven_20261129_030000.sql.gz"]);
    for (const [key, id] of [["stale/someone-elses.bin", otherTool], ["stale/netraven_20261130_030000.sql.gz", kept], ["other/netraven_20261129_030000.sql.gz", elsewhere]] as const) {
      await s3.abortMultipartUpload(bucket, key, id);
    }
  });

  test("an old upload with a recent part is alive, not stale", async () => {
    const s3 = client();
    const id = await s3.createMultipartUpload(bucket, "alive/netraven_20261130_030000.sql.gz");
    await s3.uploadPart(bucket, "alive/netraven_20261130_030000.sql.gz", id, 1, randomBytes(10));
    const [upload] = await s3.listMultipartUploads(bucket, "alive/");
    const [part] = await s3.listParts(bucket, "alive/netraven_20261130_030000.sql.gz", id);
    // 61 minutes after the start but only 59 after the last part (as if the part had come later).
    const idleMs = 60 * 60 * 1000;
    const now = new Date(upload!.initiated.getTime() + idleMs + 60_000);
    const lastPart = part!.lastModified.getTime();
    const verdict = await abortStaleUploads(s3, bucket, "alive/", { idleMs, now: new Date(Math.min(now.getTime(), lastPart + idleMs - 60_000)) });
    expect(verdict).toEqual([]);
    expect(await pendingUploads(bucket, "alive/")).toEqual(["alive/netraven_20261130_030000.sql.gz"]);
    const gone = await abortStaleUploads(s3, bucket, "alive/", { idleMs, now: new Date(lastPart + idleMs + 1000) });
    expect(gone.map((u) => u.lastActivity.getTime())).toEqual([lastPart]);
    expect(await pendingUploads(bucket, "alive/")).toEqual([]);
  });
});

test("the secret key never appears in any error message of these tests' failures", async () => {
  const error = await failure(client({ AWS_SECRET_ACCESS_KEY: `${server.secretAccessKey}x` }).putObject(bucket, "k", new Uint8Array(1)));
  expect(error.message).not.toContain(server.secretAccessKey);
  expect(JSON.stringify(error.details)).not.toContain(server.secretAccessKey);
  expect(readFileSync("/proc/self/cmdline", "utf8")).not.toContain(server.secretAccessKey);
});
