// Backups that survive the loss of the machine, through the compiled binary against a real S3 server (Ceph RGW,
// which checks every signature) and the reference age tool: backup to a bucket (and to a directory in the same
// run), encrypted; list, verify and restore straight from the bucket; an independent client (the AWS CLI, then
// `age -d | gunzip | psql`) reads what we wrote; and the faults: wrong secret, missing bucket, an endpoint that does
// not answer, a backup killed in the middle of an upload, a corrupted or truncated object, Object Lock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ageKeygen, ageEncryptFile, requireAgeCli, type AgeKey } from "../harness/age-cli.ts";
import { BINARY, runBinary, type RunResult } from "../harness/binary.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { client, createTestDatabase, psql, type TestDatabase } from "../harness/db.ts";
import { rgw, type Rgw } from "../harness/rgw.ts";
import { startS3Proxy } from "../harness/s3proxy.ts";

const AWS = "/usr/bin/aws";
let server: Rgw;
let source: TestDatabase;
let work: string;
let key: AgeKey;
let otherKey: AgeKey;
const buckets: string[] = [];

beforeAll(async () => {
  requireAgeCli();
  server = await rgw();
  work = mkdtempSync(join(tmpdir(), "netraven-s3cmd-"));
  key = ageKeygen(work);
  otherKey = ageKeygen(work, "other.txt");
  source = await createTestDatabase();
  expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
  await fillRealisticData(source.sql, { devices: 400 });
});

