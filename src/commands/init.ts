import { defineCommand } from "citty";
import { readEnvOrFile, resolveLockTimeoutMs, resolveSchemaName } from "../config.ts";
import { EXIT } from "../errors.ts";
import type { QuickFacts } from "../init/quick-check.ts";
import type { InitResult } from "../init/run.ts";
import { log } from "../log.ts";
import { printJson, printResult } from "../output.ts";
import { registerSecret } from "../secrets.ts";
import { connectionArgs, lockArgs, outputArgs } from "./_args.ts";
import { runBody, withConnection } from "./_run.ts";

// The init job's modules are loaded once the connection's first stream is being dialled (firstQuery runs then, see
// connection/connect.ts): evaluating them overlaps the server starting the session instead of coming before it.
const loadJob = () => Promise.all([import("../init/run.ts"), import("../init/quick-check.ts")]);
let job: ReturnType<typeof loadJob> | undefined;

function summary(result: InitResult, database: string, counts: ReturnType<typeof import("../init/run.ts").definitionCounts>): string {
  const took = `${result.durationMs} ms`;
  const seeded = [result.seeded.settings && `${result.seeded.settings} admin settings`, result.seeded.tags && "the Default tag", result.seeded.admin && "the admin user"].filter(Boolean).join(", ");
  const seededText = seeded ? `; seeded ${seeded}` : "";
  switch (result.action) {
    case "up-to-date":
      return `Database "${database}" is up to date (schema "${result.schema}", version ${result.schemaVersion}); nothing to do.`;
    case "created":
      return `Created schema "${result.schema}" in database "${database}": ${counts.tables} tables, ${counts.indexes} indexes, ${counts.foreignKeys} foreign keys${seededText}; schema version ${result.schemaVersion} (${took}).`;
    case "adopted":
      return `Adopted the existing NetRaven tables in "${result.schema}" as schema version ${result.schemaVersion}${result.repaired.length ? `, repaired ${result.repaired.length} difference(s)` : ""}${seededText} (${took}).`;
    case "migrated":
      return `Migrated schema "${result.schema}" from version ${result.previousVersion} to ${result.schemaVersion}${seededText} (${took}).`;
    case "repaired":
      return `Repaired ${result.repaired.length} difference(s) in schema "${result.schema}" (version ${result.schemaVersion})${seededText} (${took}).`;
    case "seeded":
      return `Schema "${result.schema}" is at version ${result.schemaVersion}${seededText} (${took}).`;
  }
}

export default defineCommand({
  meta: {
    name: "init",
    description: "Create or update the NetRaven schema; safe on every container start (an up-to-date database is left untouched)",
  },
  args: {
    ...connectionArgs,
    ...lockArgs,
    "dry-run": { type: "boolean", description: "Print the SQL init would run, change nothing" },
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "default", { doing: "init", outcome: "nothing was changed" }, async (run) => {
      const env = process.env;
      const schema = resolveSchemaName(args.schema, env);
      const lockTimeoutMs = resolveLockTimeoutMs(args["lock-timeout"], env);
      // Never a flag: a password in argv is visible to every local user.
      const adminPassword = readEnvOrFile(env, "NETRAVEN_DB_ADMIN_PASSWORD");
      registerSecret(adminPassword);
      const dryRun = Boolean(args["dry-run"]);
      const result = await withConnection(
        args,
        env,
        run,
        async (connection) => {
          const [{ runInit, definitionCounts }] = await (job ??= loadJob());
          const r = await runInit(connection, { schema, lockTimeoutMs, dryRun, adminPassword, quickFacts: connection.firstResult as Promise<QuickFacts> | undefined });
          return { r, database: connection.server.database, counts: definitionCounts() };
        },
        // The fast path's catalog read travels with the connection's probe: one round trip less on every start.
        // init moves no bulk data, so it connects over Bun's own socket (no node:net to load).
        { needs: "primary", command: "init", firstQuery: async (sql) => (await (job ??= loadJob()))[1].readQuickFacts(sql, schema), native: true },
      );
      const { r, database, counts } = result;
      for (const warning of r.warnings) log.warn(`${warning.kind}: ${warning.object} (${warning.found})`);
      for (const repair of r.repaired) log.info(`${dryRun ? "Would repair" : "Repaired"}: ${repair.kind} ${repair.object}`);
      if (args.json) {
        printJson({
          ok: true,
          action: r.action,
          dry_run: r.dryRun,
          database,
          schema: r.schema,
          schema_version: r.schemaVersion,
          previous_version: r.previousVersion,
          statements: r.statements.map((s) => (dryRun ? { object: s.object, sql: s.sql } : { object: s.object })),
          repaired: r.repaired.map((d) => ({ kind: d.kind, object: d.object })),
          warnings: r.warnings.map((d) => ({ kind: d.kind, object: d.object, found: d.found })),
          seeded: r.seeded,
          duration_ms: r.durationMs,
        });
      } else if (dryRun) {
        printResult(r.statements.length ? r.statements.map((s) => `-- ${s.object}\n${s.sql};`).join("\n\n") : `-- nothing to do: database "${database}" is up to date`);
      } else {
        log.success(summary(r, database, counts));
      }
      return EXIT.OK;
    });
  },
});
