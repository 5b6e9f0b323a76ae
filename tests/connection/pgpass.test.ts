// The password file as libpq reads it (src/connection/pgpass.ts): hostname:port:database:username:password, first
// match wins, * matches anything, backslash escapes, and a file others can read is ignored. Expectations from libpq's
// documentation ("The Password File").
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookupPgpass, passfilePath } from "../../src/connection/pgpass.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-pgpass-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function tempFile(content: string): string {
  const path = join(dir, `file-${++fileCounter}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe("lookups", () => {
  const target = { host: "db.example", port: 5432, database: "netraven", user: "netraven" };

  test("a matching line gives the password; no match gives none", () => {
    const file = tempFile("db.example:5432:netraven:netraven:pgpass-pw\n");
    expect(lookupPgpass(file, target)).toBe("pgpass-pw");
    expect(lookupPgpass(file, { ...target, user: "other" })).toBeUndefined();
    expect(lookupPgpass(file, { ...target, port: 5433 })).toBeUndefined();
    expect(lookupPgpass(file, { ...target, database: "other" })).toBeUndefined();
    expect(lookupPgpass(file, { ...target, host: "other" })).toBeUndefined();
  });

  test("* matches anything in the first four fields", () => {
    const file = tempFile("*:*:*:netraven:wild-pw\n");
    expect(lookupPgpass(file, target)).toBe("wild-pw");
    expect(lookupPgpass(file, { ...target, host: "elsewhere", port: 1, database: "x" })).toBe("wild-pw");
    expect(lookupPgpass(file, { ...target, user: "x" })).toBeUndefined();
  });

  test("the first matching line wins", () => {
    const file = tempFile(["db.example:5432:other:netraven:not-this", "db.example:*:netraven:netraven:first", "*:*:*:*:second"].join("\n"));
    expect(lookupPgpass(file, target)).toBe("first");
  });

  test("\\: and \\\\ are escapes, in the password and in the other fields", () => {
    const file = tempFile(["db.example:5432:net\\:raven:netraven:db-with-colon", "db.example:5432:netraven:netraven:pa\\:ss\\\\word"].join("\n"));
    expect(lookupPgpass(file, target)).toBe("pa:ss\\word");
    expect(lookupPgpass(file, { ...target, database: "net:raven" })).toBe("db-with-colon");
  });

  test("comment lines, blank lines, CRLF endings and lines with too few fields are skipped", () => {
    const file = tempFile(["# db.example:5432:netraven:netraven:commented-out", "", "db.example:5432:netraven", "db.example:5432:netraven:netraven:crlf-pw", ""].join("\r\n"));
    expect(lookupPgpass(file, target)).toBe("crlf-pw");
  });

  test("a unix-socket connection matches localhost", () => {
    const file = tempFile("localhost:5432:netraven:netraven:socket-pw\n");
    expect(lookupPgpass(file, { ...target, host: "/var/run/postgresql" })).toBe("socket-pw");
    expect(lookupPgpass(file, { ...target, host: "/tmp" })).toBe("socket-pw");
    // A TCP host is not a socket: it does not match localhost.
    expect(lookupPgpass(file, { ...target, host: "127.0.0.1" })).toBeUndefined();
  });

  test("a line naming the socket directory itself matches that directory (libpq: non-default socket dirs match by path)", () => {
    const file = tempFile("/srv/pg/sockets:5432:netraven:netraven:path-pw\n");
    expect(lookupPgpass(file, { ...target, host: "/srv/pg/sockets" })).toBe("path-pw");
    expect(lookupPgpass(file, { ...target, host: "/other/dir" })).toBeUndefined();
  });

  test("without passfile/PGPASSFILE, $HOME/.pgpass is read", () => {
    const home = join(dir, "home-with-pgpass");
    mkdirSync(home);
    writeFileSync(join(home, ".pgpass"), "*:*:*:*:home-pw\n", { mode: 0o600 });
    expect(passfilePath(undefined, { HOME: home })).toBe(join(home, ".pgpass"));
    expect(lookupPgpass(passfilePath(undefined, { HOME: home }), target)).toBe("home-pw");
    expect(passfilePath("/explicit", { HOME: home })).toBe("/explicit");
  });

  test("a missing file or a directory gives no password and no error", () => {
    expect(lookupPgpass(join(dir, "missing-pgpass"), target)).toBeUndefined();
    expect(lookupPgpass(dir, target)).toBeUndefined();
  });
});

describe("permissions", () => {
  test("a password file with group or world access is ignored, as libpq does", () => {
    const file = join(dir, "open-pgpass");
    writeFileSync(file, "*:*:*:*:readable-pw\n", { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(lookupPgpass(file, { host: "h", port: 5432, database: "d", user: "u" })).toBeUndefined();
    chmodSync(file, 0o600);
    expect(lookupPgpass(file, { host: "h", port: 5432, database: "d", user: "u" })).toBe("readable-pw");
  });
});
