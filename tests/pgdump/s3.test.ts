// The old pg_dump files in object storage: everything reads them through the store, so list, verify and
// restore --from-pg-dump behave on s3:// exactly as on a directory. Against the real S3 server (Ceph RGW); the dumps
// are made by the real pg_dump (15: the only version Debian 12 packages) exactly as the old backup script did.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "../../src/s3/client.ts";
import { resolveS3Settings } from "../../src/s3/settings.ts";
import { runBinary } from "../harness/binary.ts";
import { createTestDatabase, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { oldBackupScript } from "../harness/legacy.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";

const SENTENCE = "pg_dump file (not made by netraven-db; not verifiable)";
let server: Rgw;
let bucket: string;
let dir: string;
let source: TestDatabase;

beforeAll(async () => {
  server = await rgw();
  bucket = await server.createBucket();
  dir = mkdtempSync(join(tmpdir(), "netraven-pgdump-s3-"));
  source = await createTestDatabase();
  expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
  await fillRealisticData(source.sql, { devices: 100 });
  const s3 = new S3Client(resolveS3Settings(server.env));
  oldBackupScript(source.url, join(dir, "dump.sql.gz"));
  oldBackupScript("postgresql://netraven:pw@127.0.0.1:1/netraven", join(dir, "failed.sql.gz"));
  await s3.putObject(bucket, "old/netraven_20250403_200520.sql.gz", readFileSync(join(dir, "dump.sql.gz")));
  await s3.putObject(bucket, "old/netraven_20250404_200520.sql.gz", readFileSync(join(dir, "failed.sql.gz")));
}, 180_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (bucket) await server.deleteBucket(bucket);
});

test("s3://: list marks the old files, verify refuses them, restore --from-pg-dump imports row for row", async () => {
  const location = `s3://${bucket}/old/`;
  const list = await runBinary(["list", "--dir", location, "--json"], { env: server.env });
  expect(list.status).toBe(0);
  const statuses = Object.fromEntries(JSON.parse(list.stdout).backups.map((b: any) => [b.file, b.status]));
  expect(statuses).toEqual({ "netraven_20250403_200520.sql.gz": "pg-dump", "netraven_20250404_200520.sql.gz": "empty" });

  const verify = await runBinary(["verify", `${location}netraven_20250403_200520.sql.gz`], { env: server.env });
  expect(verify.status).toBe(1);
  expect(verify.stderr).toContain(`netraven_20250403_200520.sql.gz: ${SENTENCE}`);

  const target = await createTestDatabase();
  const run = await runBinary(["restore", `${location}netraven_20250403_200520.sql.gz`, "--from-pg-dump", "--yes", "--json"], { env: { ...server.env, ...target.env } });
  expect(run.status).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, source: "pg-dump", validation: { ok: true } });
  expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
}, 180_000);
