import { defineCommand } from "citty";
import { resolveSchemaName, resolveSetting, Schemas } from "../config.ts";
import { EXIT } from "../errors.ts";
import { printJson, printResult } from "../output.ts";
import { validateDatabase } from "../validate/index.ts";
import { renderDriftJson, renderDriftText } from "../validate/report.ts";
import { connectionArgs, outputArgs } from "./_args.ts";
import { runBody, withConnection } from "./_run.ts";

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
      const result = await withConnection(args, env, run, (connection) => validateDatabase(connection.sql, schema, { strict }), { needs: "any", command: "validate" });
      if (args.json) printJson(renderDriftJson(result));
      else printResult(renderDriftText(result));
      return result.ok ? EXIT.OK : EXIT.FINDING;
    });
  },
});
