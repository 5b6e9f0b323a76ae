// From what a user typed to a store: `--dir /backups` or `--dir s3://bucket/prefix/` names a store, `restore
// /backups/x.sql.gz` or `restore s3://bucket/prefix/x.sql.gz` a file in one. The only place that knows which kinds
// of store exist. Every location is checked here, before any work starts: a directory must exist (nothing is ever
// created implicitly), a bucket must answer to the credentials.
import { basename, dirname } from "node:path";
import type { RetrySettings } from "../config.ts";
import type { Env } from "../config.ts";
import { Errors } from "../errors.ts";
import { requirePath } from "../files.ts";
import { LocalStore } from "./local.ts";
import type { BackupStore } from "./store.ts";

export type { BackupSink, BackupStore, StoredFile } from "./store.ts";

export interface OpenOptions {
  env: Env;
  /** What the command will do there: write backups, or only read them. */
  access: "write" | "read";
  /** The flag or argument that named it, for messages. */
  setting: string;
  retry?: RetrySettings;
  /** Object Lock retention in days for what is written (S3 only). */
  lockDays?: number;
}

const isS3 = (location: string) => /^s3:\/\//i.test(location);

export async function openStore(location: string, options: OpenOptions): Promise<BackupStore> {
  if (isS3(location)) {
    const { openS3Store } = await import("./s3.ts");
    const store = await openS3Store(location, options.env, { retry: options.retry, lockDays: options.lockDays });
    await store.probe(options.access);
    return store;
  }
  if (options.lockDays) throw Errors.usage(`--object-lock-days: ${location} is not in object storage (Object Lock is an S3 feature)`);
  await requirePath(location, options.access === "write" ? "writable directory" : "directory", options.setting);
  return new LocalStore(location);
}

/**
 * The store that holds `file`, and the file's name in it. `mustExist: false` leaves a missing file for the reader to
 * report (verify: "could not check"); otherwise it is bad input, found before any work starts.
 */
export async function openBackupFile(file: string, options: Omit<OpenOptions, "access"> & { mustExist?: boolean }): Promise<{ store: BackupStore; name: string }> {
  if (isS3(file)) {
    const { parseS3Url } = await import("../s3/location.ts");
    const { bucket, key } = parseS3Url(file, "file", options.setting);
    const slash = key.lastIndexOf("/");
    return { store: await openStore(`s3://${bucket}/${key.slice(0, slash + 1)}`, { ...options, access: "read" }), name: key.slice(slash + 1) };
  }
  if (options.mustExist !== false) await requirePath(file, "file", options.setting);
  return { store: new LocalStore(dirname(file)), name: basename(file) };
}
