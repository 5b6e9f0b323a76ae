import { defineCommand } from "citty";
import * as z from "../zod.ts";
import type { Recipients } from "../age/recipients.ts";
import { COMPRESSIONS, MAX_LEVEL, type Compression } from "../backup/compression.ts";
import { runBackupJob } from "../backup/job.ts";
import { readEnvOrFile, resolveBackupDir, resolveJobs, resolveRetry, resolveSchemaName, resolveSetting, Schemas, type Env } from "../config.ts";
import { DEFAULTS } from "../defaults.ts";
import { Errors, EXIT } from "../errors.ts";
import { log } from "../log.ts";
import { formatBytes, printJson } from "../output.ts";
import { describeTables } from "../schema/index.ts";
import { openStore, type BackupStore } from "../storage/index.ts";
import { allValues, connectionArgs, outputArgs, storeArgs } from "./_args.ts";
import { runBody, withConnection } from "./_run.ts";
import { normalJit } from "../runtime.ts";

function resolveBackupSettings(args: Record<string, unknown>, rawArgs: readonly string[], env: Env) {
  const compression = resolveSetting<Compression>("compress", args.compress, env, DEFAULTS.compression, z.enum(COMPRESSIONS, { message: "must be gzip, zstd or none" }));
  const maxLevel = MAX_LEVEL[compression];
  const dirs = allValues(rawArgs, "dir");
  return {
    schema: resolveSchemaName(args.schema, env),
    locations: dirs.length ? [...new Set(dirs)] : [resolveBackupDir(undefined, env)],
    compression,
    level: resolveSetting<number | undefined>("level", args.level, env, undefined, Schemas.positiveInt(`a compression level from 1 to ${maxLevel}`).check(z.refine((n) => n <= maxLevel, `must be at most ${maxLevel} for ${compression}`))),
    prefix: resolveSetting("prefix", args.prefix, env, DEFAULTS.prefix, z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "may hold only letters, digits, dot, dash and underscore"))),
    keepDays: resolveSetting("keep-days", args["keep-days"], env, DEFAULTS.keepDays, Schemas.nonNegativeInt("a whole number of days (0 = keep forever)")),
    keep: resolveSetting("keep", args.keep, env, DEFAULTS.keep, Schemas.nonNegativeInt("a whole number of backups (0 = no limit)")),
    jobs: resolveJobs(args.jobs, env),
    lockDays: resolveSetting<number | undefined>("object-lock-days", args["object-lock-days"], env, undefined, Schemas.positiveInt("a whole number of days, at least 1")),
  };
}

/**
 * The age recipients: every --encrypt-to (else NETRAVEN_DB_ENCRYPT_TO, a list) and the keys in --recipients-file
 * (else the file NETRAVEN_DB_RECIPIENTS_FILE names). Only public keys: the backup host never needs a private one.
 */
async function resolveRecipients(args: Record<string, unknown>, rawArgs: readonly string[], env: Env): Promise<Recipients | undefined> {
  const flags = allValues(rawArgs, "encrypt-to");
  const listed = flags.length ? flags : [readEnvOrFile(env, "NETRAVEN_DB_ENCRYPT_TO")].filter((v): v is string => v !== undefined);
  const file = typeof args["recipients-file"] === "string" ? args["recipients-file"] : env.NETRAVEN_DB_RECIPIENTS_FILE;
  if (file === "") throw Errors.emptyVariable("NETRAVEN_DB_RECIPIENTS_FILE");
  if (listed.length === 0 && file === undefined) return undefined;
  const { parseRecipients, readRecipientsFile, recipientsFromValues } = await import("../age/recipients.ts");
  const entries = [
    // A recipients file alone is enough; an explicitly empty NETRAVEN_DB_ENCRYPT_TO was refused by readEnvOrFile.
    ...(listed.length === 0 ? [] : recipientsFromValues(listed, flags.length ? "--encrypt-to" : "NETRAVEN_DB_ENCRYPT_TO")),
    ...(file === undefined ? [] : await readRecipientsFile(file, typeof args["recipients-file"] === "string" ? "--recipients-file" : "NETRAVEN_DB_RECIPIENTS_FILE")),
  ];
  return parseRecipients(entries);
}

