// The exit contract in src/errors.ts: every error code has one exit status; checkers (validate, verify) say only
// "finding" (1), "usage" (3) or "could not check" (2); errors are recognised by name and code, never by class.
import { describe, expect, test } from "bun:test";
import { Errors, EXIT, EXIT_STATUS, exitStatusFor, isNetravenError, NetravenError, renderExitCodes, type ErrorCode } from "../src/errors.ts";

const ALL_CODES = Object.keys(EXIT_STATUS) as ErrorCode[];

// The contract written out by hand from the EXIT documentation: which class of failure each code is.
const EXPECTED: Record<ErrorCode, number> = {
  USAGE: 3,
  CONFIG_INVALID: 3,
  NO_CONNECTION_SETTINGS: 3,
  CONNECT_FAILED: 4,
  AUTH_FAILED: 5,
  NO_PASSWORD: 5,
  DATABASE_NOT_FOUND: 5,
  TLS_FAILED: 5,
  PERMISSION_DENIED: 5,
  IDENTITY_MISMATCH: 5,
  LOCK_TIMEOUT: 6,
  SQL_FAILED: 7,
  CONNECTION_LOST: 7,
  DRIFT: 1,
  BACKUP_INVALID: 1,
  FILE_UNREADABLE: 8,
  FILE_UNWRITABLE: 8,
  CONFIRMATION_REQUIRED: 9,
  VERSION_TOO_NEW: 9,
  NOT_PRIMARY: 10,
  NOT_STANDBY: 10,
  INTERRUPTED: 130,
  INTERNAL: 2,
  S3_UNREACHABLE: 4,
  S3_AUTH_FAILED: 5,
  S3_ACCESS_DENIED: 5,
  S3_BUCKET_NOT_FOUND: 5,
  S3_OBJECT_NOT_FOUND: 8,
  S3_REQUEST_FAILED: 8,
};

describe("exit statuses", () => {
  test("the EXIT table is the documented one", () => {
    expect(EXIT).toEqual({ OK: 0, FINDING: 1, ERROR: 2, USAGE: 3, CONNECT: 4, AUTH: 5, LOCK: 6, SQL: 7, IO: 8, REFUSED: 9, ROLE: 10 });
  });

  test("every error code maps to the exit status of its failure class", () => {
    expect(ALL_CODES.sort()).toEqual((Object.keys(EXPECTED) as ErrorCode[]).sort());
    for (const code of ALL_CODES) {
      const error = new NetravenError(code, "x");
      expect({ code, status: error.exitStatus as number }).toEqual({ code, status: EXPECTED[code] });
      expect({ code, status: exitStatusFor(error) as number }).toEqual({ code, status: EXPECTED[code] });
    }
  });

  test("a signal exits 128 + its number, for checkers too: the shell's convention", () => {
    expect(exitStatusFor(Errors.interrupted("SIGINT", "restore", "nothing was changed"))).toBe(130);
    expect(exitStatusFor(Errors.interrupted("SIGTERM", "backup", "no partial file left"))).toBe(143);
    expect(exitStatusFor(Errors.interrupted("SIGHUP", "init", "nothing was changed"), "checker")).toBe(129);
    expect(Errors.interrupted("SIGTERM", "restore", "nothing was changed").message).toBe("restore interrupted by SIGTERM; nothing was changed");
  });

  test("the --help table is rendered from the classes: every exit status appears once, with its meaning", () => {
    const table = renderExitCodes();
    for (const status of Object.values(EXIT)) expect(table).toMatch(new RegExp(`^ +${status}  \\S`, "m"));
    expect(table).toContain("129/130/143  stopped by a signal");
    expect(table.split("\n").filter((line) => /^ +\d/.test(line))).toHaveLength(Object.keys(EXIT).length + 1);
  });

  test("no code exits 0: an error is never success", () => {
    for (const code of ALL_CODES) expect(EXIT_STATUS[code]).not.toBe(EXIT.OK);
  });

  test("anything that is not a NetravenError exits 2", () => {
    expect(exitStatusFor(new Error("boom"))).toBe(2);
    expect(exitStatusFor(new TypeError("x is undefined"))).toBe(2);
    expect(exitStatusFor("a string")).toBe(2);
    expect(exitStatusFor(undefined)).toBe(2);
    expect(exitStatusFor(null)).toBe(2);
  });
});

