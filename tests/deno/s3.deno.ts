// src/s3 under Deno: the same client, writer and reader against a real S3 server (Ceph RGW from tests/harness/rgw.ts,
// plain node: APIs), including Deno's own way of trusting a private CA (Deno.createHttpClient, in src/s3/http.ts).
// Run by scripts/test.sh: deno test -A --no-check tests/deno/*.deno.ts (named *.deno.ts so that bun test skips it).
import { createHash, randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { freePort } from "../harness/cluster.ts";
import { startRgw, type Rgw } from "../harness/rgw.ts";
import { startS3Proxy } from "../harness/s3proxy.ts";
import { S3Client } from "../../src/s3/client.ts";
import { openObjectStream } from "../../src/s3/download.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { MultipartWriter } from "../../src/s3/upload.ts";

declare const Deno: { test: (name: string, fn: () => void | Promise<void>) => void; version: { deno: string } };

let server: Rgw | undefined;
let bucket = "";
let scratch: string | undefined;
// Whatever failed, the daemons and temp dirs go when the test process ends.
(globalThis as unknown as { addEventListener(type: string, listener: () => void): void }).addEventListener("unload", () => {
  server?.kill();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function s3(env: Record<string, string> = {}): Promise<S3Client> {
  if (!server) {
    server = await startRgw();
    bucket = await server.createBucket({ prefix: "deno" });
  }
  return new S3Client(resolveS3Settings({ ...server.env, ...env }), { retry: { attempts: 2, intervalMs: 20, maxIntervalMs: 50 } });
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? `not a NetravenError: ${error}`;
  }
  return "no error";
}

Deno.test("deno s3: put, head, list, ranged get", async () => {
  const client = await s3();
  const body = new TextEncoder().encode(`written by Deno ${Deno.version.deno}\n`);
  const put = await client.putObject(bucket, "deno/hello.txt", body);
  assert.equal(put.etag, createHash("md5").update(body).digest("hex"));
  assert.equal((await client.headObject(bucket, "deno/hello.txt"))?.size, body.length);
  assert.deepEqual((await client.listObjects(bucket, "deno/")).map((o) => o.key), ["deno/hello.txt"]);
  const range = await client.getObject(bucket, "deno/hello.txt", { range: [0, 6] });
  assert.equal(await new Response(range.body).text(), "written");
});

Deno.test("deno s3: streamed multipart upload and streamed download agree on SHA-256", async () => {
  const client = await s3();
  const data = randomBytes(11 * 1024 * 1024);
  const writer = new MultipartWriter(client, bucket, "deno/netraven_20261130_030000.sql.gz", { partSize: 5 * 1024 * 1024 });
  for (let i = 0; i < data.length; i += 100_000) await writer.write(data.subarray(i, i + 100_000));
  const result = await writer.finish();
  const sha256 = createHash("sha256").update(data).digest("hex");
  assert.deepEqual([result.bytes, result.parts, result.sha256], [data.length, 3, sha256]);
  const stream = await openObjectStream(client, bucket, result.key);
  const hash = createHash("sha256");
  for await (const chunk of stream.chunks) hash.update(chunk);
  assert.equal(hash.digest("hex"), sha256);
});

Deno.test("deno s3: wrong secret is S3_AUTH_FAILED, a closed port S3_UNREACHABLE", async () => {
  await s3();
  assert.equal(await code((await s3({ AWS_SECRET_ACCESS_KEY: "wrong-secret-0123456789" })).listObjects(bucket, "")), "S3_AUTH_FAILED");
  const closed = await s3({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await freePort()}` });
  const error = await closed.headBucket(bucket).then(() => undefined, (e: Error & { code?: string }) => e);
  assert.equal(error?.code, "S3_UNREACHABLE");
  assert.match(error?.message ?? "", /: connection refused \(is the endpoint running and listening there\?\); gave up after 2 attempts over /);
});

Deno.test("deno s3: AWS_CA_BUNDLE trusts a private CA (Deno.createHttpClient), TLS_FAILED without it", async () => {
  await s3();
  scratch = mkdtempSync(join(tmpdir(), "netraven-deno-tls-"));
  const run = (args: string[]) => assert.equal(spawnSync("openssl", args, { encoding: "utf8" }).status, 0, `openssl ${args.join(" ")}`);
  const ca = join(scratch, "ca.pem");
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=deno test CA", "-keyout", join(scratch, "ca.key"), "-out", ca, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", join(scratch, "srv.key"), "-out", join(scratch, "srv.csr")]);
  writeFileSync(join(scratch, "ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run(["x509", "-req", "-in", join(scratch, "srv.csr"), "-CA", ca, "-CAkey", join(scratch, "ca.key"), "-CAcreateserial", "-days", "2", "-out", join(scratch, "srv.pem"), "-extfile", join(scratch, "ext")]);
  const proxy = await startS3Proxy(server!.endpoint, { tls: { key: readFileSync(join(scratch, "srv.key"), "utf8"), cert: readFileSync(join(scratch, "srv.pem"), "utf8") } });
  try {
    assert.equal(await code((await s3({ AWS_ENDPOINT_URL_S3: proxy.url })).headBucket(bucket)), "TLS_FAILED");
    const trusted = await s3({ AWS_ENDPOINT_URL_S3: proxy.url, AWS_CA_BUNDLE: ca });
    await trusted.putObject(bucket, "deno/tls.bin", randomBytes(200_000));
    assert.equal((await trusted.headObject(bucket, "deno/tls.bin"))?.size, 200_000);
  } finally {
    await proxy.close();
  }
});

Deno.test("deno s3: the server stops and leaves nothing behind", async () => {
  if (!server) return;
  const dir = server.dir;
  await server.deleteBucket(bucket);
  await server.stop();
  server = undefined;
  assert.throws(() => readFileSync(join(dir, "ceph.conf")));
});
