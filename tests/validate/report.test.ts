// validate's two renderings: text (one aligned line per drift, then a count line; a fixed sentence when clean) and
// the --json document with snake_case keys in a stable order.
import { describe, expect, test } from "bun:test";
import type { Drift } from "../../src/validate/diff.ts";
import type { ValidationResult } from "../../src/validate/index.ts";
import { driftLines, renderDriftJson, renderDriftText } from "../../src/validate/report.ts";

const drift = (kind: string, object: string, expected: string | null, found: string | null, severity: Drift["severity"] = "error", target?: Drift["target"]): Drift => ({
  kind,
  object,
  expected,
  found,
  severity,
  ...(target ? { target } : {}),
});

function result(drifts: Drift[], overrides: Partial<ValidationResult> = {}): ValidationResult {
  return { ok: !drifts.some((d) => d.severity === "error"), schema: "netraven", tablesChecked: 13, tablesPresent: 14, schemaExists: true, schemaVersion: 2, expectedSchemaVersion: 2, drifts, ...overrides };
}

const mixed = [
  drift("COLUMN_EXTRA", "column users.nickname", "absent (not in the definitions)", "text", "warning"),
  drift("COLUMN_MISSING", "column users.email", "varchar(100) NOT NULL", "missing"),
  drift("COLUMN_TYPE_CHANGED", "column users.username", "varchar(50)", "text"),
  drift("INDEX_MISSING", "index ix_devices_hostname on devices", "btree (hostname)", "missing", "error", { table: "devices", index: "ix_devices_hostname" }),
  drift("TABLE_EXTRA", "table notes", "absent (not in the definitions)", "present", "warning"),
];

describe("text", () => {
  test("a database never initialised: nothing to compare, and how to create the schema", () => {
    const missing = result([drift("SCHEMA_MISSING", "schema netraven", "present", "missing")], { ok: false, tablesPresent: 0, schemaExists: false });
    expect(renderDriftText(missing)).toBe('Nothing to compare: schema "netraven" does not exist. To create it, run: netraven-db init');
    const empty = result([drift("TABLE_MISSING", "table users", "present", "missing")], { ok: false, tablesPresent: 0, schema: "app data" });
    expect(renderDriftText(empty)).toBe('Nothing to compare: schema "app data" holds none of the 13 NetRaven tables. To create it, run: netraven-db init --schema "app data"');
    expect(renderDriftJson(empty)).toMatchObject({ ok: false, tables_present: 0, initialised: false });
  });

  test("a clean run is one sentence", () => {
    expect(renderDriftText(result([]))).toBe("Schema matches definitions (13 tables checked).");
  });

  test("the table count comes from the result", () => {
    expect(renderDriftText(result([], { tablesChecked: 2 }))).toBe("Schema matches definitions (2 tables checked).");
  });

  test("one line per drift, then a count line", () => {
    const lines = renderDriftText(result(mixed)).split("\n");
    expect(lines).toHaveLength(mixed.length + 1);
    expect(lines.at(-1)).toBe('Schema does NOT match definitions: 3 errors, 2 warnings in schema "netraven" (13 tables checked).');
  });

  test("each line: severity, kind, then a sentence; kinds padded so the sentences line up", () => {
    const lines = renderDriftText(result(mixed)).split("\n").slice(0, -1);
    expect(lines).toEqual([
      "warning  COLUMN_EXTRA         column users.nickname: not in the definitions (found text)",
      "error    COLUMN_MISSING       column users.email: missing (expected varchar(100) NOT NULL)",
      "error    COLUMN_TYPE_CHANGED  column users.username: type varchar(50) expected, found text",
      "error    INDEX_MISSING        index ix_devices_hostname on devices: missing (expected btree (hostname))",
      "warning  TABLE_EXTRA          table notes: not in the definitions",
    ]);
    // Severity is 7 wide, the kind column as wide as the longest kind (COLUMN_TYPE_CHANGED), two spaces between.
    const sentenceStart = 7 + 2 + "COLUMN_TYPE_CHANGED".length + 2;
    expect(lines.map((l, i) => l.slice(sentenceStart).startsWith(mixed[i]!.object))).toEqual(mixed.map(() => true));
  });

  test("the padding follows the longest kind present", () => {
    const lines = renderDriftText(result([drift("TABLE_MISSING", "table a", "present", "missing"), drift("TABLE_EXTRA", "table b", "absent", "present", "warning")])).split("\n");
    expect(lines[0]).toBe("error    TABLE_MISSING  table a: missing (expected present)");
    expect(lines[1]).toBe("warning  TABLE_EXTRA    table b: not in the definitions");
  });

  test("warnings only: the schema matches, with warnings", () => {
    const text = renderDriftText(result([drift("VERSION_TABLE_MISSING", "table netraven_db_version", "present (run netraven-db init to adopt this database)", "missing", "warning")]));
    expect(text.split("\n")).toEqual([
      "warning  VERSION_TABLE_MISSING  table netraven_db_version: missing (expected present (run netraven-db init to adopt this database))",
      'Schema matches definitions, with warnings: 0 errors, 1 warning in schema "netraven" (13 tables checked).',
    ]);
  });

  test("singular and plural counts", () => {
    const last = (drifts: Drift[]) => renderDriftText(result(drifts)).split("\n").at(-1)!;
    expect(last([drift("TABLE_MISSING", "table a", "present", "missing")])).toContain(": 1 error, 0 warnings in schema");
    expect(last([drift("TABLE_MISSING", "table a", "present", "missing"), drift("TABLE_MISSING", "table b", "present", "missing")])).toContain(": 2 errors, 0 warnings in schema");
  });

  test("changes read 'X expected, found Y', with the aspect named where it helps", () => {
    const sentence = (d: Drift) => driftLines([d])[0];
    expect(sentence(drift("COLUMN_NULLABILITY_CHANGED", "column t.c", "NOT NULL", "NULL"))).toBe("COLUMN_NULLABILITY_CHANGED: column t.c: NOT NULL expected, found NULL");
    expect(sentence(drift("COLUMN_DEFAULT_CHANGED", "column t.c", "none", "now()"))).toBe("COLUMN_DEFAULT_CHANGED: column t.c: default none expected, found now()");
    expect(sentence(drift("COLUMN_COLLATION_CHANGED", "column t.c", "default", "C"))).toBe("COLUMN_COLLATION_CHANGED: column t.c: collation default expected, found C");
    expect(sentence(drift("INDEX_RENAMED", "index ix_a on t", "ix_a", "a_idx"))).toBe("INDEX_RENAMED: index ix_a on t: name ix_a expected, found a_idx");
    expect(sentence(drift("FOREIGN_KEY_CHANGED", "foreign key t(c) -> u(id)", "ON DELETE CASCADE", "ON DELETE NO ACTION"))).toBe(
      "FOREIGN_KEY_CHANGED: foreign key t(c) -> u(id): ON DELETE CASCADE expected, found ON DELETE NO ACTION",
    );
    expect(sentence(drift("VERSION_CHANGED", "schema version", "2 (run netraven-db init)", "1"))).toBe("VERSION_CHANGED: schema version: 2 (run netraven-db init) expected, found 1");
  });

  test("a _MISSING kind whose finding is not 'missing' reads as a change", () => {
    expect(driftLines([drift("EXTENSION_MISSING", "extension pgcrypto", "installed", "not installed")])).toEqual(["EXTENSION_MISSING: extension pgcrypto: installed expected, found not installed"]);
    expect(driftLines([drift("PRIMARY_KEY_MISSING", "primary key t", "(id)", "none")])).toEqual(["PRIMARY_KEY_MISSING: primary key t: (id) expected, found none"]);
  });

  test("driftLines: one line per drift, in the given order, no severity", () => {
    expect(driftLines(mixed)).toHaveLength(5);
    expect(driftLines(mixed)[1]).toBe("COLUMN_MISSING: column users.email: missing (expected varchar(100) NOT NULL)");
    expect(driftLines([])).toEqual([]);
  });

  test("no line of the report spans two lines", () => {
    const text = renderDriftText(result(mixed));
    expect(text.split("\n")).toHaveLength(mixed.length + 1);
    expect(text.endsWith("\n")).toBe(false);
  });
});

