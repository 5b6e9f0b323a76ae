// src/s3/client.ts against a real S3 server (Ceph RGW, tests/harness/rgw.ts), which checks every signature: the
// operations the backups need, how refusals are classified (exit 5 at once, no retry), and that an endpoint that does
// not answer is retried and then given up on (exit 4). Faults a healthy server never shows (503 SlowDown) come from a
// small proxy in front of the real server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { EXIT, isNetravenError, type NetravenError } from "../../src/errors.ts";
import { classifyAnswer } from "../../src/s3/classify.ts";
import { parseErrorDocument, S3Client, type RequestEvent } from "../../src/s3/client.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { freePort } from "../harness/cluster.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";
import { slowDown, startS3Proxy } from "../harness/s3proxy.ts";

const FAST_RETRY = { attempts: 3, intervalMs: 20, maxIntervalMs: 50 };
const bytes = (text: string) => new TextEncoder().encode(text);

let server: Rgw;
let bucket: string;

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

beforeAll(async () => {
  server = await rgw();
  bucket = await server.createBucket();
}, 180_000);

afterAll(async () => {
  if (bucket) await server.deleteBucket(bucket);
});

describe("objects", () => {
  test("PutObject, HeadObject and GetObject round-trip bytes and report size and ETag", async () => {
    const s3 = client();
    const body = bytes("hello, object storage\n");
    const put = await s3.putObject(bucket, "rt/hello.txt", body);
    expect(put.etag).toBe(createHash("md5").update(body).digest("hex"));
    const head = await s3.headObject(bucket, "rt/hello.txt");
    expect(head?.size).toBe(body.length);
    expect(head?.etag).toBe(put.etag);
    const got = await s3.getObject(bucket, "rt/hello.txt");
    expect(new Uint8Array(await new Response(got.body).arrayBuffer())).toEqual(body);
  });

  test("keys with spaces and reserved characters are signed and stored as given", async () => {
    const s3 = client();
    const key = "odd keys/a b+c!(x)*'=&?#%.txt";
    await s3.putObject(bucket, key, bytes("odd"));
    const listed = await s3.listObjects(bucket, "odd keys/");
    expect(listed.map((o) => o.key)).toEqual([key]);
    expect(await new Response((await s3.getObject(bucket, key)).body).text()).toBe("odd");
    await s3.deleteObject(bucket, key);
    expect(await s3.listObjects(bucket, "odd keys/")).toEqual([]);
  });

  test("HeadObject of a missing key is undefined; of a missing bucket it is S3_BUCKET_NOT_FOUND", async () => {
    const s3 = client();
    expect(await s3.headObject(bucket, "rt/no-such-key")).toBeUndefined();
    const error = await failure(s3.headObject(`${bucket}-missing`, "k"));
    expect(error.code).toBe("S3_BUCKET_NOT_FOUND");
  });

  test("ranged GET returns exactly the asked bytes (206, Content-Range)", async () => {
    const s3 = client();
    const body = new Uint8Array(100_000).map((_, i) => i % 251);
    await s3.putObject(bucket, "rt/range.bin", body);
    const got = await s3.getObject(bucket, "rt/range.bin", { range: [1000, 1999] });
    expect(got.status).toBe(206);
    expect(got.headers.get("content-range")).toBe("bytes 1000-1999/100000");
    expect(new Uint8Array(await new Response(got.body).arrayBuffer())).toEqual(body.subarray(1000, 2000));
    const tail = await s3.getObject(bucket, "rt/range.bin", { range: [99_990] });
    expect(new Uint8Array(await new Response(tail.body).arrayBuffer())).toEqual(body.subarray(99_990));
  });

  test("GetObject of a missing key is S3_OBJECT_NOT_FOUND (exit 8), not retried", async () => {
    const events: RequestEvent[] = [];
    const error = await failure(client({}, { onRequest: (e) => events.push(e) }).getObject(bucket, "rt/missing.sql.gz"));
    expect(error.code).toBe("S3_OBJECT_NOT_FOUND");
    expect(error.exitStatus).toBe(EXIT.IO);
    expect(error.message).toBe(`s3://${bucket}/rt/missing.sql.gz: no such object`);
    expect(events.length).toBe(1);
  });

  test("DeleteObjects removes a batch and reports per key", async () => {
    const s3 = client();
    for (const name of ["a", "b", "c"]) await s3.putObject(bucket, `del/${name}`, bytes(name));
    const result = await s3.deleteObjects(bucket, ["a", "b", "c"].map((n) => ({ key: `del/${n}` })));
    expect(result.deleted.sort()).toEqual(["del/a", "del/b", "del/c"]);
    expect(result.errors).toEqual([]);
    expect(await s3.listObjects(bucket, "del/")).toEqual([]);
  });
});

