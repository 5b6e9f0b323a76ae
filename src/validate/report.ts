// Text and JSON renderings of a validation. Text: one aligned line per difference, then a count line. JSON: a
// stable document with snake_case keys (documented in the README under "validate --json").
import type { Drift } from "./diff.ts";
import type { ValidationResult } from "./index.ts";

function sentence(drift: Drift): string {
  if (drift.kind.endsWith("_MISSING") && drift.found === "missing") return `${drift.object}: missing (expected ${drift.expected})`;
  if (drift.kind.endsWith("_EXTRA")) return `${drift.object}: not in the definitions${drift.found && drift.found !== "present" ? ` (found ${drift.found})` : ""}`;
  const aspect: Record<string, string> = {
    COLUMN_TYPE_CHANGED: "type ",
    COLUMN_NULLABILITY_CHANGED: "",
    COLUMN_DEFAULT_CHANGED: "default ",
    COLUMN_COLLATION_CHANGED: "collation ",
    INDEX_RENAMED: "name ",
  };
  return `${drift.object}: ${aspect[drift.kind] ?? ""}${drift.expected} expected, found ${drift.found}`;
}

/** A database that was never initialised has nothing to compare: say that, not "N errors (13 tables checked)". */
function notInitialised(result: ValidationResult): string | undefined {
  if (result.tablesPresent > 0) return undefined;
  const where = result.schemaExists ? `schema "${result.schema}" holds none of the ${result.tablesChecked} NetRaven tables` : `schema "${result.schema}" does not exist`;
  return `Nothing to compare: ${where}. To create it, run: netraven-db init${result.schema === "netraven" ? "" : ` --schema ${JSON.stringify(result.schema)}`}`;
}

export function renderDriftText(result: ValidationResult): string {
  const empty = notInitialised(result);
  if (empty) return empty;
  const errors = result.drifts.filter((d) => d.severity === "error").length;
  const warnings = result.drifts.length - errors;
  if (result.drifts.length === 0) return `Schema matches definitions (${result.tablesChecked} tables checked).`;
  const kindWidth = Math.max(...result.drifts.map((d) => d.kind.length));
  const lines = result.drifts.map((d) => `${d.severity === "error" ? "error  " : "warning"}  ${d.kind.padEnd(kindWidth)}  ${sentence(d)}`);
  const counts = [`${errors} error${errors === 1 ? "" : "s"}`, `${warnings} warning${warnings === 1 ? "" : "s"}`].join(", ");
  const verdict = errors ? "Schema does NOT match definitions" : "Schema matches definitions, with warnings";
  lines.push(`${verdict}: ${counts} in schema "${result.schema}" (${result.tablesChecked} tables checked).`);
  return lines.join("\n");
}

export function renderDriftJson(result: ValidationResult) {
  return {
    ok: result.ok,
    schema: result.schema,
    tables_checked: result.tablesChecked,
    tables_present: result.tablesPresent,
    initialised: result.tablesPresent > 0,
    schema_version: result.schemaVersion,
    expected_schema_version: result.expectedSchemaVersion,
    errors: result.drifts.filter((d) => d.severity === "error").length,
    warnings: result.drifts.filter((d) => d.severity === "warning").length,
    differences: result.drifts.map((d) => ({ kind: d.kind, object: d.object, expected: d.expected, found: d.found, severity: d.severity })),
  };
}

/** One line per drift for logs (init's adoption refusal). */
export function driftLines(drifts: readonly Drift[]): string[] {
  return drifts.map((d) => `${d.kind}: ${sentence(d)}`);
}
