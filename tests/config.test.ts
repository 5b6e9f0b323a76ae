// General settings (src/config.ts): *_FILE secrets as in the postgres image, and flag > NETRAVEN_DB_* twin > default
// for every setting. Connection settings have their own tests (tests/connection/). Every env is passed explicitly.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readEnvOrFile, resolveRetry, resolveSchemaName, resolveSetting, Schemas } from "../src/config.ts";
import { DEFAULTS } from "../src/defaults.ts";
import { isNetravenError, type NetravenError } from "../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function tempFile(content: string): string {
  const path = join(dir, `file-${++fileCounter}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}


function failure(run: () => unknown): NetravenError {
  try {
    run();
  } catch (error) {
    if (!isNetravenError(error)) throw error;
    return error;
  }
  throw new Error("expected a NetravenError");
}

function expectConfigError(run: () => unknown, message: string | RegExp): NetravenError {
  const error = failure(run);
  expect(error.code).toBe("CONFIG_INVALID");
  expect(error.message).not.toContain("\n");
  if (typeof message === "string") expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  return error;
}

describe("*_FILE variables", () => {
  test("the file's content is used, one trailing newline (LF or CRLF) stripped", () => {
    expect(readEnvOrFile({ PGPASSWORD_FILE: tempFile("from-file\n") }, "PGPASSWORD")).toBe("from-file");
    expect(readEnvOrFile({ PGPASSWORD_FILE: tempFile("from-file\r\n") }, "PGPASSWORD")).toBe("from-file");
    expect(readEnvOrFile({ PGPASSWORD_FILE: tempFile("no-newline") }, "PGPASSWORD")).toBe("no-newline");
    expect(readEnvOrFile({ PGPASSWORD_FILE: tempFile("  spaces kept  \n") }, "PGPASSWORD")).toBe("  spaces kept  ");
  });

  test("the variable itself when no file is named; for libpq's variables empty means unset", () => {
    const libpq = { empty: "unset" } as const;
    expect(readEnvOrFile({ PGUSER: "u" }, "PGUSER", libpq)).toBe("u");
    expect(readEnvOrFile({ PGUSER: "" }, "PGUSER", libpq)).toBeUndefined();
    expect(readEnvOrFile({}, "PGUSER", libpq)).toBeUndefined();
    expect(readEnvOrFile({ PGUSER: "u", PGUSER_FILE: "" }, "PGUSER", libpq)).toBe("u");
  });

  test("for our own settings an empty variable, an empty _FILE name or an empty file is an error naming it", () => {
    expectConfigError(() => readEnvOrFile({ NETRAVEN_DB_DIR: "" }, "NETRAVEN_DB_DIR"), "NETRAVEN_DB_DIR is set but empty; give it a value or unset it");
    expectConfigError(() => readEnvOrFile({ NETRAVEN_DB_DIR_FILE: "" }, "NETRAVEN_DB_DIR"), "NETRAVEN_DB_DIR_FILE is set but empty; give it a value or unset it");
    const empty = tempFile("");
    expectConfigError(() => readEnvOrFile({ NETRAVEN_DB_DIR_FILE: empty }, "NETRAVEN_DB_DIR"), `NETRAVEN_DB_DIR_FILE: ${empty} is empty`);
    expect(readEnvOrFile({}, "NETRAVEN_DB_DIR")).toBeUndefined();
  });

  test("both set is an error naming the variable", () => {
    expectConfigError(() => readEnvOrFile({ PGPASSWORD: "a", PGPASSWORD_FILE: tempFile("b") }, "PGPASSWORD"), "PGPASSWORD: both PGPASSWORD and PGPASSWORD_FILE are set; set only one");
  });

  test("an empty variable next to a _FILE is not 'both set'", () => {
    expect(readEnvOrFile({ PGPASSWORD: "", PGPASSWORD_FILE: tempFile("b\n") }, "PGPASSWORD")).toBe("b");
  });

  test("an unreadable file is an error naming the _FILE variable and the path", () => {
    const missing = join(dir, "does-not-exist");
    const error = expectConfigError(() => readEnvOrFile({ PGPASSWORD_FILE: missing }, "PGPASSWORD"), /^PGPASSWORD_FILE: cannot read /);
    expect(error.message).toBe(`PGPASSWORD_FILE: cannot read ${missing}: does not exist`);
    expectConfigError(() => readEnvOrFile({ DATABASE_URL_FILE: dir }, "DATABASE_URL"), `DATABASE_URL_FILE: cannot read ${dir}: is a directory, not a file`);
  });
});

describe("flag → NETRAVEN_DB_* twin → default", () => {
  test("resolveRetry defaults", () => {
    expect(resolveRetry({}, {})).toEqual({ attempts: 3, intervalMs: 1000, maxIntervalMs: 10_000, explicit: false });
  });

  test("explicit says whether waiting was asked for (a standby is worth waiting for only then)", () => {
    expect(resolveRetry({ retry: "3" }, {}).explicit).toBe(true);
    expect(resolveRetry({}, { NETRAVEN_DB_RETRY: "3" }).explicit).toBe(true);
    expect(resolveRetry({}, { NETRAVEN_DB_RETRY_FILE: tempFile("4") }).explicit).toBe(true);
    expect(resolveRetry({ retryInterval: "2" }, {}).explicit).toBe(false);
  });

  test("the flag beats its env twin; the twin beats the default", () => {
    expect(resolveRetry({ retry: "5" }, { NETRAVEN_DB_RETRY: "7" }).attempts).toBe(5);
    expect(resolveRetry({}, { NETRAVEN_DB_RETRY: "7" }).attempts).toBe(7);
    expect(resolveRetry({ retry: 9 }, {}).attempts).toBe(9);
  });

  test("kebab-case flags have SNAKE_CASE twins", () => {
    const r = resolveRetry({}, { NETRAVEN_DB_RETRY_INTERVAL: "0.5", NETRAVEN_DB_RETRY_MAX_INTERVAL: "4" });
    expect(r).toEqual({ attempts: 3, intervalMs: 500, maxIntervalMs: 4000, explicit: false });
  });

  test("an empty flag is an error, never a fall-through to the twin", () => {
    expect(failure(() => resolveRetry({ retry: "" }, { NETRAVEN_DB_RETRY: "4" })).message).toBe("option --retry requires a value");
    expectConfigError(() => resolveRetry({}, { NETRAVEN_DB_RETRY: "" }), "NETRAVEN_DB_RETRY is set but empty; give it a value or unset it");
  });

  test("twins have _FILE forms too", () => {
    expect(resolveRetry({}, { NETRAVEN_DB_RETRY_FILE: tempFile("6\n") }).attempts).toBe(6);
  });

  test("the max interval is never below the interval", () => {
    expect(resolveRetry({ retryInterval: "5", retryMaxInterval: "2" }, {}).maxIntervalMs).toBe(5000);
  });

  test("bad values name the flag when they came from the flag", () => {
    expectConfigError(() => resolveRetry({ retry: "0" }, {}), '--retry: must be a whole number of attempts, at least 1 (got "0")');
    expectConfigError(() => resolveRetry({ retry: "2.5" }, {}), /^--retry: must be a whole number of attempts, at least 1/);
    expectConfigError(() => resolveRetry({ retry: "lots" }, { NETRAVEN_DB_RETRY: "3" }), /^--retry: .*\(got "lots"\)$/);
    expectConfigError(() => resolveRetry({ retryInterval: "-1" }, {}), /^--retry-interval: must be a number of seconds/);
  });

  test("bad values name the variable when they came from the variable", () => {
    expectConfigError(() => resolveRetry({}, { NETRAVEN_DB_RETRY: "abc" }), 'NETRAVEN_DB_RETRY: must be a whole number of attempts, at least 1 (got "abc")');
    expectConfigError(() => resolveRetry({}, { NETRAVEN_DB_RETRY_MAX_INTERVAL: "forever" }), /^NETRAVEN_DB_RETRY_MAX_INTERVAL: /);
  });

  test("resolveSchemaName: default, flag, twin", () => {
    expect(DEFAULTS.schema).toBe("netraven");
    expect(resolveSchemaName(undefined, {})).toBe("netraven");
    expect(resolveSchemaName(undefined, { NETRAVEN_DB_SCHEMA: "from_env" })).toBe("from_env");
    expect(resolveSchemaName("from_flag", { NETRAVEN_DB_SCHEMA: "from_env" })).toBe("from_flag");
    expect(resolveSchemaName(undefined, {}, "other_default")).toBe("other_default");
  });

  test("schema names are taken as written (quoted later), within PostgreSQL's limits", () => {
    expect(resolveSchemaName('we"ird schéma', {})).toBe('we"ird schéma');
    expect(resolveSchemaName("a".repeat(63), {})).toBe("a".repeat(63));
    expectConfigError(() => resolveSchemaName("a".repeat(64), {}), /^--schema: schema name must be at most 63 bytes/);
    // 32 two-byte characters are 64 bytes: the limit is in bytes, not characters.
    expectConfigError(() => resolveSchemaName("é".repeat(32), {}), /^--schema: schema name must be at most 63 bytes/);
    expectConfigError(() => resolveSchemaName("pg_mine", {}), /^--schema: schema name must not start with pg_/);
    expectConfigError(() => resolveSchemaName(undefined, { NETRAVEN_DB_SCHEMA: "PG_x" }), /^NETRAVEN_DB_SCHEMA: schema name must not start with pg_/);
    expectConfigError(() => resolveSchemaName("a\0b", {}), /^--schema: schema name must not contain NUL/);
  });

  test("resolveSetting with the boolean schema", () => {
    expect(resolveSetting("strict", "yes", {}, false, Schemas.boolean())).toBe(true);
    expect(resolveSetting("strict", undefined, { NETRAVEN_DB_STRICT: "0" }, true, Schemas.boolean())).toBe(false);
    expect(resolveSetting("strict", true, {}, false, Schemas.boolean())).toBe(true);
    expect(resolveSetting("strict", undefined, {}, false, Schemas.boolean())).toBe(false);
    expectConfigError(() => resolveSetting("strict", "maybe", {}, false, Schemas.boolean()), '--strict: must be true or false (got "maybe")');
  });

  test("nonNegativeInt accepts 0, positiveInt does not", () => {
    expect(resolveSetting("keep", "0", {}, 7, Schemas.nonNegativeInt())).toBe(0);
    expectConfigError(() => resolveSetting("keep", "0", {}, 7, Schemas.positiveInt()), /^--keep: must be a whole number of at least 1/);
    expectConfigError(() => resolveSetting("keep", "-1", {}, 7, Schemas.nonNegativeInt()), /^--keep: must be a whole number of at least 0/);
  });
});

