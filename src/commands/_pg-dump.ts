// `restore FILE --from-pg-dump`: the import of an old pg_dump script (src/pgdump/import.ts), rendered like a restore.
// Kept beside restore.ts so the command file only dispatches to it.
import { resolveSchemaName, type Env } from "../config.ts";
import type { ExitStatus } from "../errors.ts";
import { log } from "../log.ts";
import { describeDump, importPgDump, preflightPgDump, type ReplacePlan } from "../pgdump/import.ts";
import type { BackupStore } from "../storage/store.ts";
import type { ConnectFlags } from "./_run.ts";
import { withConnection, type CommandRun } from "./_run.ts";
import { confirmReplacing } from "./_confirm.ts";
import { reportRestore } from "./_restore-report.ts";

export interface PgDumpContext {
  env: Env;
  /** As the user typed it. */
  file: string;
  store: BackupStore;
  name: string;
  lockTimeoutMs: number;
  target: string | undefined;
}

export async function restorePgDump(args: ConnectFlags & { schema?: unknown; yes?: unknown; json?: unknown }, run: CommandRun, context: PgDumpContext): Promise<ExitStatus> {
  const { env, file, store, name } = context;
  const dump = await preflightPgDump(store, name, { onProgress: run.onProgress, signal: run.signal });
  log.info(`${describeDump(name, dump)}: every statement is one pg_dump writes for the NetRaven tables`);
  // Without --schema/NETRAVEN_DB_SCHEMA the data goes back into the schema it was dumped from.
  const schema = resolveSchemaName(args.schema, env, dump.model.schema);
  if (schema === "public" && dump.model.schema === "public") {
    log.warn(`the dump's tables are in schema "public" (where the old setup put them when its role was not called netraven); pass --schema netraven to import them where netraven-db keeps them`);
  }
  const confirm = confirmReplacing<ReplacePlan>(Boolean(args.yes), (plan) => plan.replacement, "import");
  const options = { schema, lockTimeoutMs: context.lockTimeoutMs, confirm, onProgress: run.onProgress, signal: run.signal };
  const result = await withConnection(args, env, run, (connection) => importPgDump(connection, store, name, dump, options), { needs: "primary", command: "restore", database: context.target, create: true, closeOnInterrupt: false });
  return reportRestore(result, {
    json: Boolean(args.json),
    file,
    done: `Imported ${name} (pg_dump file)`,
    source: "the dump",
    extra: {
      source: "pg-dump",
      pg_dump_version: dump.pgDumpVersion ?? null,
      database: result.database,
      schema: result.schema,
      backup_schema_version: result.dumpSchemaVersion,
      tables: result.tables,
      not_in_dump: result.verdict.missing.map((d) => d.object),
      not_carried_over: result.verdict.notCarried.map((d) => d.object),
    },
  });
}
