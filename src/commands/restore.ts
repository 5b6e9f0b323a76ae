import { defineCommand } from "citty";
import { restartForLargeFile } from "../allocator.ts";
import { preflight, restoreBackup, type RestorePlan } from "../backup/restore.ts";
import { resolveJobs, resolveLockTimeoutMs, resolveRetry, resolveSchemaName, Schemas } from "../config.ts";
import { resolveConnection } from "../connection/settings.ts";
import { DEFAULTS } from "../defaults.ts";
import { Errors } from "../errors.ts";
import { openBackupFile } from "../storage/index.ts";
import { connectionArgs, backupFileArgs, lockArgs, outputArgs } from "./_args.ts";
import { confirmReplacing } from "./_confirm.ts";
import { reportRestore } from "./_restore-report.ts";
import { restorePgDump } from "./_pg-dump.ts";
import { readIdentities, runBody, withConnection } from "./_run.ts";
import { normalJit } from "../runtime.ts";

function targetDatabase(value: unknown): string {
  const parsed = Schemas.databaseName().safeParse(typeof value === "string" ? value : "");
  if (!parsed.success) throw Errors.config("--target-db", `${parsed.error.issues[0]?.message ?? "invalid database name"} (got ${JSON.stringify(String(value))})`);
  return parsed.data;
}

export default defineCommand({
  meta: {
    name: "restore",
    description: "Restore a backup in one transaction after checking it; asks before replacing data",
  },
  args: {
    ...backupFileArgs,
    yes: { type: "boolean", alias: "y", description: "Do not ask before replacing existing data (required when stdin is not a terminal)" },
    jobs: { type: "string", valueHint: "n", description: `Load tables and build indexes over N connections at once; still swapped in by one short transaction (default: ${DEFAULTS.jobs}; env NETRAVEN_DB_JOBS)` },
    "target-db": { type: "string", valueHint: "name", description: "Restore into this database on the same server instead (created if missing)" },
    "from-pg-dump": { type: "boolean", description: "FILE is an old plain pg_dump script (pg_dump | gzip): check every statement, then import only its NetRaven tables' data" },
    ...connectionArgs,
    ...lockArgs,
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "default", { doing: "restore", outcome: "nothing was changed" }, async (run) => {
      normalJit();
      const env = process.env;
      const file = String(args.file);
      resolveConnection(args, env); // settings errors before the (slower) file check
      const lockTimeoutMs = resolveLockTimeoutMs(args["lock-timeout"], env);
      const jobs = resolveJobs(args.jobs, env);
      const target = args["target-db"] === undefined ? undefined : targetDatabase(args["target-db"]);
      const identities = await readIdentities(args.identity, env);
      const { store, name } = await openBackupFile(file, { env, setting: "FILE", retry: resolveRetry(args, env) });
      if (args["from-pg-dump"]) return restorePgDump(args, run, { env, file, store, name, lockTimeoutMs, target });
      await restartForLargeFile(store, name);
      const backup = await preflight(store, name, { identities, onProgress: run.onProgress, signal: run.signal });
      // Without --schema/NETRAVEN_DB_SCHEMA the data goes back where it came from.
      const schema = resolveSchemaName(args.schema, env, backup.header.schema);
      const confirm = confirmReplacing<RestorePlan>(
        Boolean(args.yes),
        (plan) => `${plan.name} (taken ${plan.backup.header.started_at} from database "${plan.backup.header.database}", ${plan.backup.tables.reduce((n, t) => n + t.rows, 0)} rows)`,
      );
      const options = { schema, lockTimeoutMs, jobs, confirm, identities, onProgress: run.onProgress, signal: run.signal };
      const result = await withConnection(args, env, run, (connection) => restoreBackup(connection, store, name, backup, options), {
        needs: "primary",
        command: "restore",
        database: target,
        create: true,
        closeOnInterrupt: false,
      });
      return reportRestore(result, {
        json: Boolean(args.json),
        file,
        done: `Restored ${name}`,
        source: "the backup",
        extra: { database: result.database, schema: result.schema, backup_schema_version: result.backupSchemaVersion, tables: result.tables },
      });
    });
  },
});
