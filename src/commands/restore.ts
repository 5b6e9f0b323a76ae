import { defineCommand } from "citty";
import { basename } from "node:path";
import { createInterface } from "node:readline/promises";
import { preflight, restoreBackup, type RestorePlan } from "../backup/restore.ts";
import { resolveConnection, resolveSchemaName, resolveSetting, Schemas } from "../config.ts";
import { quoteIdent } from "../quote.ts";
import { Errors, EXIT, isNetravenError, NetravenError } from "../errors.ts";
import { requirePath } from "../files.ts";
import { log, printJson, printResult } from "../log.ts";
import { renderDriftText } from "../validate/report.ts";
import { connectionArgs, lockArgs, outputArgs } from "./_args.ts";
import { openConnection, runBody } from "./_run.ts";
import { translateError, type Connection } from "../db.ts";

async function askToConfirm(plan: RestorePlan): Promise<boolean> {
  const rows = plan.replacing.reduce((n, t) => n + t.estimatedRows, 0);
  process.stderr.write(
    `\nThis REPLACES schema "${plan.schema}" in database "${plan.database}": ${plan.replacing.length} tables with data (about ${rows} rows) will be dropped\n` +
      `and replaced by ${basename(plan.file)} (taken ${plan.header.started_at} from database "${plan.header.database}", ${plan.header.tables.reduce((n, t) => n + t.rows, 0)} rows).\n` +
      `Nothing changes unless the whole restore succeeds.\n`,
  );
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`Type the database name (${plan.database}) to continue: `);
    return answer.trim() === plan.database;
  } finally {
    prompt.close();
  }
}

/** --target-db: connect to that database, creating it when it does not exist yet. */
async function connectTarget(args: Record<string, unknown>, env: NodeJS.ProcessEnv, target: string | undefined): Promise<Connection> {
  try {
    return await openConnection(args, env, { database: target });
  } catch (error) {
    if (!target || !isNetravenError(error) || error.code !== "DATABASE_NOT_FOUND") throw error;
    const maintenance = await openConnection(args, env);
    try {
      await maintenance.sql.unsafe(`CREATE DATABASE ${quoteIdent(target)}`);
      log.info(`Created database "${target}"`);
    } catch (createError) {
      const failure = translateError(createError, `cannot create database "${target}"`);
      // A missing CREATEDB privilege is a refusal by the server (exit 5), like every other missing privilege.
      throw new NetravenError(failure.code, failure.message, { cause: createError, hint: failure.code === "PERMISSION_DENIED" ? `the role needs the CREATEDB privilege (ALTER ROLE ... CREATEDB), or create the database first` : "create it first" });
    } finally {
      await maintenance.close();
    }
    return openConnection(args, env, { database: target });
  }
}

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
    file: { type: "positional", description: "Backup file (.sql.gz, .sql.zst or .sql)", required: true },
    yes: { type: "boolean", alias: "y", description: "Do not ask before replacing existing data (required when stdin is not a terminal)" },
    "target-db": { type: "string", valueHint: "name", description: "Restore into this database on the same server instead (created if missing)" },
    ...connectionArgs,
    ...lockArgs,
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "default", async () => {
      const env = process.env;
      const file = String(args.file);
      resolveConnection(args, env); // settings errors before the (slower) file check
      const lockTimeout = resolveSetting("lock-timeout", args["lock-timeout"], env, 60, Schemas.seconds());
      // Given but empty (`--target-db "$UNSET"`) must not fall back to the live database.
      const target = args["target-db"] === undefined ? undefined : targetDatabase(args["target-db"]);
      await requirePath(file, "file", "FILE");
      const header = await preflight(file);
      // Without --schema/NETRAVEN_DB_SCHEMA the data goes back where it came from.
      const schema = resolveSchemaName(args.schema, env, header.schema);

      const confirm = async (plan: RestorePlan) => {
        if (args.yes) return true;
        if (!process.stdin.isTTY) {
          throw new NetravenError("CONFIRMATION_REQUIRED", `refusing to replace ${plan.replacing.length} tables with data in database "${plan.database}" without confirmation; nothing was changed`, {
            hint: "stdin is not a terminal: pass --yes to restore non-interactively",
          });
        }
        return askToConfirm(plan);
      };

      const connection = await connectTarget(args, env, target);
      let result;
      try {
        result = await restoreBackup(connection, header, { file, schema, lockTimeoutMs: lockTimeout * 1000, confirm });
      } finally {
        await connection.close().catch(() => undefined);
      }
      const mismatched = result.tables.filter((t) => t.expected !== t.restored);
      const rows = result.tables.reduce((n, t) => n + t.restored, 0);
      if (args.json) {
        printJson({
          ok: mismatched.length === 0 && result.validation!.ok,
          file,
          database: result.database,
          schema: result.schema,
          backup_schema_version: result.backupSchemaVersion,
          tables: result.tables,
          rows_total: rows,
          validation: { ok: result.validation!.ok, differences: result.validation!.drifts.map((d) => ({ kind: d.kind, object: d.object, expected: d.expected, found: d.found, severity: d.severity })) },
          duration_ms: result.durationMs,
        });
      } else {
        log.success(`Restored ${basename(file)} into database "${result.database}", schema "${result.schema}": ${result.tables.length} tables, ${rows} rows in ${(result.durationMs / 1000).toFixed(1)} s`);
        for (const t of mismatched) log.error(`table ${t.name}: ${t.restored} rows restored, the backup holds ${t.expected}`);
        printResult(renderDriftText(result.validation!));
      }
      return mismatched.length === 0 && result.validation!.ok ? EXIT.OK : EXIT.FINDING;
    });
  },
});