afterAll(async () => {
  for (const bucket of buckets) await server.deleteBucket(bucket).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

async function bucket(options: { objectLock?: boolean } = {}): Promise<string> {
  const name = await server.createBucket(options);
  buckets.push(name);
  return name;
}

const s3env = (db: TestDatabase = source, extra: Record<string, string> = {}) => ({ ...db.env, ...server.env, ...extra });
/** The server's environment with another endpoint (both names: AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL). */
const via = (endpoint: string) => ({ AWS_ENDPOINT_URL_S3: endpoint, AWS_ENDPOINT_URL: endpoint });

function aws(args: string[]): string {
  const run = spawnSync(AWS, ["--endpoint-url", server.endpoint, ...args], { env: { ...process.env, ...server.env }, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`aws ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

/** `aws s3 ls` of a prefix: "" when nothing is there (the CLI then exits 1 without a message). */
function listing(url: string): string {
  const run = spawnSync(AWS, ["--endpoint-url", server.endpoint, "s3", "ls", url], { env: { ...process.env, ...server.env }, encoding: "utf8" });
  if (run.status === 1 && run.stdout === "" && run.stderr === "") return "";
  if (run.status !== 0) throw new Error(`aws s3 ls ${url}: ${run.stderr}`);
  return run.stdout;
}

function errorLines(run: RunResult): string[] {
  return run.stderr.split("\n").filter((line) => line.startsWith("netraven-db: error:"));
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("an encrypted backup in a bucket", () => {
  let url: string;
  let manifest: Record<string, unknown>;

  test("backup --dir s3://... --encrypt-to: exit 0, the object and its manifest under their final names", async () => {
    const name = await bucket();
    const run = await runBinary(["backup", "--dir", `s3://${name}/nightly/`, "--encrypt-to", key.publicKey, "--json"], { env: s3env() });
    expect({ status: run.status, errors: errorLines(run) }).toEqual({ status: 0, errors: [] });
    expect(run.stderr).not.toContain("NOT encrypted");
    manifest = JSON.parse(run.stdout);
    url = manifest.path as string;
    expect(url).toMatch(new RegExp(`^s3://${name}/nightly/netraven_\\d{8}_\\d{6}\\.sql\\.gz\\.age$`));
    expect(manifest.encryption).toEqual({ method: "age", recipients: [key.publicKey] });
    const listing = aws(["s3", "ls", `s3://${name}/nightly/`]);
    const file = url.split("/").pop()!;
    expect(listing).toContain(file);
    expect(listing).toContain(`${file}.json`);
    expect(aws(["s3api", "list-multipart-uploads", "--bucket", name])).not.toContain("UploadId");
  });

  test("an independent client reads it: aws s3 cp, sha256sum equals the manifest, age -d | gunzip | psql restores it", async () => {
    const download = join(work, "download.sql.gz.age");
    aws(["s3", "cp", url, download]);
    expect(sha256File(download)).toBe(manifest.sha256 as string);
    const target = await createTestDatabase();
    const sh = spawnSync("sh", ["-c", `age -d -i "$KEY" "$FILE" | gunzip | psql -X -q -v ON_ERROR_STOP=1 "$URL"`], {
      env: { ...process.env, KEY: key.identityFile, FILE: download, URL: target.url },
      encoding: "utf8",
    });
    expect({ status: sh.status, stderr: sh.stderr }).toEqual({ status: 0, stderr: "" });
    expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
  });

  test("list reads the manifests: one row, encrypted", async () => {
    const dir = url.slice(0, url.lastIndexOf("/") + 1);
    const run = await runBinary(["list", "--dir", dir, "--json"], { env: server.env });
    expect(run.status).toBe(0);
    const listed = JSON.parse(run.stdout).backups;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ path: url, encrypted: true, size_bytes: manifest.size_bytes, rows_total: manifest.rows_total });
  });

  test("verify without the key proves the checksum; with --identity it reads every byte", async () => {
    const bare = await runBinary(["verify", url], { env: server.env });
    expect(bare.status).toBe(0);
    expect(bare.stderr).toContain("is intact: its checksum matches (encrypted; its contents were not read)");
    const full = await runBinary(["verify", url, "--identity", key.identityFile, "--json"], { env: server.env });
    expect(full.status).toBe(0);
    expect(JSON.parse(full.stdout)).toMatchObject({ ok: true, checksum: "matched", encrypted: true, rows_total: manifest.rows_total });
  });

  test("restore straight from the bucket into a new database, validate clean, rows identical", async () => {
    const target = `nrt_s3_${Date.now().toString(36)}`;
    const run = await runBinary(["restore", url, "--identity", key.identityFile, "--yes", "--target-db", target, "--json"], { env: s3env() });
    expect({ status: run.status, errors: errorLines(run) }).toEqual({ status: 0, errors: [] });
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, validation: { ok: true } });
    const restored = client(source.url.replace(/\/[^/]*$/, `/${target}`));
    try {
      expect(await tableChecksums(restored)).toEqual(await tableChecksums(source.sql));
    } finally {
      await restored.end();
      await source.sql.unsafe(`drop database "${target}" with (force)`).catch(() => undefined);
    }
  });

  test("restore without the key: exit 3 before anything; with the wrong key: exit 5, database unchanged", async () => {
    const target = await createTestDatabase();
    expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
    await fillRealisticData(target.sql, { devices: 30 });
    const before = await tableChecksums(target.sql);
    const noKey = await runBinary(["restore", url, "--yes"], { env: s3env(target) });
    expect(noKey.status).toBe(3);
    expect(errorLines(noKey)[0]).toContain("is encrypted (age): its contents can be read only with its identity");
    const wrong = await runBinary(["restore", url, "--yes", "--identity", otherKey.identityFile], { env: s3env(target) });
    expect(wrong.status).toBe(5);
    expect(errorLines(wrong)).toHaveLength(1);
    expect(await tableChecksums(target.sql)).toEqual(before);
  });
});

describe("one backup, two locations", () => {
  test("--dir LOCAL --dir s3://...: the database is read once, both copies are identical and complete", async () => {
    const name = await bucket();
    const local = mkdtempSync(join(work, "local-"));
    const run = await runBinary(["backup", "--dir", local, "--dir", `s3://${name}/two/`, "--encrypt-to", key.publicKey, "--json"], { env: s3env() });
    expect({ status: run.status, errors: errorLines(run) }).toEqual({ status: 0, errors: [] });
    const doc = JSON.parse(run.stdout);
    expect(doc.locations).toHaveLength(2);
    expect(doc.locations[0].sha256).toBe(doc.locations[1].sha256);
    const file = readdirSync(local).find((f) => f.endsWith(".age"))!;
    expect(sha256File(join(local, file))).toBe(doc.locations[0].sha256);
  });

  test("a location that fails does not stop the other; the run fails naming it and says where the backup is", async () => {
    const name = await bucket();
    const local = mkdtempSync(join(work, "half-"));
    // Every part upload to the bucket is refused: the upload fails mid-way, the local copy completes.
    const proxy = await startS3Proxy(server.endpoint, {
      inject: (request) => (request.method === "PUT" && /partNumber=2/.test(request.url ?? "") ? { status: 403, body: "<Error><Code>AccessDenied</Code><Message>no</Message></Error>" } : undefined),
    });
    try {
      const big = await createTestDatabase();
      expect((await runBinary(["init"], { env: big.env })).status).toBe(0);
      await fillRealisticData(big.sql, { devices: 6000 });
      const run = await runBinary(["backup", "--dir", local, "--dir", `s3://${name}/half/`, "--compress", "none", "--no-encrypt"], { env: s3env(big, via(proxy.url)) });
      expect(run.status).toBe(5);
      const [line] = errorLines(run);
      expect(line).toContain(`backup to s3://${name}/half/ failed:`);
      expect(line).toContain(`the backup is complete in ${local}/`);
      expect(readdirSync(local).filter((f) => f.endsWith(".sql"))).toHaveLength(1);
      expect(listing(`s3://${name}/half/`)).toBe("");
      expect(aws(["s3api", "list-multipart-uploads", "--bucket", name])).not.toContain("UploadId");
    } finally {
      await proxy.close();
    }
  });
});

