import { defineCommand } from "citty";
import { z } from "zod";
import { COMPRESSIONS, MAX_LEVEL, type Compression } from "../backup/compression.ts";
import { runBackupJob } from "../backup/job.ts";
import { resolveBackupDir, resolveSchemaName, resolveSetting, Schemas, type Env } from "../config.ts";
import { DEFAULTS } from "../defaults.ts";
import { EXIT } from "../errors.ts";
import { requirePath } from "../files.ts";
import { log } from "../log.ts";
import { formatBytes, printJson } from "../output.ts";
import { openStore } from "../storage/index.ts";
import { connectionArgs, outputArgs, storeArgs } from "./_args.ts";
import { runBody, withConnection } from "./_run.ts";

function resolveBackupSettings(args: Record<string, unknown>, env: Env) {
  const compression = resolveSetting<Compression>("compress", args.compress, env, DEFAULTS.compression, z.enum(COMPRESSIONS, { message: "must be gzip, zstd or none" }));
  const maxLevel = MAX_LEVEL[compression];
  return {
    schema: resolveSchemaName(args.schema, env),
    dir: resolveBackupDir(args.dir, env),
    compression,
    level: resolveSetting<number | undefined>("level", args.level, env, undefined, Schemas.positiveInt(`a compression level from 1 to ${maxLevel}`).refine((n) => n <= maxLevel, `must be at most ${maxLevel} for ${compression}`)),
    prefix: resolveSetting("prefix", args.prefix, env, DEFAULTS.prefix, z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "may hold only letters, digits, dot, dash and underscore")),
    keepDays: resolveSetting("keep-days", args["keep-days"], env, DEFAULTS.keepDays, Schemas.nonNegativeInt("a whole number of days (0 = keep forever)")),
    keep: resolveSetting("keep", args.keep, env, DEFAULTS.keep, Schemas.nonNegativeInt("a whole number of backups (0 = no limit)")),
  };
}

export default defineCommand({
  meta: {
    name: "backup",
    description: "Write a consistent, compressed, checksummed backup (plain SQL, psql-restorable) and apply retention",
  },
  args: {
    ...connectionArgs,
    ...storeArgs,
    compress: { type: "string", valueHint: "gzip|zstd|none", description: `Compression (default: ${DEFAULTS.compression}; env NETRAVEN_DB_COMPRESS)` },
    level: { type: "string", valueHint: "n", description: `Compression level: gzip 1-${MAX_LEVEL.gzip} (default ${DEFAULTS.level.gzip}), zstd 1-${MAX_LEVEL.zstd} (default ${DEFAULTS.level.zstd}) (env NETRAVEN_DB_LEVEL)` },
    prefix: { type: "string", valueHint: "name", description: `File name prefix: PREFIX_YYYYmmdd_HHMMSS.sql.gz, UTC (default: ${DEFAULTS.prefix}; env NETRAVEN_DB_PREFIX)` },
    "keep-days": { type: "string", valueHint: "days", description: `Delete this tool's backups older than this after a successful backup; 0 = never (default: ${DEFAULTS.keepDays}; env NETRAVEN_DB_KEEP_DAYS)` },
    keep: { type: "string", valueHint: "n", description: `Keep at most N of this tool's backups; 0 = no limit (default: ${DEFAULTS.keep}; env NETRAVEN_DB_KEEP)` },
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "default", { doing: "backup", outcome: "removed the partial backup" }, async (run) => {
      const env = process.env;
      const settings = resolveBackupSettings(args, env);
      await requirePath(settings.dir, "writable directory", "--dir");
      const store = openStore(settings.dir);
      const result = await withConnection(args, env, run, (connection) => runBackupJob(connection, store, { ...settings, onProgress: run.onProgress, signal: run.signal }));
      const { manifest } = result;
      if (args.json) {
        printJson({ ok: true, path: result.location, ...manifest, deleted: result.deleted, removed_partials: result.removedPartials });
      } else {
        log.success(
          `Backup written: ${result.location} (${formatBytes(manifest.size_bytes)}, ${manifest.tables.length} tables, ${manifest.rows_total} rows, schema version ${manifest.schema_version}) in ${(manifest.duration_ms / 1000).toFixed(1)} s; sha256 ${manifest.sha256.slice(0, 16)}… in ${result.name}.json`,
        );
      }
      return EXIT.OK;
    });
  },
});
