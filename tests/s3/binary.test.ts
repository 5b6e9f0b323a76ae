// The S3 modules work inside a compiled binary (bun build --compile with the release flags: bytecode, ESM, minified),
// not only from source: a small entry point is compiled and run from an empty directory with only the AWS_*
// variables, against the real RGW. Nothing in the CLI imports src/s3 yet, so dist/netraven-db cannot show this.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rgw, type Rgw } from "../harness/rgw.ts";

let server: Rgw;
let bucket: string;
let dir: string;

beforeAll(async () => {
  server = await rgw();
  bucket = await server.createBucket();
  dir = mkdtempSync(join(tmpdir(), "netraven-s3bin-"));
}, 180_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (bucket) await server.deleteBucket(bucket);
});

test("a compiled binary signs, uploads (multipart), streams back and classifies a wrong secret", () => {
  const binary = join(dir, "s3-roundtrip");
  const build = spawnSync(process.execPath, [
    "build", join(import.meta.dir, "fixtures", "binary-roundtrip.ts"),
    "--compile", "--bytecode", "--format=esm", "--minify", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--outfile", binary,
  ], { encoding: "utf8" });
  expect(build.stderr).not.toContain("error");
  expect(build.status).toBe(0);
  const empty = mkdtempSync(join(dir, "cwd-"));
  const run = spawnSync(binary, [], { cwd: empty, env: { ...server.env, BUCKET: bucket }, encoding: "utf8", timeout: 60_000 });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  const result = JSON.parse(run.stdout);
  expect(result.parts).toBe(2);
  expect(result.uploaded).toBe(result.expected);
  expect(result.downloaded).toBe(result.expected);
  expect(result.listed).toEqual(["bin/netraven_20261130_030000.sql.gz"]);
  expect(result.wrongSecret).toBe("S3_AUTH_FAILED");
}, 120_000);