describe("faults", () => {
  test("wrong secret key: exit 5 at once, one line naming the bucket, nothing retried, nothing written", async () => {
    const name = await bucket();
    const local = mkdtempSync(join(work, "wrongkey-"));
    const run = await runBinary(["backup", "--dir", local, "--dir", `s3://${name}/x/`, "--retry", "5"], { env: s3env(source, { AWS_SECRET_ACCESS_KEY: "not-the-secret-key-0123456789" }) });
    expect(run.status).toBe(5);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toContain(name);
    expect(run.stderr).not.toContain("Waiting for object storage"); // no retry
    expect(run.stderr).not.toContain("not-the-secret-key");
    expect(readdirSync(local)).toEqual([]);
  });

  test("a bucket that does not exist: exit 5, one line naming it", async () => {
    const run = await runBinary(["list", "--dir", "s3://netraven-no-such-bucket/x/"], { env: server.env });
    expect(run.status).toBe(5);
    expect(errorLines(run)[0]).toContain("netraven-no-such-bucket");
  });

  test("an endpoint that does not answer is retried, then exit 4 (verify: 2, could not check)", async () => {
    const env = { ...server.env, ...via("http://127.0.0.1:9") };
    const list = await runBinary(["list", "--dir", "s3://some-bucket/x/"], { env });
    expect(list.status).toBe(4);
    expect(errorLines(list)).toHaveLength(1);
    const verify = await runBinary(["verify", "s3://some-bucket/x/netraven_20261130_030000.sql.gz", "--retry", "2", "--retry-interval", "0.1"], { env });
    expect(verify.status).toBe(2);
  });

  test("a backup killed in the middle of an upload leaves no object; the next backup on this host aborts its upload", async () => {
    const name = await bucket();
    const big = await createTestDatabase();
    expect((await runBinary(["init"], { env: big.env })).status).toBe(0);
    await fillRealisticData(big.sql, { devices: 6000 });
    // The second part's upload is never answered: the writer is provably in the middle of the upload.
    const proxy = await startS3Proxy(server.endpoint, { hold: (request) => request.method === "PUT" && /partNumber=2/.test(request.url ?? "") });
    try {
      const child = spawn(BINARY, ["backup", "--dir", `s3://${name}/killed/`, "--compress", "none", "--no-encrypt"], { env: { PATH: process.env.PATH, ...s3env(big, via(proxy.url)) }, stdio: "ignore" });
      for (let i = 0; i < 300 && !proxy.requests.some((r) => /partNumber=2/.test(r.url)); i++) await Bun.sleep(50);
      expect(proxy.requests.some((r) => /partNumber=2/.test(r.url))).toBe(true);
      child.kill("SIGKILL");
      await new Promise((resolve) => child.on("close", resolve));
    } finally {
      await proxy.close();
    }
    expect(listing(`s3://${name}/killed/`)).not.toMatch(/netraven_\d+_\d+\.sql\n/);
    expect(aws(["s3api", "list-multipart-uploads", "--bucket", name])).toContain("UploadId");
    const next = await runBinary(["backup", "--dir", `s3://${name}/killed/`, "--compress", "none", "--no-encrypt"], { env: s3env(big) });
    expect(next.status).toBe(0);
    expect(next.stderr).toContain("left by an interrupted backup");
    expect(aws(["s3api", "list-multipart-uploads", "--bucket", name])).not.toContain("UploadId");
  });

  test("a corrupted object is refused by verify and restore; the database stays as it was", async () => {
    const name = await bucket();
    const made = await runBinary(["backup", "--dir", `s3://${name}/c/`, "--no-encrypt", "--json"], { env: s3env() });
    expect(made.status).toBe(0);
    const url = JSON.parse(made.stdout).path as string;
    const local = join(work, "corrupt.sql.gz");
    aws(["s3", "cp", url, local]);
    const bytes = readFileSync(local);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(local, bytes);
    aws(["s3", "cp", local, url]);
    const verify = await runBinary(["verify", url], { env: server.env });
    expect(verify.status).toBe(1);
    expect(errorLines(verify)[0]).toContain("SHA-256 does not match its manifest");
    const target = await createTestDatabase();
    expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
    await fillRealisticData(target.sql, { devices: 20 });
    const before = await tableChecksums(target.sql);
    const restore = await runBinary(["restore", url, "--yes"], { env: s3env(target) });
    expect(restore.status).toBe(1);
    expect(await tableChecksums(target.sql)).toEqual(before);
  });

  test("a download cut short during a restore: one line, exit non-zero, the database stays as it was", async () => {
    const name = await bucket();
    const made = await runBinary(["backup", "--dir", `s3://${name}/cut/`, "--compress", "none", "--no-encrypt", "--json"], { env: s3env() });
    expect(made.status).toBe(0);
    const url = JSON.parse(made.stdout).path as string;
    const target = await createTestDatabase();
    expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
    await fillRealisticData(target.sql, { devices: 20 });
    const before = await tableChecksums(target.sql);
    const proxy = await startS3Proxy(server.endpoint, { cutAfterBytes: 100_000 });
    try {
      const run = await runBinary(["restore", url, "--yes"], { env: s3env(target, via(proxy.url)) });
      expect(run.status).not.toBe(0);
      expect(errorLines(run)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
    expect(await tableChecksums(target.sql)).toEqual(before);
  });

  test("an unencrypted backup to object storage warns in one line; --no-encrypt says it is intended", async () => {
    const name = await bucket();
    const warned = await runBinary(["backup", "--dir", `s3://${name}/plain/`], { env: s3env() });
    expect(warned.status).toBe(0);
    expect(warned.stderr.split("\n").filter((l) => l.includes("is NOT encrypted"))).toHaveLength(1);
    const quiet = await runBinary(["backup", "--dir", `s3://${name}/plain/`, "--no-encrypt"], { env: s3env() });
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).not.toContain("NOT encrypted");
  });
});

describe("Object Lock", () => {
  test("--object-lock-days sets retention on the backup and its manifest; retention keeps locked backups and says so", async () => {
    const name = await bucket({ objectLock: true });
    const first = await runBinary(["backup", "--dir", `s3://${name}/locked/`, "--object-lock-days", "1", "--no-encrypt", "--json"], { env: s3env() });
    expect({ status: first.status, errors: errorLines(first) }).toEqual({ status: 0, errors: [] });
    const objectKey = (JSON.parse(first.stdout).path as string).replace(`s3://${name}/`, "");
    const file = objectKey.split("/").pop()!;
    for (const object of [objectKey, `${objectKey}.json`]) {
      const retention = JSON.parse(aws(["s3api", "get-object-retention", "--bucket", name, "--key", object]));
      expect(retention.Retention.Mode).toBe("COMPLIANCE");
      expect(new Date(retention.Retention.RetainUntilDate).getTime()).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    }
    await Bun.sleep(1100); // a second backup in another second, so the names differ
    const second = await runBinary(["backup", "--dir", `s3://${name}/locked/`, "--object-lock-days", "1", "--no-encrypt", "--keep", "1"], { env: s3env() });
    expect(second.status).toBe(0);
    expect(second.stderr).toContain(`Retention: kept ${file}`);
    expect(second.stderr).toContain("Object Lock keeps it until");
    expect(aws(["s3", "ls", `s3://${name}/locked/`])).toContain(file);
  });

  test("--object-lock-days on a bucket without Object Lock: exit 3 before anything is written", async () => {
    const name = await bucket();
    const run = await runBinary(["backup", "--dir", `s3://${name}/x/`, "--object-lock-days", "1"], { env: s3env() });
    expect(run.status).toBe(3);
    expect(errorLines(run)[0]).toContain("has no Object Lock");
  });
});

describe("interoperability with the reference age tool", () => {
  test("a backup that age encrypted (from our plain backup) is accepted by restore --identity", async () => {
    const dir = mkdtempSync(join(work, "interop-"));
    const made = await runBinary(["backup", "--dir", dir, "--json"], { env: source.env });
    expect(made.status).toBe(0);
    const plain = JSON.parse(made.stdout).path as string;
    const encrypted = join(dir, `${plain.split("/").pop()!.replace(".sql.gz", "_1.sql.gz")}.age`);
    ageEncryptFile([key.publicKey], plain, encrypted);
    const target = await createTestDatabase();
    const run = await runBinary(["restore", encrypted, "--identity", key.identityFile, "--yes"], { env: target.env });
    expect({ status: run.status, errors: errorLines(run) }).toEqual({ status: 0, errors: [] });
    expect(run.stderr).toContain("has no manifest: checking the whole file before restoring");
    expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
  });

  test("a recipients file alone is enough (--recipients-file, and NETRAVEN_DB_RECIPIENTS_FILE as the Compose sidecar sets it): age -d reads the backup", async () => {
    const other = ageKeygen(mkdtempSync(join(work, "other-key-")));
    const file = join(work, "recipients.txt");
    writeFileSync(file, `# the backup keys\n${key.publicKey}\n\n${other.publicKey}\n`);
    for (const how of [["--recipients-file", file], []]) {
      const dir = mkdtempSync(join(work, "recipients-"));
      const env = how.length ? source.env : { ...source.env, NETRAVEN_DB_RECIPIENTS_FILE: file };
      const made = await runBinary(["backup", "--dir", dir, "--json", ...how], { env });
      expect({ how, status: made.status, errors: errorLines(made) }).toEqual({ how, status: 0, errors: [] });
      const result = JSON.parse(made.stdout);
      expect(result.path).toMatch(/\.sql\.gz\.age$/);
      // Either private key opens it: both public keys of the file are recipients.
      for (const identity of [key, other]) {
        const decrypted = spawnSync("sh", ["-c", `age -d -i "$1" "$2" | gunzip | head -c 200`, "sh", identity.identityFile, result.path], { encoding: "utf8" });
        expect(decrypted.stdout).toContain("netraven-db backup");
      }
    }
  });

  test("the identity file must be private (as .pgpass): 0644 is refused with the chmod fix", async () => {
    const loose = join(work, "loose.txt");
    writeFileSync(loose, readFileSync(key.identityFile), { mode: 0o644 });
    const run = await runBinary(["verify", "/nonexistent.sql.gz.age", "--identity", loose]);
    expect(run.status).toBe(3);
    expect(errorLines(run)[0]).toContain("chmod 600");
  });
});

describe("secrets", () => {
  test("the AWS secret key and the age identity never appear in output, --json or the manifest", async () => {
    const name = await bucket();
    const dir = mkdtempSync(join(work, "secrets-"));
    const identity = readFileSync(key.identityFile, "utf8").match(/AGE-SECRET-KEY-\S+/)![0];
    const runs = [
      await runBinary(["backup", "--dir", dir, "--dir", `s3://${name}/s/`, "--encrypt-to", key.publicKey, "--json", "--verbose"], { env: s3env() }),
      await runBinary(["list", "--dir", `s3://${name}/s/`, "--json", "--verbose"], { env: server.env }),
    ];
    const url = JSON.parse(runs[0]!.stdout).path as string;
    runs.push(await runBinary(["verify", url, "--identity", key.identityFile, "--json", "--verbose"], { env: server.env }));
    runs.push(await runBinary(["verify", url, "--identity", key.identityFile], { env: { ...server.env, AWS_SECRET_ACCESS_KEY: `${server.secretAccessKey}x` } }));
    for (const run of runs) {
      for (const secret of [server.secretAccessKey, identity]) {
        expect(run.stdout.includes(secret) || run.stderr.includes(secret)).toBe(false);
      }
    }
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), "latin1");
      expect(text.includes(server.secretAccessKey) || text.includes(identity)).toBe(false);
    }
    expect(psql(source.url, ["-At", "-c", "select 1"]).trim()).toBe("1");
  });
});
