// `restore FILE --from-pg-dump`: the import of an old pg_dump script (src/pgdump/import.ts), rendered like a restore.
// Kept beside restore.ts so the command file only dispatches to it.
import { resolveSchemaName, type Env } from "../config.ts";
import { EXIT, type ExitStatus } from "../errors.ts";
import { log } from "../log.ts";
import { printJson, printResult } from "../output.ts";
import { describeDump, importPgDump, preflightPgDump, type ReplacePlan } from "../pgdump/import.ts";
import type { BackupStore } from "../storage/store.ts";
import { renderDriftText } from "../validate/report.ts";
import type { ConnectFlags } from "./_run.ts";
import { withConnection, type CommandRun } from "./_run.ts";
import { confirmReplacing } from "./_confirm.ts";

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
  const mismatched = result.tables.filter((t) => t.expected !== t.restored);
  const rows = result.tables.reduce((n, t) => n + t.restored, 0);
  const ok = mismatched.length === 0 && result.validation.ok;
  if (args.json) {
    printJson({
      ok,
      file,
      source: "pg-dump",
      pg_dump_version: dump.pgDumpVersion ?? null,
      database: result.database,
      schema: result.schema,
      backup_schema_version: result.dumpSchemaVersion,
      tables: result.tables,
      rows_total: rows,
      not_in_dump: result.verdict.missing.map((d) => d.object),
      not_carried_over: result.verdict.notCarried.map((d) => d.object),
      validation: { ok: result.validation.ok, differences: result.validation.drifts.map((d) => ({ kind: d.kind, object: d.object, expected: d.expected, found: d.found, severity: d.severity })) },
      duration_ms: result.durationMs,
    });
  } else {
    log.success(`Imported ${name} (pg_dump file) into database "${result.database}", schema "${result.schema}": ${result.tables.length} tables, ${rows} rows in ${(result.durationMs / 1000).toFixed(1)} s`);
    for (const t of mismatched) log.error(`table ${t.name}: ${t.restored} rows restored, the dump holds ${t.expected}`);
    printResult(renderDriftText(result.validation));
  }
  return ok ? EXIT.OK : EXIT.FINDING;
}
