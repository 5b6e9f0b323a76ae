import { defineCommand } from "citty";
import { resolveSchemaName, resolveSetting, Schemas } from "../config.ts";
import { EXIT } from "../errors.ts";
import { printJson, printResult } from "../output.ts";
import { validateDatabase } from "../validate/index.ts";
import { renderDriftJson, renderDriftText } from "../validate/report.ts";
import { connectionArgs, outputArgs } from "./_args.ts";
import { openConnection, runBody, withConnection } from "./_run.ts";

export default defineCommand({
  meta: {
    name: "validate",
    description: "Compare the live database with the definitions and report every difference (read-only)",
  },
  args: {
    ...connectionArgs,
    strict: { type: "boolean", description: "Also fail on extra tables, columns, indexes and constraints (normally warnings)" },
    ...outputArgs,
  },
  async run({ args }) {
    return runBody(args, "checker", { doing: "validate", outcome: "nothing was changed" }, async (run) => {
      const env = process.env;
      const schema = resolveSchemaName(args.schema, env);
      const strict = resolveSetting("strict", args.strict, env, false, Schemas.boolean());
      const result = await withConnection(
        args,
        env,
        run,
        async (connection) => {
          if (!connection.server.inRecovery) return validateDatabase(connection.sql, schema, { strict });
          // A standby cannot create the temporary tables the definitions are compared with; a writable server of
          // the same list holds them, and the standby's own catalog is what is checked.
          const scratch = await openConnection(args, env, { needs: "primary", command: "validate on a standby (for the temporary tables it compares with)", explainOverride: false });
          try {
            return await validateDatabase(connection.sql, schema, { strict }, scratch.sql);
          } finally {
            await scratch.close().catch(() => undefined);
          }
        },
        { needs: "any", command: "validate", native: true },
      );
      if (args.json) printJson(renderDriftJson(result));
      else printResult(renderDriftText(result));
      return result.ok ? EXIT.OK : EXIT.FINDING;
    });
  },
});
