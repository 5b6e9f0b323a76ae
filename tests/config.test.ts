// Settings resolution (src/config.ts): --url > NETRAVEN_DB_URL > DATABASE_URL > PG* variables, libpq's per-field
// fallback to PG* variables and defaults, *_FILE secrets as in the postgres image, ~/.pgpass as libpq reads it, and
// flag > NETRAVEN_DB_* twin > default for every other setting. Every env is passed explicitly; HOME always points at
// an empty directory so a developer's own ~/.pgpass never leaks into a test.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  describeServer,
  lookupPgpass,
  readEnvOrFile,
  resolveConnection,
  resolveRetry,
  resolveSchemaName,
  resolveSetting,
  Schemas,
  type Env,
} from "../src/config.ts";
import { DEFAULTS } from "../src/defaults.ts";
import { isNetravenError, type NetravenError } from "../src/errors.ts";
import { scrub } from "../src/secrets.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-config-test-"));
const emptyHome = join(dir, "home");
mkdirSync(emptyHome);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function tempFile(content: string): string {
  const path = join(dir, `file-${++fileCounter}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

const env = (vars: Env = {}): Env => ({ HOME: emptyHome, ...vars });

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

describe("where the connection comes from", () => {
  const all = env({
    NETRAVEN_DB_URL: "postgresql://fromnetraven/db1",
    DATABASE_URL: "postgresql://fromdatabaseurl/db2",
    PGHOST: "frompghost",
    PGDATABASE: "db3",
  });

  test("--url beats everything", () => {
    const s = resolveConnection({ url: "postgresql://fromflag/db0" }, all);
    expect(s.host).toBe("fromflag");
    expect(s.source).toBe("--url");
  });

  test("NETRAVEN_DB_URL beats DATABASE_URL and PG*", () => {
    const s = resolveConnection({}, all);
    expect(s.host).toBe("fromnetraven");
    expect(s.source).toBe("NETRAVEN_DB_URL");
  });

  test("DATABASE_URL beats PG*", () => {
    const s = resolveConnection({}, { ...all, NETRAVEN_DB_URL: undefined });
    expect(s.host).toBe("fromdatabaseurl");
    expect(s.database).toBe("db2");
    expect(s.source).toBe("DATABASE_URL");
  });

  test("PG* variables alone", () => {
    const s = resolveConnection(
      {},
      env({ PGHOST: "pg.example", PGPORT: "6432", PGUSER: "alice", PGDATABASE: "inventory", PGSSLMODE: "verify-full", PGCONNECT_TIMEOUT: "3", PGAPPNAME: "cron", PGSSLROOTCERT: "/ca.pem", PGSSLCERT: "/c.pem", PGSSLKEY: "/k.pem" }),
    );
    expect(s).toMatchObject({
      host: "pg.example",
      port: 6432,
      user: "alice",
      database: "inventory",
      sslmode: "verify-full",
      connectTimeoutSeconds: 3,
      applicationName: "cron",
      sslrootcert: "/ca.pem",
      sslcert: "/c.pem",
      sslkey: "/k.pem",
      source: "PG* variables",
    });
  });

  test("an empty --url or an empty URL variable is an error, never a fall-through to the next source", () => {
    // `restore F --url "" --yes` once restored into DATABASE_URL's database.
    expect(failure(() => resolveConnection({ url: "" }, env({ DATABASE_URL: "postgresql://h2/d" }))).message).toBe("option --url requires a value");
    expectConfigError(() => resolveConnection({}, env({ NETRAVEN_DB_URL: "", DATABASE_URL: "postgresql://h2/d" })), "NETRAVEN_DB_URL is set but empty; give it a value or unset it");
    expectConfigError(() => resolveConnection({}, env({ DATABASE_URL: "", PGHOST: "h3" })), "DATABASE_URL is set but empty; give it a value or unset it");
  });

  test("a keyword/value string works wherever a URL does", () => {
    const s = resolveConnection({}, env({ DATABASE_URL: "host=/var/run/postgresql port=5433 dbname=netraven user=netraven" }));
    expect(s).toMatchObject({ host: "/var/run/postgresql", port: 5433, database: "netraven", user: "netraven" });
  });

  test("URL parts override PG* variables for the same field; parts the URL leaves out come from PG*", () => {
    const s = resolveConnection(
      { url: "postgresql://urlhost/urldb?sslmode=require" },
      env({ PGHOST: "envhost", PGDATABASE: "envdb", PGSSLMODE: "disable", PGUSER: "envuser", PGPORT: "6000", PGAPPNAME: "envapp" }),
    );
    expect(s).toMatchObject({ host: "urlhost", database: "urldb", sslmode: "require", user: "envuser", port: 6000, applicationName: "envapp" });
  });

  test("a unix socket URL gives a socket host", () => {
    const s = resolveConnection({ url: "postgresql://netraven@/netraven?host=/var/run/postgresql" }, env());
    expect(s.host).toBe("/var/run/postgresql");
    expect(describeServer(s)).toBe("netraven@/var/run/postgresql/.s.PGSQL.5432/netraven");
  });

  test("a bad connection string names its source", () => {
    expectConfigError(() => resolveConnection({}, env({ DATABASE_URL: "postgresql://h/db?bogus=1" })), /^DATABASE_URL: unknown connection parameter "bogus"/);
  });
});

describe("no settings at all", () => {
  test("refuses instead of guessing localhost", () => {
    const error = failure(() => resolveConnection({}, env({ PATH: "/usr/bin", LANG: "C" })));
    expect(error.code).toBe("NO_CONNECTION_SETTINGS");
    expect(error.exitStatus).toBe(3);
  });

  test("empty PG* variables are no settings, as libpq reads them", () => {
    expect(failure(() => resolveConnection({}, env({ PGHOST: "", PGUSER: "" }))).code).toBe("NO_CONNECTION_SETTINGS");
  });

  test("any one PG* variable is enough, the rest are defaults", () => {
    expect(resolveConnection({}, env({ PGDATABASE: "x" })).database).toBe("x");
    expect(resolveConnection({}, env({ PGPASSWORD: "abc-pw" })).password).toBe("abc-pw");
  });
});

describe("defaults", () => {
  test("port 5432, user = OS user, database = user, sslmode prefer, 10 s timeout, application_name netraven-db", () => {
    const s = resolveConnection({}, env({ PGHOST: "db" }));
    expect(s.port).toBe(5432);
    expect(s.user).toBe(userInfo().username);
    expect(s.database).toBe(userInfo().username);
    expect(s.sslmode).toBe("prefer");
    expect(s.connectTimeoutSeconds).toBe(10);
    expect(s.applicationName).toBe("netraven-db");
    expect(s.password).toBeUndefined();
    expect(s.passwordOnCommandLine).toBe(false);
  });

  test("the database defaults to the user however the user was given", () => {
    expect(resolveConnection({ url: "postgresql://bob@h" }, env()).database).toBe("bob");
    expect(resolveConnection({}, env({ PGHOST: "h", PGUSER: "carol" })).database).toBe("carol");
  });

  test("without a host: a local socket directory if the server's socket is there, else localhost", () => {
    const port = 54329;
    const s = resolveConnection({}, env({ PGPORT: String(port) }));
    const socketDir = ["/var/run/postgresql", "/tmp"].find((d) => existsSync(join(d, `.s.PGSQL.${port}`)));
    expect(s.host).toBe(socketDir ?? "localhost");
  });
});

describe("validation", () => {
  test("a bad port from a variable names the variable", () => {
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGPORT: "abc" })), "PGPORT: port must be a number");
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGPORT: "70000" })), "PGPORT: port must be a whole number between 1 and 65535");
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGPORT: "0" })), /^PGPORT: port must be a whole number between 1 and 65535$/);
  });

  test("a URL without a port does not take the blame for PGPORT", () => {
    expectConfigError(() => resolveConnection({ url: "postgresql://h/db" }, env({ PGPORT: "5432x" })), /^PGPORT: port must be a number$/);
  });

  test("a bad port in the URL names the URL", () => {
    expectConfigError(() => resolveConnection({ url: "postgresql://h:99999/db" }, env({ PGPORT: "5432" })), "connection settings (--url): port must be a whole number between 1 and 65535");
    expectConfigError(() => resolveConnection({ url: "postgresql://h:port/db" }, env()), "connection settings (--url): port must be a number");
  });

  test("a bad sslmode lists the modes", () => {
    const modes = "disable, allow, prefer, require, verify-ca, verify-full";
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGSSLMODE: "on" })), `PGSSLMODE: sslmode must be one of ${modes}`);
    expectConfigError(() => resolveConnection({}, env({ DATABASE_URL: "postgresql://h/db?sslmode=true" })), `connection settings (DATABASE_URL): sslmode must be one of ${modes}`);
  });

  test("a bad connect timeout", () => {
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGCONNECT_TIMEOUT: "soon" })), /^PGCONNECT_TIMEOUT: connect_timeout must be a number of seconds$/);
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGCONNECT_TIMEOUT: "99999" })), /^PGCONNECT_TIMEOUT: connect_timeout must be between/);
  });

  test("a host list in PGHOST is refused like one in a URL", () => {
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h1,h2" })), "PGHOST: multiple hosts are not supported; give one host");
  });

  test("an empty host in a connection string is refused", () => {
    expectConfigError(() => resolveConnection({ url: "host='' dbname=d" }, env()), "connection settings (--url): host must not be empty");
  });
});

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

  test("every connection variable has a _FILE form, including the URLs", () => {
    const s = resolveConnection({}, env({ DATABASE_URL_FILE: tempFile("postgresql://filehost/filedb\n"), PGPASSWORD_FILE: tempFile("pw-from-file\n") }));
    expect(s).toMatchObject({ host: "filehost", database: "filedb", password: "pw-from-file", source: "DATABASE_URL" });
    const t = resolveConnection({}, env({ NETRAVEN_DB_URL_FILE: tempFile("postgresql://nfile/x"), PGUSER_FILE: tempFile("fileuser\n") }));
    expect(t).toMatchObject({ host: "nfile", user: "fileuser", source: "NETRAVEN_DB_URL" });
  });

  test("resolveConnection reports a bad _FILE by name", () => {
    expectConfigError(() => resolveConnection({}, env({ PGHOST: "h", PGPASSWORD_FILE: join(dir, "nope") })), /^PGPASSWORD_FILE: cannot read/);
  });
});

describe("passwords", () => {
  test("passwordOnCommandLine only when --url carries a password", () => {
    expect(resolveConnection({ url: "postgresql://u:abc-url-pw@h/db" }, env()).passwordOnCommandLine).toBe(true);
    expect(resolveConnection({ url: "host=h password=abc-kv-pw" }, env()).passwordOnCommandLine).toBe(true);
    expect(resolveConnection({ url: "postgresql://h/db?password=abc-q-pw" }, env()).passwordOnCommandLine).toBe(true);
    expect(resolveConnection({ url: "postgresql://u@h/db" }, env({ PGPASSWORD: "abc-env-pw" })).passwordOnCommandLine).toBe(false);
    expect(resolveConnection({}, env({ DATABASE_URL: "postgresql://u:abc-env-url-pw@h/db" })).passwordOnCommandLine).toBe(false);
    expect(resolveConnection({}, env({ NETRAVEN_DB_URL: "postgresql://u:abc-env-url-pw@h/db" })).passwordOnCommandLine).toBe(false);
  });

  test("a URL password beats PGPASSWORD; PGPASSWORD fills in when the URL has none", () => {
    expect(resolveConnection({ url: "postgresql://u:url-pw-1@h/db" }, env({ PGPASSWORD: "env-pw-1" })).password).toBe("url-pw-1");
    expect(resolveConnection({ url: "postgresql://u@h/db" }, env({ PGPASSWORD: "env-pw-2" })).password).toBe("env-pw-2");
  });

  test("the resolved password is registered for scrubbing, raw and URL-encoded", () => {
    resolveConnection({ url: "postgresql://u:reg%2Fist%40ered@h/db" }, env());
    expect(scrub("a reg/ist@ered b reg%2Fist%40ered c")).toBe("a **** b **** c");
  });

  test("describeServer never includes the password", () => {
    const s = resolveConnection({ url: "postgresql://netraven:describe-pw-77@db.example:5433/netraven" }, env());
    expect(s.password).toBe("describe-pw-77");
    const text = describeServer(s);
    expect(text).toBe("netraven@db.example:5433/netraven");
    expect(text).not.toContain("describe-pw-77");
  });

  test("describeServer brackets IPv6 hosts and names the socket file for socket hosts", () => {
    expect(describeServer({ host: "::1", port: 5433, user: "u", database: "d" })).toBe("u@[::1]:5433/d");
    expect(describeServer({ host: "/tmp", port: 5432, user: "u", database: "d" })).toBe("u@/tmp/.s.PGSQL.5432/d");
  });
});

describe("~/.pgpass", () => {
  const target = { host: "db.example", port: 5432, database: "netraven", user: "netraven" };

  test("a matching line gives the password; no match gives none", () => {
    const file = tempFile("db.example:5432:netraven:netraven:pgpass-pw\n");
    expect(lookupPgpass(target, { PGPASSFILE: file })).toBe("pgpass-pw");
    expect(lookupPgpass({ ...target, user: "other" }, { PGPASSFILE: file })).toBeUndefined();
    expect(lookupPgpass({ ...target, port: 5433 }, { PGPASSFILE: file })).toBeUndefined();
    expect(lookupPgpass({ ...target, database: "other" }, { PGPASSFILE: file })).toBeUndefined();
    expect(lookupPgpass({ ...target, host: "other" }, { PGPASSFILE: file })).toBeUndefined();
  });

  test("* matches anything in the first four fields", () => {
    const file = tempFile("*:*:*:netraven:wild-pw\n");
    expect(lookupPgpass(target, { PGPASSFILE: file })).toBe("wild-pw");
    expect(lookupPgpass({ ...target, host: "elsewhere", port: 1, database: "x" }, { PGPASSFILE: file })).toBe("wild-pw");
    expect(lookupPgpass({ ...target, user: "x" }, { PGPASSFILE: file })).toBeUndefined();
  });

  test("the first matching line wins", () => {
    const file = tempFile(["db.example:5432:other:netraven:not-this", "db.example:*:netraven:netraven:first", "*:*:*:*:second"].join("\n"));
    expect(lookupPgpass(target, { PGPASSFILE: file })).toBe("first");
  });

  test("\\: and \\\\ are escapes, in the password and in the other fields", () => {
    const file = tempFile(["db.example:5432:net\\:raven:netraven:db-with-colon", "db.example:5432:netraven:netraven:pa\\:ss\\\\word"].join("\n"));
    expect(lookupPgpass(target, { PGPASSFILE: file })).toBe("pa:ss\\word");
    expect(lookupPgpass({ ...target, database: "net:raven" }, { PGPASSFILE: file })).toBe("db-with-colon");
  });

  test("comment lines, blank lines, CRLF endings and lines with too few fields are skipped", () => {
    const file = tempFile(["# db.example:5432:netraven:netraven:commented-out", "", "db.example:5432:netraven", "db.example:5432:netraven:netraven:crlf-pw", ""].join("\r\n"));
    expect(lookupPgpass(target, { PGPASSFILE: file })).toBe("crlf-pw");
  });

  test("a unix-socket connection matches localhost", () => {
    const file = tempFile("localhost:5432:netraven:netraven:socket-pw\n");
    expect(lookupPgpass({ ...target, host: "/var/run/postgresql" }, { PGPASSFILE: file })).toBe("socket-pw");
    expect(lookupPgpass({ ...target, host: "/tmp" }, { PGPASSFILE: file })).toBe("socket-pw");
    // A TCP host is not a socket: it does not match localhost.
    expect(lookupPgpass({ ...target, host: "127.0.0.1" }, { PGPASSFILE: file })).toBeUndefined();
  });

  test("a line naming the socket directory itself matches that directory (libpq: non-default socket dirs match by path)", () => {
    const file = tempFile("/srv/pg/sockets:5432:netraven:netraven:path-pw\n");
    expect(lookupPgpass({ ...target, host: "/srv/pg/sockets" }, { PGPASSFILE: file })).toBe("path-pw");
    expect(lookupPgpass({ ...target, host: "/other/dir" }, { PGPASSFILE: file })).toBeUndefined();
  });

  test("without PGPASSFILE, $HOME/.pgpass is read", () => {
    const home = join(dir, "home-with-pgpass");
    mkdirSync(home);
    writeFileSync(join(home, ".pgpass"), "*:*:*:*:home-pw\n", { mode: 0o600 });
    expect(lookupPgpass(target, { HOME: home })).toBe("home-pw");
  });

  test("a missing file or a directory gives no password and no error", () => {
    expect(lookupPgpass(target, { PGPASSFILE: join(dir, "missing-pgpass") })).toBeUndefined();
    expect(lookupPgpass(target, { PGPASSFILE: dir })).toBeUndefined();
  });

  test("resolveConnection uses it only when no password was given", () => {
    const file = tempFile("*:*:*:*:from-pgpass\n");
    expect(resolveConnection({ url: "postgresql://u@h/db" }, env({ PGPASSFILE: file })).password).toBe("from-pgpass");
    expect(resolveConnection({ url: "postgresql://u@h/db" }, env({ PGPASSFILE: file, PGPASSWORD: "env-wins" })).password).toBe("env-wins");
    expect(resolveConnection({ url: "postgresql://u:url-wins@h/db" }, env({ PGPASSFILE: file })).password).toBe("url-wins");
  });

  test("an empty password counts as none, as in libpq, so .pgpass is still consulted", () => {
    const file = tempFile("*:*:*:*:empty-fallback\n");
    const s = resolveConnection({ url: "postgresql://u:@h/db" }, env({ PGPASSFILE: file }));
    expect(s.password).toBe("empty-fallback");
    expect(s.passwordOnCommandLine).toBe(false);
  });

  test("PGPASSFILE alone counts as a connection setting", () => {
    const file = tempFile("*:*:*:*:only-pgpass\n");
    expect(resolveConnection({}, env({ PGPASSFILE: file, PGHOST: undefined })).password).toBe("only-pgpass");
  });

  test("the pgpass lookup uses the resolved host, port, database and user", () => {
    const file = tempFile(["h1:5432:db:alice:wrong-host", "h2:6543:db:alice:right", "*:*:*:*:fallback"].join("\n"));
    expect(resolveConnection({ url: "postgresql://alice@h2:6543/db" }, env({ PGPASSFILE: file })).password).toBe("right");
  });
});

describe("flag → NETRAVEN_DB_* twin → default", () => {
  test("resolveRetry defaults", () => {
    expect(resolveRetry({}, {})).toEqual({ attempts: 3, intervalMs: 1000, maxIntervalMs: 10_000 });
  });

  test("the flag beats its env twin; the twin beats the default", () => {
    expect(resolveRetry({ retry: "5" }, { NETRAVEN_DB_RETRY: "7" }).attempts).toBe(5);
    expect(resolveRetry({}, { NETRAVEN_DB_RETRY: "7" }).attempts).toBe(7);
    expect(resolveRetry({ retry: 9 }, {}).attempts).toBe(9);
  });

  test("kebab-case flags have SNAKE_CASE twins", () => {
    const r = resolveRetry({}, { NETRAVEN_DB_RETRY_INTERVAL: "0.5", NETRAVEN_DB_RETRY_MAX_INTERVAL: "4" });
    expect(r).toEqual({ attempts: 3, intervalMs: 500, maxIntervalMs: 4000 });
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

describe("~/.pgpass permissions", () => {
  test("a password file with group or world access is ignored, as libpq does", () => {
    const file = join(dir, "open-pgpass");
    writeFileSync(file, "*:*:*:*:readable-pw\n", { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(lookupPgpass({ host: "h", port: 5432, database: "d", user: "u" }, { PGPASSFILE: file })).toBeUndefined();
    chmodSync(file, 0o600);
    expect(lookupPgpass({ host: "h", port: 5432, database: "d", user: "u" }, { PGPASSFILE: file })).toBe("readable-pw");
  });
});