describe('the "checker" contract', () => {
  test("keeps USAGE-class (3) and FINDING-class (1) statuses and collapses everything else to 2", () => {
    for (const code of ALL_CODES) {
      const status: number = exitStatusFor(new NetravenError(code, "x"), "checker");
      const want = EXPECTED[code] === 1 || EXPECTED[code] === 3 || code === "INTERRUPTED" ? EXPECTED[code] : 2;
      expect({ code, status }).toEqual({ code, status: want });
    }
  });

  test("drift is 1, a bad flag is 3, a connection failure is 2 (could not check)", () => {
    expect(exitStatusFor(new NetravenError("DRIFT", "x"), "checker")).toBe(1);
    expect(exitStatusFor(new NetravenError("BACKUP_INVALID", "x"), "checker")).toBe(1);
    expect(exitStatusFor(Errors.config("--retry", "bad"), "checker")).toBe(3);
    expect(exitStatusFor(new NetravenError("CONNECT_FAILED", "x"), "checker")).toBe(2);
    expect(exitStatusFor(new NetravenError("AUTH_FAILED", "x"), "checker")).toBe(2);
    expect(exitStatusFor(new NetravenError("FILE_UNREADABLE", "x"), "checker")).toBe(2);
    expect(exitStatusFor(new Error("crash"), "checker")).toBe(2);
  });
});

describe("isNetravenError", () => {
  test("true for NetravenError instances", () => {
    expect(isNetravenError(new NetravenError("DRIFT", "x"))).toBe(true);
    expect(isNetravenError(Errors.internal("x"))).toBe(true);
  });

  test("relies on name and code, not on the class: a renamed or foreign class still counts", () => {
    // What a minified build or a second copy of the module looks like: another class, same literal name.
    class Renamed extends Error {
      override readonly name = "NetravenError";
      readonly code = "LOCK_TIMEOUT";
    }
    const foreign = new Renamed("held");
    expect(foreign instanceof NetravenError).toBe(false);
    expect(isNetravenError(foreign)).toBe(true);
    expect(exitStatusFor(foreign)).toBe(6);
    expect(exitStatusFor(foreign, "checker")).toBe(2);

    const rebuilt = Object.assign(new Error("drift found"), { name: "NetravenError", code: "DRIFT" });
    expect(isNetravenError(rebuilt)).toBe(true);
    expect(exitStatusFor(rebuilt)).toBe(1);
  });

  test("false when the name or code is missing, or the code is not one of ours", () => {
    expect(isNetravenError(Object.assign(new Error("x"), { code: "DRIFT" }))).toBe(false);
    expect(isNetravenError(Object.assign(new Error("x"), { name: "NetravenError" }))).toBe(false);
    // Node's errno errors carry a `code` too.
    const errno = Object.assign(new Error("x"), { name: "NetravenError", code: "ENOENT" });
    expect(isNetravenError(errno)).toBe(false);
    expect(exitStatusFor(errno)).toBe(2);
    expect(isNetravenError(Object.assign(new Error("x"), { name: "NetravenError", code: "toString" }))).toBe(false);
  });

  test("false for non-errors that merely look alike", () => {
    expect(isNetravenError({ name: "NetravenError", code: "DRIFT", message: "x" })).toBe(false);
    expect(isNetravenError("NetravenError")).toBe(false);
    expect(isNetravenError(null)).toBe(false);
  });
});

describe("NetravenError and the factories", () => {
  test("carries code, message, hint, details and cause; name is a literal", () => {
    const cause = new Error("root");
    const error = new NetravenError("SQL_FAILED", "statement failed", { hint: "look", details: { table: "t" }, cause });
    expect(error.name).toBe("NetravenError");
    expect(error.code).toBe("SQL_FAILED");
    expect(error.message).toBe("statement failed");
    expect(error.hint).toBe("look");
    expect(error.details).toEqual({ table: "t" });
    expect(error.cause).toBe(cause);
    expect(error instanceof Error).toBe(true);
  });

  test("no cause option means no cause property", () => {
    expect("cause" in new NetravenError("INTERNAL", "x")).toBe(false);
  });

  test("Errors.config names the setting first", () => {
    const error = Errors.config("NETRAVEN_DB_RETRY", "must be a whole number");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toBe("NETRAVEN_DB_RETRY: must be a whole number");
  });

  test("Errors.usage keeps the hint", () => {
    const error = Errors.usage("unknown flag --foo", "see --help");
    expect(error.code).toBe("USAGE");
    expect(error.hint).toBe("see --help");
  });

  test("Errors.newerSchema: one sentence for a database and for a backup", () => {
    expect(Errors.newerSchema('schema "netraven"', 3, 1, "refusing to touch it", "h").message).toBe('schema "netraven" is at version 3, newer than this netraven-db knows (1); refusing to touch it');
    expect(Errors.newerSchema("b.sql.gz", 3, 1, "refusing to restore it", "h").message).toBe("b.sql.gz holds schema version 3, newer than this netraven-db knows (1); refusing to restore it");
  });

  test("Errors.noConnectionSettings names the three ways to connect and hints at a password source", () => {
    const error = Errors.noConnectionSettings();
    expect(error.code).toBe("NO_CONNECTION_SETTINGS");
    expect(error.exitStatus).toBe(3);
    expect(error.message).toContain("--url");
    expect(error.message).toContain("DATABASE_URL");
    expect(error.message).toContain("PGHOST");
    expect(error.hint).toContain("PGPASSWORD");
  });
});
