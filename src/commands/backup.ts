import { defineCommand } from "citty";
import { basename } from "node:path";
import { z } from "zod";
import { createBackup, formatBytes } from "../backup/create.ts";
import { COMPRESSIONS, type Compression } from "../backup/format.ts";
import { applyRetention, removeStalePartials } from "../backup/retention.ts";
import { resolveSchemaName, resolveSetting, Schemas } from "../config.ts";
import { EXIT } from "../errors.ts";
import { requirePath } from "../files.ts";
import { log, printJson } from "../log.ts";
import { connectionArgs, outputArgs } from "./_args.ts";
import { runBody, withConnection } from "./_run.ts";

export const dirArg = {
  dir: { type: "string", valueHint: "path", description: "Backup directory, e.g. the backup volume (default: /backups; env NETRAVEN_DB_DIR)" },
} as const;

export function resolveDir(flag: unknown, env: NodeJS.ProcessEnv): string {
  return resolveSetting("dir", flag, env, "/backups", z.string().min(1, "must not be empty"));
}

export default defineCommand({
  meta: {
    name: "backup",
    description: "Write a consistent, compressed, checksummed backup (plain SQL, psql-restorable) and apply retention",
  },
  args: {
    ...connectionArgs,
    ...dirArg,
    compress: { type: "string", valueHint: "gzip|zstd|none", description: "Compression (default: gzip; env NETRAVEN_DB_COMPRESS)" },
    level: { type: "string", valueHint: "n", description: "Compression level: gzip 1-9 (default 6), zstd 1-19 (default 3) (env NETRAVEN_DB_LEVEL)" },
    prefix: { type: "string", valueHint: "name", description: "File name prefix: PREFIX_YYYYmmdd_HHMMSS.sql.gz, UTC (default: netraven; env NETRAVEN_DB_PREFIX)" },
    "keep-days": { type: "string", valueHint: "days", description: "Delete this tool's backups older than this after a successful backup; 0 = never (default: 7; env NETRAVEN_DB_KEEP_DAYS)" },
    keep: { type: "string", valueHint: "n", description: "Keep at most N of this tool's backups; 0 = no limit (default: 0; env NETRAVEN_DB_KEEP)" },
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "default", async () => {
      const env = process.env;
      const schema = resolveSchemaName(args.schema, env);
      const dir = resolveDir(args.dir, env);
      const compression = resolveSetting<Compression>("compress", args.compress, env, "gzip", z.enum(COMPRESSIONS as [Compression, ...Compression[]], { message: "must be gzip, zstd or none" }));
      const maxLevel = compression === "zstd" ? 19 : 9;
      const level = resolveSetting<number | undefined>("level", args.level, env, undefined, Schemas.positiveInt(`a compression level from 1 to ${maxLevel}`).refine((n) => n <= maxLevel, `must be at most ${maxLevel} for ${compression}`));
      const prefix = resolveSetting("prefix", args.prefix, env, "netraven", z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "may hold only letters, digits, dot, dash and underscore"));
      const keepDays = resolveSetting("keep-days", args["keep-days"], env, 7, Schemas.nonNegativeInt("a whole number of days (0 = keep forever)"));
      const keep = resolveSetting("keep", args.keep, env, 0, Schemas.nonNegativeInt("a whole number of backups (0 = no limit)"));

      await requirePath(dir, "writable directory", "--dir");
      const { path, manifest } = await withConnection(args, env, (connection) =>
        createBackup(connection, { dir, schema, compression, level, prefix, progress: Boolean(process.stderr.isTTY) && !args.quiet && !args.json }),
      );
      // Retention only after a backup that fully succeeded, and never the newest.
      const stale = await removeStalePartials(dir);
      const deleted = await applyRetention(dir, prefix, { keepDays, keep });
      const seconds = (manifest.duration_ms / 1000).toFixed(1);
      if (args.json) {
        printJson({ ok: true, path, ...manifest, deleted, removed_partials: stale });
      } else {
        log.success(
          `Backup written: ${path} (${formatBytes(manifest.size_bytes)}, ${manifest.tables.length} tables, ${manifest.rows_total} rows, schema version ${manifest.schema_version}) in ${seconds} s; sha256 ${manifest.sha256.slice(0, 16)}… in ${basename(path)}.json`,
        );
      }
      return EXIT.OK;
    });
  },
});