describe("ListObjectsV2", () => {
  test("pages with a small page size: one request per page, every key once, in order", async () => {
    const s3 = client();
    const keys = Array.from({ length: 7 }, (_, i) => `page/netraven_2026113${i}_030000.sql.gz`);
    for (const key of keys) await s3.putObject(bucket, key, bytes(key));
    const events: RequestEvent[] = [];
    const counting = client({}, { onRequest: (e) => events.push(e) });
    const pages = [];
    for await (const page of counting.listObjectPages(bucket, "page/", { pageSize: 3 })) pages.push(page);
    expect(pages.map((p) => p.objects.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.truncated)).toEqual([true, true, false]);
    expect(pages.flatMap((p) => p.objects.map((o) => o.key))).toEqual(keys);
    expect(events.map((e) => e.action)).toEqual(["ListObjectsV2", "ListObjectsV2", "ListObjectsV2"]);
    expect(pages[0]!.objects[0]!.size).toBe(keys[0]!.length);
  });

  test("a delimiter lists the 'directories' as prefixes", async () => {
    const s3 = client();
    await s3.putObject(bucket, "tree/x/1", bytes("1"));
    await s3.putObject(bucket, "tree/y/2", bytes("2"));
    await s3.putObject(bucket, "tree/top", bytes("t"));
    const [page] = await Array.fromAsync(s3.listObjectPages(bucket, "tree/", { delimiter: "/" }));
    expect(page!.prefixes).toEqual(["tree/x/", "tree/y/"]);
    expect(page!.objects.map((o) => o.key)).toEqual(["tree/top"]);
  });

  test("an empty prefix lists nothing in one request", async () => {
    const events: RequestEvent[] = [];
    expect(await client({}, { onRequest: (e) => events.push(e) }).listObjects(bucket, "nothing-here/")).toEqual([]);
    expect(events.length).toBe(1);
  });
});

