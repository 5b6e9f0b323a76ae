// src/s3/settings.ts and src/s3/location.ts: the AWS variables every S3 tool reads (and their *_FILE twins), one line
// naming the variable for each bad value, secrets scrubbed from output before anything prints, and s3:// locations.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { baseName, bucketNameProblem, formatS3Url, isS3Url, keyIn, parseS3Url } from "../../src/s3/location.ts";
import { addressingFor, resolveS3Settings } from "../../src/s3/settings.ts";
import { scrub } from "../../src/secrets.ts";
import { S3Client } from "../../src/s3/client.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-s3set-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

function thrown(fn: () => unknown): NetravenError {
  try {
    fn();
  } catch (error) {
    if (isNetravenError(error)) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("resolveS3Settings", () => {
  test("AWS defaults: us-east-1, the AWS endpoint, virtual-hosted addressing", () => {
    const s = resolveS3Settings(KEYS);
    expect(s.region).toBe("us-east-1");
    expect(s.endpoint.href).toBe("https://s3.amazonaws.com/");
    expect(s.customEndpoint).toBe(false);
    expect(addressingFor(s, "backups")).toBe("virtual");
    expect(addressingFor(s, "my.dotted.bucket")).toBe("path");
    expect(new S3Client(s).url("backups", "p/netraven_1.sql.gz")).toBe("https://backups.s3.amazonaws.com/p/netraven_1.sql.gz");
  });

  test("AWS_REGION wins over AWS_DEFAULT_REGION and picks the regional AWS endpoint", () => {
    const s = resolveS3Settings({ ...KEYS, AWS_REGION: "eu-central-1", AWS_DEFAULT_REGION: "us-west-2" });
    expect(s.region).toBe("eu-central-1");
    expect(s.endpoint.href).toBe("https://s3.eu-central-1.amazonaws.com/");
    expect(resolveS3Settings({ ...KEYS, AWS_DEFAULT_REGION: "us-west-2" }).region).toBe("us-west-2");
  });

  test("a custom endpoint (AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL) means path-style, unless forced", () => {
    const s = resolveS3Settings({ ...KEYS, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:7480/", AWS_ENDPOINT_URL: "http://other:1" });
    expect(s.endpoint.origin).toBe("http://127.0.0.1:7480");
    expect(s.customEndpoint).toBe(true);
    expect(new S3Client(s).url("b", "k/x y")).toBe("http://127.0.0.1:7480/b/k/x%20y");
    expect(resolveS3Settings({ ...KEYS, AWS_ENDPOINT_URL: "https://minio.example.com" }).endpoint.origin).toBe("https://minio.example.com");
    const forced = resolveS3Settings({ ...KEYS, AWS_ENDPOINT_URL_S3: "https://s3.example.com", NETRAVEN_DB_S3_ADDRESSING_STYLE: "virtual" });
    expect(new S3Client(forced).url("b", "k")).toBe("https://b.s3.example.com/k");
    const path = resolveS3Settings({ ...KEYS, NETRAVEN_DB_S3_ADDRESSING_STYLE: "path" });
    expect(new S3Client(path).url("b", "", { "list-type": "2", prefix: "a/" })).toBe("https://s3.amazonaws.com/b/?list-type=2&prefix=a%2F");
  });

  test("every variable also as *_FILE (Docker secrets), trailing newline removed; both set is an error", () => {
    writeFileSync(join(dir, "id"), "AKIDFROMFILE\n");
    writeFileSync(join(dir, "secret"), "secret-from-file-0123456789\n");
    writeFileSync(join(dir, "endpoint"), "http://127.0.0.1:9000\n");
    const s = resolveS3Settings({ AWS_ACCESS_KEY_ID_FILE: join(dir, "id"), AWS_SECRET_ACCESS_KEY_FILE: join(dir, "secret"), AWS_ENDPOINT_URL_S3_FILE: join(dir, "endpoint") });
    expect([s.accessKeyId, s.secretAccessKey, s.endpoint.origin]).toEqual(["AKIDFROMFILE", "secret-from-file-0123456789", "http://127.0.0.1:9000"]);
    const both = thrown(() => resolveS3Settings({ ...KEYS, AWS_SECRET_ACCESS_KEY_FILE: join(dir, "secret") }));
    expect(both.message).toBe("AWS_SECRET_ACCESS_KEY: both AWS_SECRET_ACCESS_KEY and AWS_SECRET_ACCESS_KEY_FILE are set; set only one");
    const missing = thrown(() => resolveS3Settings({ ...KEYS, AWS_SESSION_TOKEN_FILE: join(dir, "nope") }));
    expect(missing.message).toBe(`AWS_SESSION_TOKEN_FILE: cannot read ${join(dir, "nope")}: does not exist`);
  });

  test("bad values: one line naming the variable, exit 3, and never the secret itself", () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "AWS_ACCESS_KEY_ID: object storage needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their *_FILE variants)"],
      [{ AWS_ACCESS_KEY_ID: "AKID" }, "AWS_SECRET_ACCESS_KEY: is not set, but AWS_ACCESS_KEY_ID is; set both"],
      [{ AWS_SECRET_ACCESS_KEY: "s3cr3t-value" }, "AWS_ACCESS_KEY_ID: is not set, but AWS_SECRET_ACCESS_KEY is; set both"],
      [{ ...KEYS, AWS_SECRET_ACCESS_KEY: "has a space inside" }, "AWS_SECRET_ACCESS_KEY: must be printable ASCII without spaces (a trailing newline in a *_FILE is removed)"],
      [{ ...KEYS, AWS_REGION: "EU West" }, 'AWS_REGION: must be a region name such as us-east-1, eu-central-1 or auto (got "EU West")'],
      [{ ...KEYS, AWS_ENDPOINT_URL_S3: "minio:9000" }, 'AWS_ENDPOINT_URL_S3: must start with http:// or https:// (got "minio:9000")'],
      [{ ...KEYS, AWS_ENDPOINT_URL: "not a url" }, 'AWS_ENDPOINT_URL: must be a URL such as https://s3.example.com or http://127.0.0.1:9000 (got "not a url")'],
      [{ ...KEYS, AWS_ENDPOINT_URL_S3: "https://s3.example.com/?x=1" }, 'AWS_ENDPOINT_URL_S3: must not have a query or fragment (got "https://s3.example.com/?x=1")'],
      [{ ...KEYS, NETRAVEN_DB_S3_ADDRESSING_STYLE: "dns" }, 'NETRAVEN_DB_S3_ADDRESSING_STYLE: must be auto, path or virtual (got "dns")'],
      [{ ...KEYS, AWS_CA_BUNDLE: join(dir, "missing.pem") }, `AWS_CA_BUNDLE: cannot read ${join(dir, "missing.pem")}: does not exist`],
      [{ ...KEYS, NETRAVEN_DB_S3_ADDRESSING_STYLE: "" }, "NETRAVEN_DB_S3_ADDRESSING_STYLE is set but empty; give it a value or unset it"],
    ];
    for (const [env, message] of cases) {
      const error = thrown(() => resolveS3Settings(env));
      expect({ code: error.code, status: error.exitStatus as number, message: error.message }).toEqual({ code: "CONFIG_INVALID", status: 3, message });
      expect(error.message).not.toContain("has a space inside");
    }
  });

  test("an empty AWS_* variable is unset, as for the AWS CLI and SDKs (templates leave AWS_SESSION_TOKEN= and AWS_ENDPOINT_URL=)", () => {
    const s = resolveS3Settings({ ...KEYS, AWS_SESSION_TOKEN: "", AWS_ENDPOINT_URL: "", AWS_REGION: "", AWS_DEFAULT_REGION: "eu-west-1", AWS_CA_BUNDLE: "" });
    expect([s.sessionToken, s.customEndpoint, s.region, s.caBundle]).toEqual([undefined, false, "eu-west-1", undefined]);
    expect(thrown(() => resolveS3Settings({ AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" })).message).toStartWith("AWS_ACCESS_KEY_ID: object storage needs credentials");
  });

  test("credentials in the endpoint URL are refused without echoing them", () => {
    const error = thrown(() => resolveS3Settings({ ...KEYS, AWS_ENDPOINT_URL_S3: "https://user:pass@s3.example.com" }));
    expect(error.message).toBe("AWS_ENDPOINT_URL_S3: must not contain credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  });

  test("AWS_CA_BUNDLE: read as PEM; a file without a certificate is refused", () => {
    const pem = join(dir, "ca.pem");
    const made = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=netraven test CA", "-keyout", join(dir, "ca.key"), "-out", pem], { encoding: "utf8" });
    expect(made.status).toBe(0);
    const s = resolveS3Settings({ ...KEYS, AWS_ENDPOINT_URL_S3: "https://s3.internal:9000", AWS_CA_BUNDLE: pem });
    expect(s.caBundle).toContain("-----BEGIN CERTIFICATE-----");
    expect(s.caBundlePath).toBe(pem);
    writeFileSync(join(dir, "junk.pem"), "not a certificate\n");
    expect(thrown(() => resolveS3Settings({ ...KEYS, AWS_CA_BUNDLE: join(dir, "junk.pem") })).message).toBe(`AWS_CA_BUNDLE: ${join(dir, "junk.pem")} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  });

  test("the secret key and session token are registered for scrubbing as soon as they are read", () => {
    const secret = "scrub-me-secret-0123456789abcdef";
    const token = "scrub-me-token-FwoGZXIvYXdzEJr";
    resolveS3Settings({ ...KEYS, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token });
    expect(scrub(`key ${secret} token ${token}`)).toBe("key **** token ****");
    // Also when another setting is bad and the run stops there.
    const early = "scrub-me-early-0123456789abcdef";
    thrown(() => resolveS3Settings({ ...KEYS, AWS_SECRET_ACCESS_KEY: early, AWS_REGION: "!!" }));
    expect(scrub(early)).toBe("****");
  });
});

describe("s3:// locations", () => {
  test("a directory: trailing slash added, bucket root allowed", () => {
    expect(parseS3Url("s3://backups/netraven/prod/", "directory")).toEqual({ bucket: "backups", key: "netraven/prod/", kind: "directory" });
    expect(parseS3Url("s3://backups/netraven/prod", "directory")).toEqual({ bucket: "backups", key: "netraven/prod/", kind: "directory" });
    expect(parseS3Url("s3://backups", "directory")).toEqual({ bucket: "backups", key: "", kind: "directory" });
    expect(parseS3Url("S3://backups/", "directory")).toEqual({ bucket: "backups", key: "", kind: "directory" });
  });

  test("a file: the key names an object; keys are literal (no percent-decoding)", () => {
    expect(parseS3Url("s3://backups/prod/netraven_20261130_030000.sql.gz", "file")).toEqual({ bucket: "backups", key: "prod/netraven_20261130_030000.sql.gz", kind: "file" });
    expect(parseS3Url("s3://b12/a%20b?c#d", "file").key).toBe("a%20b?c#d");
  });

  test("bad locations: one line naming the location and what is wrong", () => {
    const cases: Array<[string, "directory" | "file", string]> = [
      ["/var/backups", "directory", "location /var/backups: not an s3:// URL"],
      ["s3://", "directory", "location s3://: no bucket name (write s3://bucket/prefix/)"],
      ["s3:///prefix/", "directory", "location s3:///prefix/: no bucket name (write s3://bucket/prefix/)"],
      ["s3://My_Backups/x/", "directory", 'location s3://My_Backups/x/: invalid bucket name "My_Backups": a bucket name has no upper-case letters'],
      ["s3://ab/x/", "directory", 'location s3://ab/x/: invalid bucket name "ab": a bucket name has 3 to 63 characters'],
      ["s3://192.168.1.10/x/", "directory", 'location s3://192.168.1.10/x/: invalid bucket name "192.168.1.10": a bucket name is not an IP address'],
      ["s3://b12//x/", "directory", "location s3://b12//x/: the key starts with / (write s3://bucket/prefix/, with one slash after the bucket)"],
      ["s3://b12/a//b/", "directory", "location s3://b12/a//b/: the key has an empty path segment (//)"],
      ["s3://b12/a/../b/", "directory", "location s3://b12/a/../b/: the key has a . or .. segment"],
      ["s3://b12/a\nb", "file", "location s3://b12/a\nb: the key contains a control character"],
      ["s3://b12/prod/", "file", "location s3://b12/prod/: names a directory, not a backup object (write s3://b12/prod/netraven_YYYYMMDD_HHMMSS.sql.gz)"],
      ["s3://b12", "file", "location s3://b12: names a directory, not a backup object (write s3://b12/netraven_YYYYMMDD_HHMMSS.sql.gz)"],
    ];
    for (const [text, expect_, message] of cases) {
      const error = thrown(() => parseS3Url(text, expect_));
      expect({ code: error.code, message: error.message }).toEqual({ code: "USAGE", message });
    }
    expect(thrown(() => parseS3Url("s3://b12/x/", "file", "FILE")).message).toStartWith("FILE s3://b12/x/: names a directory");
  });

  test("bucket name rules", () => {
    for (const good of ["abc", "my-backups", "backups.example.com", "a".repeat(63), "0ab"]) expect(bucketNameProblem(good)).toBeUndefined();
    for (const bad of ["a".repeat(64), "-abc", "abc-", "a..b", "a.-b", "a_b"]) expect(bucketNameProblem(bad)).toBeString();
  });

  test("helpers", () => {
    expect(isS3Url("s3://x/y")).toBe(true);
    expect(isS3Url("/backups")).toBe(false);
    const dirLocation = parseS3Url("s3://backups/prod", "directory");
    expect(keyIn(dirLocation, "netraven_1.sql.gz")).toBe("prod/netraven_1.sql.gz");
    expect(baseName("prod/netraven_1.sql.gz")).toBe("netraven_1.sql.gz");
    expect(formatS3Url("backups", "prod/x")).toBe("s3://backups/prod/x");
  });
});
