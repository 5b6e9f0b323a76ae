import { defineCommand } from "citty";
import { restartForLargeFile } from "../allocator.ts";
import { trialRestore, type TrialResult } from "../backup/trial.ts";
import { verifyBackup } from "../backup/verify.ts";
import { resolveLockTimeoutMs, resolveRetry } from "../config.ts";
import { Errors, EXIT } from "../errors.ts";
import { log } from "../log.ts";
import { formatBytes, printJson } from "../output.ts";
import { openBackupFile } from "../storage/index.ts";
import { connectionArgs, backupFileArgs, lockArgs, outputArgs } from "./_args.ts";
import { readIdentities, runBody, withConnection } from "./_run.ts";
import { normalJit } from "../runtime.ts";

export default defineCommand({
  meta: {
    name: "verify",
    description: "Check a backup file: checksum, then every byte parsed; --db also trial-restores it",
  },
  args: {
    ...backupFileArgs,
    db: { type: "boolean", description: "Also load it into a scratch schema on the server (connection flags apply) and validate it; nothing is kept" },
    ...connectionArgs,
    ...lockArgs,
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "checker", { doing: "verify", outcome: "nothing was changed" }, async (run) => {
      normalJit();
      const env = process.env;
      const file = String(args.file);
      const lockTimeoutMs = args.db ? resolveLockTimeoutMs(args["lock-timeout"], env) : 0;
      const identities = await readIdentities(args.identity, env);
      const { store, name } = await openBackupFile(file, { env, setting: "FILE", retry: resolveRetry(args, env), mustExist: false });
      await restartForLargeFile(store, name);
      const result = await verifyBackup(store, name, { record: true, identities, onProgress: run.onProgress, signal: run.signal });
      const { summary } = result;
      if (!summary) {
        // Encrypted, checked without its key: the checksum is all that could be proven.
        if (args.db) throw Errors.identityRequired(name);
        if (args.json) printJson({ ok: true, file, checksum: result.checksum, encrypted: true, contents: "not checked (no --identity)", duration_ms: result.durationMs });
        else log.success(`${name} is intact: its checksum matches (encrypted; its contents were not read)`);
        return EXIT.OK;
      }
      const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
      let trial: TrialResult | undefined;
      if (args.db) {
        const options = { lockTimeoutMs, identities, onProgress: run.onProgress, signal: run.signal };
        trial = await withConnection(args, env, run, (connection) => trialRestore(connection, store, name, { header: summary.header, manifest: result.manifest, tables: summary.tables, dataBytes: summary.dataBytes }, options), { needs: "primary", command: "verify --db", closeOnInterrupt: false });
        for (const d of trial.drifts) log.error(`${d.kind}: ${d.object} (expected ${d.expected}, found ${d.found})`);
        if (trial.drifts.length) throw Errors.badBackup(name, `restored into a scratch schema, it differs from the definitions in ${trial.drifts.length} way(s)`);
      }
      const loaded = trial?.tables.reduce((n, t) => n + t.restored, 0);
      if (args.json) {
        printJson({
          ok: true,
          file,
          checksum: result.checksum,
          encrypted: result.encrypted,
          format_version: summary.header.format_version,
          schema_version: summary.header.schema_version,
          schema: summary.header.schema,
          compression: summary.compression,
          data_bytes: summary.dataBytes,
          rows_total: rows,
          tables: summary.tables,
          trial_restore: trial ? { drifts: 0, loaded } : null,
          duration_ms: result.durationMs,
        });
      } else {
        log.success(
          `${name} is good: ${result.checksum === "matched" ? "checksum matches, " : ""}${summary.tables.length} tables, ${rows} rows, ${formatBytes(summary.dataBytes)} of SQL${trial ? `, restores cleanly (${loaded} rows loaded and rolled back)` : ""}`,
        );
      }
      return EXIT.OK;
    });
  },
});
