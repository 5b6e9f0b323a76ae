// How a finished restore is reported, whatever it restored from (a netraven-db backup, an old pg_dump file): the
// JSON document or the success line, a line per table whose row count differs from the source, the validation, and
// the exit status (a difference in rows or schema is a finding: exit 1).
import { EXIT, type ExitStatus } from "../errors.ts";
import { log } from "../log.ts";
import { printJson, printResult } from "../output.ts";
import type { ValidationResult } from "../validate/index.ts";
import { renderDriftText } from "../validate/report.ts";

export interface RestoreOutcome {
  database: string;
  schema: string;
  tables: Array<{ name: string; expected: number; restored: number }>;
  validation: ValidationResult;
  durationMs: number;
}

export function reportRestore(
  outcome: RestoreOutcome,
  options: { json: boolean; file: string; done: string; source: string; extra: Record<string, unknown> },
): ExitStatus {
  const mismatched = outcome.tables.filter((t) => t.expected !== t.restored);
  const rows = outcome.tables.reduce((n, t) => n + t.restored, 0);
  const ok = mismatched.length === 0 && outcome.validation.ok;
  if (options.json) {
    const { validation } = outcome;
    printJson({
      ok,
      file: options.file,
      ...options.extra,
      rows_total: rows,
      validation: { ok: validation.ok, differences: validation.drifts.map((d) => ({ kind: d.kind, object: d.object, expected: d.expected, found: d.found, severity: d.severity })) },
      duration_ms: outcome.durationMs,
    });
  } else {
    log.success(`${options.done} into database "${outcome.database}", schema "${outcome.schema}": ${outcome.tables.length} tables, ${rows} rows in ${(outcome.durationMs / 1000).toFixed(1)} s`);
    for (const t of mismatched) log.error(`table ${t.name}: ${t.restored} rows restored, ${options.source} holds ${t.expected}`);
    printResult(renderDriftText(outcome.validation));
  }
  return ok ? EXIT.OK : EXIT.FINDING;
}
