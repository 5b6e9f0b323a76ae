// Where a backup lives in object storage: `s3://bucket/prefix/` (a directory: backups and manifests side by side) or
// `s3://bucket/prefix/netraven_20261130_030000.sql.gz` (one backup). Parsed by hand, not with `new URL`: an s3:// path
// is a literal key as the AWS CLI treats it (no percent-decoding, `?` and `#` are key characters), and bucket names
// have their own rules. Every message names the location as the user wrote it.
import { Errors } from "../errors.ts";

export interface S3Location {
  bucket: string;
  /** The object key ("" for the bucket's root; a directory key ends with "/"). */
  key: string;
  kind: "directory" | "file";
}

const SCHEME = /^s3:\/\//i;

export function isS3Url(text: string): boolean {
  return SCHEME.test(text);
}

/** s3://bucket/key, as shown in messages. */
export function formatS3Url(bucket: string, key = ""): string {
  return `s3://${bucket}/${key}`;
}

/** Why a bucket name is invalid (the S3 naming rules every provider enforces), or undefined when it is fine. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "a bucket name has 3 to 63 characters";
  if (/[A-Z]/.test(name)) return "a bucket name has no upper-case letters";
  if (/[^a-z0-9.-]/.test(name)) return "a bucket name has only lower-case letters, digits, dots and hyphens";
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return "a bucket name starts and ends with a letter or digit";
  if (name.includes("..") || name.includes(".-") || name.includes("-.")) return "a bucket name has no two adjacent dots and no dot next to a hyphen";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "a bucket name is not an IP address";
  return undefined;
}

function keyProblem(key: string): string | undefined {
  if (Buffer.byteLength(key) > 1024) return "the key is longer than 1024 bytes";
  if (/[\u0000-\u001f\u007f]/.test(key)) return "the key contains a control character";
  if (key.startsWith("/")) return "the key starts with / (write s3://bucket/prefix/, with one slash after the bucket)";
  const segments = key.split("/");
  if (segments.slice(0, -1).some((s) => s === "")) return "the key has an empty path segment (//)";
  if (segments.some((s) => s === "." || s === "..")) return "the key has a . or .. segment";
  return undefined;
}

/**
 * Parses an s3:// URL. `expect` says what the command needs: a directory (`--dir`: a missing trailing slash is
 * added) or a file (`verify F`, `restore F`: the key must name an object, not end with /).
 */
export function parseS3Url(text: string, expect: "directory" | "file", setting = "location"): S3Location {
  if (!SCHEME.test(text)) throw Errors.usage(`${setting} ${text}: not an s3:// URL`);
  const rest = text.replace(SCHEME, "");
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let key = slash < 0 ? "" : rest.slice(slash + 1);
  if (bucket === "") throw Errors.usage(`${setting} ${text}: no bucket name (write s3://bucket/prefix/)`);
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) throw Errors.usage(`${setting} ${text}: invalid bucket name "${bucket}": ${bucketProblem}`);
  const problem = keyProblem(key);
  if (problem) throw Errors.usage(`${setting} ${text}: ${problem}`);
  if (expect === "directory") {
    if (key !== "" && !key.endsWith("/")) key += "/";
    return { bucket, key, kind: "directory" };
  }
  if (key === "" || key.endsWith("/")) throw Errors.usage(`${setting} ${text}: names a directory, not a backup object (write s3://${bucket}/${key}netraven_YYYYMMDD_HHMMSS.sql.gz)`);
  return { bucket, key, kind: "file" };
}

/** The key of `name` inside a directory location. */
export function keyIn(directory: S3Location, name: string): string {
  return `${directory.key}${name}`;
}

/** The last path segment of a key: the backup's file name. */
export function baseName(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}
