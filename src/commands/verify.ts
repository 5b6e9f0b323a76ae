import { defineCommand } from "citty";
import { basename } from "node:path";
import { formatBytes } from "../backup/create.ts";
import { restoreBackup } from "../backup/restore.ts";
import { verifyBackup } from "../backup/verify.ts";
import { resolveSetting, Schemas } from "../config.ts";
import { EXIT, NetravenError } from "../errors.ts";
import { log, printJson } from "../log.ts";
import { connectionArgs, lockArgs, outputArgs } from "./_args.ts";
import { runBody, withConnection } from "./_run.ts";

export default defineCommand({
  meta: {
    name: "verify",
    description: "Check a backup file: checksum, then every byte parsed; --db also trial-restores it",
  },
  args: {
    file: { type: "positional", description: "Backup file (.sql.gz, .sql.zst or .sql)", required: true },
    db: { type: "boolean", description: "Also load it into a scratch schema on the server (connection flags apply) and validate it; nothing is kept" },
    ...connectionArgs,
    ...lockArgs,
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "checker", async () => {
      const env = process.env;
      const file = String(args.file);
      const result = await verifyBackup(file, { record: true });
      const { summary } = result;
      const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
      let trial: { drifts: number; loaded: number } | undefined;
      if (args.db) {
        const lockTimeout = resolveSetting("lock-timeout", args["lock-timeout"], env, 60, Schemas.seconds());
        const restored = await withConnection(args, env, (connection) =>
          restoreBackup(connection, summary.header, { file, lockTimeoutMs: lockTimeout * 1000, trial: true, confirm: async () => true }),
        );
        const drifts = restored.trialDrifts ?? [];
        for (const d of drifts) log.error(`${d.kind}: ${d.object} (expected ${d.expected}, found ${d.found})`);
        if (drifts.length) throw new NetravenError("BACKUP_INVALID", `${basename(file)}: restored into a scratch schema, it differs from the definitions in ${drifts.length} way(s)`);
        trial = { drifts: 0, loaded: restored.tables.reduce((n, t) => n + t.restored, 0) };
      }
      if (args.json) {
        printJson({
          ok: true,
          file,
          checksum: result.checksum,
          format_version: summary.header.format_version,
          schema_version: summary.header.schema_version,
          schema: summary.header.schema,
          compression: summary.compression,
          data_bytes: summary.dataBytes,
          rows_total: rows,
          tables: summary.tables,
          trial_restore: trial ?? null,
          duration_ms: result.durationMs,
        });
      } else {
        log.success(
          `${basename(file)} is good: ${result.checksum === "matched" ? "checksum matches, " : ""}${summary.tables.length} tables, ${rows} rows, ${formatBytes(summary.dataBytes)} of SQL${trial ? `, restores cleanly (${trial.loaded} rows loaded and rolled back)` : ""}`,
        );
      }
      return EXIT.OK;
    });
  },
});