export default defineCommand({
  meta: {
    name: "backup",
    description: "Write a consistent, compressed, checksummed backup (plain SQL, psql-restorable) to one or more locations, and apply retention",
  },
  args: {
    ...connectionArgs,
    ...storeArgs,
    compress: { type: "string", valueHint: "gzip|zstd|none", description: `Compression (default: ${DEFAULTS.compression}; env NETRAVEN_DB_COMPRESS)` },
    level: { type: "string", valueHint: "n", description: `Compression level: gzip 1-${MAX_LEVEL.gzip} (default ${DEFAULTS.level.gzip}), zstd 1-${MAX_LEVEL.zstd} (default ${DEFAULTS.level.zstd}) (env NETRAVEN_DB_LEVEL)` },
    prefix: { type: "string", valueHint: "name", description: `File name prefix: PREFIX_YYYYmmdd_HHMMSS.sql.gz, UTC (default: ${DEFAULTS.prefix}; env NETRAVEN_DB_PREFIX)` },
    "keep-days": { type: "string", valueHint: "days", description: `Delete this tool's backups older than this after a successful backup; 0 = never (default: ${DEFAULTS.keepDays}; env NETRAVEN_DB_KEEP_DAYS)` },
    keep: { type: "string", valueHint: "n", description: `Keep at most N of this tool's backups; 0 = no limit (default: ${DEFAULTS.keep}; env NETRAVEN_DB_KEEP)` },
    jobs: { type: "string", valueHint: "n", description: `Read tables over N connections at once, largest first, from one snapshot; the file is the same as with 1 (default: ${DEFAULTS.jobs}; env NETRAVEN_DB_JOBS)` },
    "encrypt-to": { type: "string", valueHint: "age1...", description: "Encrypt to this age public key; repeat for several (env NETRAVEN_DB_ENCRYPT_TO: a list)" },
    "recipients-file": { type: "string", valueHint: "file", description: "Encrypt to every age public key in this file, one a line (env NETRAVEN_DB_RECIPIENTS_FILE)" },
    encrypt: { type: "boolean", description: "--encrypt: refuse to run without recipients; --no-encrypt: an unencrypted backup to object storage is intended (no warning)" },
    "object-lock-days": { type: "string", valueHint: "days", description: "S3 Object Lock (compliance mode) on each backup and manifest for this many days: nobody can delete them earlier (env NETRAVEN_DB_OBJECT_LOCK_DAYS)" },
    ...outputArgs,
  },
  async run({ args, rawArgs }) {
    return runBody(args, "default", { doing: "backup", outcome: "removed the partial backup" }, async (run) => {
      normalJit();
      const env = process.env;
      const settings = resolveBackupSettings(args, rawArgs, env);
      const recipients = await resolveRecipients(args, rawArgs, env);
      if (args.encrypt === true && !recipients) throw Errors.usage("--encrypt: no recipients to encrypt to", "give --encrypt-to age1... or --recipients-file FILE");
      if (args.encrypt === false && recipients) throw Errors.usage("--no-encrypt contradicts --encrypt-to / --recipients-file; give one or the other");
      const retry = resolveRetry(args, env);
      const stores: BackupStore[] = [];
      for (const location of settings.locations) stores.push(await openStore(location, { env, access: "write", setting: "--dir", retry, lockDays: settings.lockDays }));
      if (!recipients && args.encrypt !== false) {
        for (const store of stores.filter((s) => s.location.startsWith("s3://"))) {
          log.warn(`the backup to ${store.location} is NOT encrypted: whoever can read the bucket can read it; pass --encrypt-to age1... (or --no-encrypt if that is intended)`);
        }
      }
      const result = await withConnection(args, env, run, (connection) => runBackupJob(connection, stores, { ...settings, recipients, onProgress: run.onProgress, signal: run.signal }), {
        needs: "any",
        command: "backup",
      });
      const [first] = result.written;
      if (args.json) {
        printJson({
          ok: true,
          path: first!.location,
          ...first!.manifest,
          deleted: first!.deleted,
          removed_partials: first!.removedPartials,
          locations: result.written.map((w) => ({ path: w.location, size_bytes: w.manifest.size_bytes, sha256: w.manifest.sha256, deleted: w.deleted, removed_partials: w.removedPartials })),
        });
      } else {
        const source = result.written[0]!.manifest;
        if (source.taken_from === "standby") {
          const asOf = source.standby_replay_timestamp
            ? `its data is as of the last commit it had replayed, ${source.standby_replay_timestamp} (${((Date.parse(source.started_at) - Date.parse(source.standby_replay_timestamp)) / 1000).toFixed(1)} s before the backup started)`
            : "it had replayed no commit since it started";
          log.info(`taken from a standby: ${asOf}; the manifest records it (taken_from, standby_replay_timestamp)`);
        }
        for (const { location, manifest, name } of result.written) {
          log.success(
            `Backup written: ${location} (${formatBytes(manifest.size_bytes)}, ${describeTables(manifest.tables.map((t) => t.name))}, ${manifest.rows_total} rows, schema version ${manifest.schema_version}${manifest.encryption ? `, encrypted to ${manifest.encryption.recipients.length} age recipient${manifest.encryption.recipients.length === 1 ? "" : "s"}` : ""}) in ${(manifest.duration_ms / 1000).toFixed(1)} s; sha256 ${manifest.sha256.slice(0, 16)}… in ${name}.json`,
          );
        }
      }
      return EXIT.OK;
    });
  },
});
