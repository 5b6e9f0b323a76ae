// AWS_CA_BUNDLE: an https endpoint whose certificate a private CA signed (made here with openssl) is refused at once
// without the bundle (TLS_FAILED, exit 5, no retries) and works with it. The TLS endpoint is a small terminating proxy
// in front of the real RGW: every byte stored and read is the real server's. Over https large bodies are sent as
// UNSIGNED-PAYLOAD (TLS protects them), small ones keep their signed SHA-256.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { EMPTY_SHA256, S3Client, type RequestEvent } from "../../src/s3/client.ts";
import { openObjectStream } from "../../src/s3/download.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";
import { startS3Proxy, type S3Proxy } from "../harness/s3proxy.ts";

let server: Rgw;
let bucket: string;
let proxy: S3Proxy;
let dir: string;
let caFile: string;
let otherCaFile: string;

function openssl(args: string[]): void {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr}`);
}

/** A private CA and a server certificate for localhost/127.0.0.1 that it signed. */
function makeCa(name: string): { ca: string; key: string; cert: string } {
  const ca = join(dir, `${name}-ca.pem`);
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name} test CA`, "-keyout", join(dir, `${name}-ca.key`), "-out", ca, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", join(dir, `${name}-srv.key`), "-out", join(dir, `${name}-srv.csr`)]);
  writeFileSync(join(dir, `${name}-ext`), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(["x509", "-req", "-in", join(dir, `${name}-srv.csr`), "-CA", ca, "-CAkey", join(dir, `${name}-ca.key`), "-CAcreateserial", "-days", "2", "-out", join(dir, `${name}-srv.pem`), "-extfile", join(dir, `${name}-ext`)]);
  return { ca, key: readFileSync(join(dir, `${name}-srv.key`), "utf8"), cert: readFileSync(join(dir, `${name}-srv.pem`), "utf8") };
}

function client(env: Record<string, string>, options: ConstructorParameters<typeof S3Client>[1] = {}): S3Client {
  return new S3Client(resolveS3Settings({ ...server.env, AWS_ENDPOINT_URL_S3: proxy.url, ...env }), { retry: { attempts: 3, intervalMs: 20, maxIntervalMs: 50 }, ...options });
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
  dir = mkdtempSync(join(tmpdir(), "netraven-s3tls-"));
  const { ca, key, cert } = makeCa("private");
  caFile = ca;
  otherCaFile = makeCa("other").ca;
  proxy = await startS3Proxy(server.endpoint, { tls: { key, cert } });
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (bucket) await server.deleteBucket(bucket);
});

describe("a private CA via AWS_CA_BUNDLE", () => {
  test("without the bundle: TLS_FAILED at once (exit 5, one request), with a hint to set AWS_CA_BUNDLE", async () => {
    const events: RequestEvent[] = [];
    const error = await failure(client({}, { onRequest: (e) => events.push(e) }).putObject(bucket, "tls/x", new Uint8Array(1)));
    expect(error.code).toBe("TLS_FAILED");
    expect(error.exitStatus).toBe(5);
    expect(error.message).toStartWith(`s3://${bucket}/tls/x: TLS failed with ${proxy.url} for PutObject: certificate not accepted (`);
    expect(error.hint).toBe("for a private CA, set AWS_CA_BUNDLE to its PEM file");
    expect(events.length).toBe(1);
  });

  test("with a bundle of another CA: TLS_FAILED naming the bundle", async () => {
    const error = await failure(client({ AWS_CA_BUNDLE: otherCaFile }).headBucket(bucket));
    expect(error.code).toBe("TLS_FAILED");
    expect(error.hint).toBe(`check that ${otherCaFile} (AWS_CA_BUNDLE) holds the CA that signed the endpoint's certificate`);
  });

  test("with the right bundle: put, list, stream back; large bodies go UNSIGNED-PAYLOAD over TLS, small ones signed", async () => {
    const s3 = client({ AWS_CA_BUNDLE: caFile });
    const big = randomBytes(300_000);
    const small = new TextEncoder().encode("{\"manifest\":true}");
    const before = proxy.requests.length;
    await s3.putObject(bucket, "tls/big.bin", big);
    await s3.putObject(bucket, "tls/small.json", small);
    const puts = proxy.requests.slice(before).filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.headers["x-amz-content-sha256"])).toEqual(["UNSIGNED-PAYLOAD", createHash("sha256").update(small).digest("hex")]);
    expect((await s3.listObjects(bucket, "tls/")).map((o) => [o.key, o.size])).toEqual([["tls/big.bin", big.length], ["tls/small.json", small.length]]);
    const stream = await openObjectStream(s3, bucket, "tls/big.bin");
    const hash = createHash("sha256");
    for await (const chunk of stream.chunks) hash.update(chunk);
    expect(hash.digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));
    const gets = proxy.requests.slice(before).filter((r) => r.method === "GET");
    expect(gets.every((r) => r.headers["x-amz-content-sha256"] === EMPTY_SHA256)).toBe(true);
  });
});
