// Bounded memory of a streamed upload (MultipartWriter): its buffers are (parts in flight + 1) x part size = 32 MiB
// with the defaults, whatever the object's size. Each upload runs in its own process (tests/s3/fixtures/
// upload-memory.ts) against the real RGW and reports its resident memory before writing and at its peak (VmHWM).
// A 208 MiB upload must not need more memory than a 40 MiB one: the growth is the buffers, not the object.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { S3Client } from "../../src/s3/client.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { DEFAULT_PART_SIZE, DEFAULT_PARTS_IN_FLIGHT } from "../../src/s3/upload.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";

const MiB = 1024 * 1024;
const FIXTURE = join(import.meta.dir, "fixtures", "upload-memory.ts");

let server: Rgw;
let bucket: string;

beforeAll(async () => {
  server = await rgw();
  bucket = await server.createBucket();
}, 180_000);

afterAll(async () => {
  if (bucket) await server.deleteBucket(bucket);
});

function upload(sizeMiB: number): { before: number; peak: number; bytes: number; parts: number } {
  const result = spawnSync(process.execPath, [FIXTURE], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...server.env, BUCKET: bucket, KEY: `mem/${sizeMiB}`, SIZE_MIB: String(sizeMiB) },
    encoding: "utf8",
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`upload of ${sizeMiB} MiB failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}

test("peak memory of a 208 MiB streamed upload is the part buffers, the same as for 40 MiB", async () => {
  const buffers = DEFAULT_PART_SIZE * (DEFAULT_PARTS_IN_FLIGHT + 1);
  expect(buffers).toBe(32 * MiB);
  const small = upload(40);
  await new S3Client(resolveS3Settings(server.env)).deleteObject(bucket, "mem/40"); // memstore is RAM: free it
  const large = upload(208);
  expect([small.bytes, large.bytes]).toEqual([40 * MiB, 208 * MiB]);
  expect(large.parts).toBe(26);
  const growthSmall = small.peak - small.before;
  const growthLarge = large.peak - large.before;
  // The buffers plus the runtime's copy of each body in flight, with room for allocator slack: far below 208 MiB.
  expect(growthLarge).toBeLessThan(3 * buffers);
  // Five times the data, no more memory (within 16 MiB of allocator noise).
  expect(growthLarge - growthSmall).toBeLessThan(16 * MiB);
}, 300_000);