describe("refusals fail at once with exit 5 and one line naming the bucket and the action", () => {
  test("wrong secret key: SignatureDoesNotMatch (RGW's empty <Message>) -> S3_AUTH_FAILED, one request", async () => {
    const events: RequestEvent[] = [];
    const wrong = "wrong-secret-0123456789abcdefghij";
    const error = await failure(client({ AWS_SECRET_ACCESS_KEY: wrong }, { onRequest: (e) => events.push(e) }).putObject(bucket, "auth/x", bytes("x")));
    expect(error.code).toBe("S3_AUTH_FAILED");
    expect(error.exitStatus).toBe(EXIT.AUTH);
    expect(error.message).toBe(`s3://${bucket}/auth/x: the request signature does not match for PutObject: the secret key is wrong (check AWS_SECRET_ACCESS_KEY for access key "${server.accessKeyId}")`);
    expect(error.details).toMatchObject({ s3_code: "SignatureDoesNotMatch", http_status: 403 });
    expect(events.length).toBe(1);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(server.secretAccessKey);
  });

  test("unknown access key: InvalidAccessKeyId -> S3_AUTH_FAILED naming AWS_ACCESS_KEY_ID", async () => {
    const error = await failure(client({ AWS_ACCESS_KEY_ID: "NOSUCHACCESSKEY" }).listObjects(bucket, ""));
    expect(error.code).toBe("S3_AUTH_FAILED");
    expect(error.message).toBe(`s3://${bucket}/: the storage does not know access key "NOSUCHACCESSKEY" (ListObjectsV2; check AWS_ACCESS_KEY_ID)`);
  });

  test("anonymous request: RGW's real 403 AccessDenied classifies as S3_ACCESS_DENIED (exit 5)", async () => {
    await client().putObject(bucket, "anon/x", bytes("x"));
    const response = await fetch(`${server.endpoint}/${bucket}/anon/x`);
    const answer = { status: response.status, ...parseErrorDocument(await response.text()) };
    expect(answer).toEqual({ status: 403, code: "AccessDenied" });
    const verdict = classifyAnswer(answer, { action: "GetObject", where: `s3://${bucket}/anon/x`, bucket, accessKeyId: "-", region: "us-east-1" });
    expect(verdict.retry).toBe(false);
    if (verdict.retry) return;
    expect(verdict.error.code).toBe("S3_ACCESS_DENIED");
    expect(verdict.error.exitStatus).toBe(EXIT.AUTH);
    expect(verdict.error.message).toBe(`s3://${bucket}/anon/x: access denied for GetObject (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the key's permissions)`);
  });

  test("another user's bucket: AccessDenied for PutObject -> S3_ACCESS_DENIED at once", async () => {
    const other = await server.admin(["user", "create", "--uid=netraven-other", "--display-name=other", "--access-key=NRTESTOTHERKEY00001", "--secret-key=other-secret-key-0000000000000001"]).catch(() => "");
    expect(other === "" || other.includes("netraven-other")).toBe(true);
    const events: RequestEvent[] = [];
    const error = await failure(client({ AWS_ACCESS_KEY_ID: "NRTESTOTHERKEY00001", AWS_SECRET_ACCESS_KEY: "other-secret-key-0000000000000001" }, { onRequest: (e) => events.push(e) }).putObject(bucket, "p/x", bytes("x")));
    expect(error.code).toBe("S3_ACCESS_DENIED");
    expect(error.message).toBe(`s3://${bucket}/p/x: access denied for PutObject (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the key's permissions)`);
    expect(events.length).toBe(1);
  });

  test("missing bucket: NoSuchBucket -> S3_BUCKET_NOT_FOUND (exit 5), one request", async () => {
    const events: RequestEvent[] = [];
    const error = await failure(client({}, { onRequest: (e) => events.push(e) }).putObject("netraven-no-such-bucket", "p/x", bytes("x")));
    expect(error.code).toBe("S3_BUCKET_NOT_FOUND");
    expect(error.exitStatus).toBe(EXIT.AUTH);
    expect(error.message).toBe("s3://netraven-no-such-bucket: no such bucket (PutObject; check the bucket name, AWS_ENDPOINT_URL_S3 and AWS_REGION)");
    expect(events.length).toBe(1);
  });
});