describe("JSON", () => {
  test("the documented keys, in order", () => {
    const json = renderDriftJson(result(mixed));
    expect(Object.keys(json)).toEqual(["ok", "schema", "tables_checked", "tables_present", "initialised", "schema_version", "expected_schema_version", "errors", "warnings", "differences"]);
    expect(json).toMatchObject({ ok: false, schema: "netraven", tables_checked: 13, schema_version: 2, expected_schema_version: 2, errors: 3, warnings: 2 });
  });

  test("each difference is {kind, object, expected, found, severity}, in the result's order; the repair target is left out", () => {
    const json = renderDriftJson(result(mixed));
    expect(json.differences).toHaveLength(5);
    for (const d of json.differences) expect(Object.keys(d)).toEqual(["kind", "object", "expected", "found", "severity"]);
    expect(json.differences[3]).toEqual({ kind: "INDEX_MISSING", object: "index ix_devices_hostname on devices", expected: "btree (hostname)", found: "missing", severity: "error" });
    expect(json.differences.map((d) => d.kind)).toEqual(mixed.map((d) => d.kind));
  });

  test("a clean result", () => {
    expect(renderDriftJson(result([]))).toEqual({ ok: true, schema: "netraven", tables_checked: 13, tables_present: 14, initialised: true, schema_version: 2, expected_schema_version: 2, errors: 0, warnings: 0, differences: [] });
  });

  test("null versions and null expected/found survive serialisation as null", () => {
    const json = renderDriftJson(result([drift("VERSION_MISSING", "schema version", null, null, "warning")], { schemaVersion: null }));
    const parsed = JSON.parse(JSON.stringify(json));
    expect(parsed.schema_version).toBeNull();
    expect(parsed.differences[0].expected).toBeNull();
    expect(parsed.differences[0].found).toBeNull();
    expect(parsed.ok).toBe(true);
    expect(parsed.warnings).toBe(1);
  });

  test("ok mirrors the result's verdict", () => {
    expect(renderDriftJson(result([], { ok: false })).ok).toBe(false);
  });
});