describe("an endpoint that does not answer is retried, then given up on with exit 4", () => {
  test("connection refused: every attempt made, then S3_UNREACHABLE with a one-line give-up message", async () => {
    const port = await freePort(); // nothing listens there
    const events: RequestEvent[] = [];
    const s3 = client({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` }, { onRequest: (e) => events.push(e) });
    const error = await failure(s3.listObjects(bucket, "p/"));
    expect(error.code).toBe("S3_UNREACHABLE");
    expect(error.exitStatus).toBe(EXIT.CONNECT);
    expect(error.message).toMatch(
      new RegExp(`^s3://${bucket}/p/: cannot reach http://127\\.0\\.0\\.1:${port} for ListObjectsV2: connection refused \\(is the endpoint running and listening there\\?\\); gave up after 3 attempts over \\d+\\.\\d s$`),
    );
    expect(error.message).not.toContain("\n");
    expect(events.map((e) => [e.attempt, e.status])).toEqual([[1, undefined], [2, undefined], [3, undefined]]);
  });

  test("a host name that does not resolve is retried the same way", async () => {
    const error = await failure(client({ AWS_ENDPOINT_URL_S3: "http://netraven-no-such-host.invalid:7480" }, { retry: { attempts: 2, intervalMs: 10, maxIntervalMs: 10 } }).headBucket(bucket));
    expect(error.code).toBe("S3_UNREACHABLE");
    expect(error.message).toContain("host name does not resolve");
    expect(error.message).toContain("gave up after 2 attempts");
  });

  test("an endpoint that accepts but never answers runs into the request timeout, then gives up", async () => {
    const { createServer } = await import("node:net");
    const sockets = new Set<import("node:net").Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as import("node:net").AddressInfo).port;
      const error = await failure(client({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` }, { retry: { attempts: 2, intervalMs: 10, maxIntervalMs: 10 }, timeoutMs: 300 }).headObject(bucket, "k"));
      expect(error.code).toBe("S3_UNREACHABLE");
      expect(error.message).toContain("no answer before the request timeout; gave up after 2 attempts");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("throttling and 5xx are retried with backoff (real server behind a proxy that injects them)", () => {
  test("503 SlowDown twice, then the real answer: the call succeeds on the third attempt", async () => {
    const proxy = await startS3Proxy(server.endpoint, { inject: (_req, index) => (index < 2 ? slowDown() : undefined) });
    try {
      const events: RequestEvent[] = [];
      const s3 = client({ AWS_ENDPOINT_URL_S3: proxy.url }, { onRequest: (e) => events.push(e) });
      await s3.putObject(bucket, "throttle/x", bytes("through the proxy"));
      expect(events.map((e) => e.status)).toEqual([503, 503, 200]);
      expect(proxy.requests.map((r) => r.injected)).toEqual([true, true, false]);
      expect(await new Response((await client().getObject(bucket, "throttle/x")).body).text()).toBe("through the proxy");
    } finally {
      await proxy.close();
    }
  });

  test("a storage that keeps answering 5xx gives up with S3_UNREACHABLE naming the answer", async () => {
    const proxy = await startS3Proxy(server.endpoint, { inject: () => ({ status: 500, body: "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>" }) });
    try {
      const error = await failure(client({ AWS_ENDPOINT_URL_S3: proxy.url }).headObject(bucket, "k"));
      expect(error.code).toBe("S3_UNREACHABLE");
      expect(error.message).toMatch(/: the storage at http:\/\/127\.0\.0\.1:\d+ kept failing HeadObject: the storage answered HTTP 500; gave up after 3 attempts over \d+\.\d s$/);
      expect(proxy.requests.length).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  test("501 NotImplemented is not retried (it never heals)", async () => {
    const proxy = await startS3Proxy(server.endpoint, { inject: () => ({ status: 501, body: "<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>" }) });
    try {
      const error = await failure(client({ AWS_ENDPOINT_URL_S3: proxy.url }).putObject(bucket, "k", bytes("x")));
      expect(error.code).toBe("S3_REQUEST_FAILED");
      expect(error.message).toBe(`s3://${bucket}/k: PutObject failed: HTTP 501 NotImplemented: A header you provided implies functionality that is not implemented`);
      expect(proxy.requests.length).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe("Object Lock", () => {
  let locked: string;
  beforeAll(async () => {
    locked = await server.createBucket({ objectLock: true });
  });
  afterAll(async () => {
    if (locked) await server.deleteBucket(locked);
  });

  test("GetObjectLockConfiguration tells a locked bucket from a plain one", async () => {
    const s3 = client();
    expect((await s3.getObjectLockConfiguration(locked)).enabled).toBe(true);
    expect((await s3.getObjectLockConfiguration(bucket)).enabled).toBe(false);
  });

  test("COMPLIANCE retention set on PutObject is read back and blocks deleting that version", async () => {
    const s3 = client();
    const retainUntil = new Date(Math.ceil((Date.now() + 60 * 60 * 1000) / 1000) * 1000);
    const put = await s3.putObject(locked, "c/backup.sql.gz", bytes("db"), { retention: { mode: "COMPLIANCE", retainUntil } });
    expect(put.versionId).toBeTruthy();
    expect(await s3.getObjectRetention(locked, "c/backup.sql.gz")).toEqual({ mode: "COMPLIANCE", retainUntil });
    expect((await s3.headObject(locked, "c/backup.sql.gz"))?.retention).toEqual({ mode: "COMPLIANCE", retainUntil });
    const error = await failure(s3.deleteObject(locked, "c/backup.sql.gz", { versionId: put.versionId }));
    expect(error.code).toBe("S3_ACCESS_DENIED");
    expect(error.message).toBe(`s3://${locked}/c/backup.sql.gz: access denied for DeleteObject (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the key's permissions, or an Object Lock retention protects the object)`);
    // Even bypassing governance cannot remove a COMPLIANCE version.
    expect((await failure(s3.deleteObject(locked, "c/backup.sql.gz", { versionId: put.versionId, bypassGovernance: true }))).code).toBe("S3_ACCESS_DENIED");
    expect((await s3.headObject(locked, "c/backup.sql.gz", { versionId: put.versionId }))?.size).toBe(2);
  });

  test("GOVERNANCE retention blocks deletion unless bypassed; DeleteObjects reports the refusal per key", async () => {
    const s3 = client();
    const retainUntil = new Date(Date.now() + 60 * 60 * 1000);
    const put = await s3.putObject(locked, "g/backup.sql.gz", bytes("db"), { retention: { mode: "GOVERNANCE", retainUntil } });
    expect((await s3.getObjectRetention(locked, "g/backup.sql.gz"))?.mode).toBe("GOVERNANCE");
    expect((await failure(s3.deleteObject(locked, "g/backup.sql.gz", { versionId: put.versionId }))).code).toBe("S3_ACCESS_DENIED");
    const batch = await s3.deleteObjects(locked, [{ key: "g/backup.sql.gz", versionId: put.versionId }]);
    expect(batch.deleted).toEqual([]);
    expect(batch.errors.map((e) => [e.key, e.code])).toEqual([["g/backup.sql.gz", "AccessDenied"]]);
    await s3.deleteObject(locked, "g/backup.sql.gz", { versionId: put.versionId, bypassGovernance: true });
    expect(await s3.headObject(locked, "g/backup.sql.gz", { versionId: put.versionId }).catch((e: NetravenError) => e.code)).toBeUndefined();
  });

  test("in a versioned (locked) bucket a delete without a version only hides the object: the locked version stays", async () => {
    const s3 = client();
    const put = await s3.putObject(locked, "m/backup.sql.gz", bytes("db"), { retention: { mode: "COMPLIANCE", retainUntil: new Date(Date.now() + 60 * 60 * 1000) } });
    await s3.deleteObject(locked, "m/backup.sql.gz"); // succeeds: a delete marker
    expect(await s3.headObject(locked, "m/backup.sql.gz")).toBeUndefined();
    expect((await s3.headObject(locked, "m/backup.sql.gz", { versionId: put.versionId }))?.size).toBe(2);
  });

  test("an object without retention has none; a plain bucket answers the same", async () => {
    const s3 = client();
    await s3.putObject(locked, "n/plain", bytes("x"));
    expect(await s3.getObjectRetention(locked, "n/plain")).toBeUndefined();
    await s3.putObject(bucket, "n/plain", bytes("x"));
    expect(await s3.getObjectRetention(bucket, "n/plain")).toBeUndefined();
    expect((await failure(s3.getObjectRetention(locked, "n/missing"))).code).toBe("S3_OBJECT_NOT_FOUND");
  });
});
