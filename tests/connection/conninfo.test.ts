// Connection strings as libpq reads them (PostgreSQL docs, "Connection Strings" in the libpq chapter):
//   postgresql://[userspec@][hostspec][/dbname][?paramspec]   and   keyword = value pairs.
// Expectations come from those docs, not from this parser's output.
import { describe, expect, test } from "bun:test";
import { isUrl, parseConnectionString, quoteValue } from "../../src/connection/conninfo.ts";
import { SSL_MODES } from "../../src/connection/parameters.ts";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";

const parse = (text: string) => parseConnectionString(text, "--url");

function failure(text: string, source = "--url"): NetravenError {
  try {
    parseConnectionString(text, source);
  } catch (error) {
    if (!isNetravenError(error)) throw error;
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

/** Every refusal: CONFIG_INVALID, one line, starting with the setting that holds the bad string. */
function expectRefused(text: string, pattern: RegExp, source = "--url"): NetravenError {
  const error = failure(text, source);
  expect(error.code).toBe("CONFIG_INVALID");
  expect(error.exitStatus).toBe(3);
  expect(error.message).not.toContain("\n");
  expect(error.message.startsWith(`${source}: `)).toBe(true);
  expect(error.message).toMatch(pattern);
  return error;
}

describe("isUrl", () => {
  test("both schemes libpq accepts, any case, leading blanks allowed", () => {
    expect(isUrl("postgresql://h/db")).toBe(true);
    expect(isUrl("postgres://h/db")).toBe(true);
    expect(isUrl("  POSTGRESQL://h/db")).toBe(true);
  });

  test("other schemes and keyword strings are not URLs", () => {
    expect(isUrl("mysql://h/db")).toBe(false);
    expect(isUrl("postgresql:/h/db")).toBe(false);
    expect(isUrl("host=h dbname=db")).toBe(false);
    expect(isUrl("")).toBe(false);
  });
});

describe("URLs", () => {
  test("every part of a full URL", () => {
    expect(parse("postgresql://netraven:s3cret@db.example.com:5433/netraven?sslmode=require&connect_timeout=7&application_name=ops")).toEqual({
      user: "netraven",
      password: "s3cret",
      host: "db.example.com",
      port: "5433",
      dbname: "netraven",
      sslmode: "require",
      connect_timeout: "7",
      application_name: "ops",
    });
  });

  test("postgres:// is the same as postgresql://", () => {
    expect(parse("postgres://u@h/db")).toEqual(parse("postgresql://u@h/db"));
  });

  test("parts that are left out stay unset (so PG* variables and defaults can fill them)", () => {
    expect(parse("postgresql://")).toEqual({});
    expect(parse("postgresql://localhost")).toEqual({ host: "localhost" });
    expect(parse("postgresql://localhost/mydb")).toEqual({ host: "localhost", dbname: "mydb" });
    expect(parse("postgresql://user@localhost")).toEqual({ user: "user", host: "localhost" });
    expect(parse("postgresql://localhost:5433")).toEqual({ host: "localhost", port: "5433" });
  });

  test("user and password are percent-decoded", () => {
    // The docs' own example: percent-encoding replaces characters with a special meaning, e.g. = with %3D.
    const info = parse("postgresql://us%40er:p%40ss%3Aw%2Fo%3Frd%25%20x@host/db");
    expect(info.user).toBe("us@er");
    expect(info.password).toBe("p@ss:w/o?rd% x");
    expect(info.host).toBe("host");
  });

  test("a password may contain an unencoded colon: only the first one separates user and password", () => {
    expect(parse("postgresql://u:a:b:c@h/db").password).toBe("a:b:c");
  });

  test("an empty password after the colon is an empty password, not an absent one", () => {
    const info = parse("postgresql://u:@h/db");
    expect(info.user).toBe("u");
    expect(info.password).toBe("");
  });

  test("a password without a user", () => {
    const info = parse("postgresql://:pw@h/db");
    expect(info.user).toBeUndefined();
    expect(info.password).toBe("pw");
  });

  test("+ is not a space in connection URLs", () => {
    expect(parse("postgresql://u:a+b@h/db").password).toBe("a+b");
  });

  test("the database name is percent-decoded", () => {
    expect(parse("postgresql://h/my%20db").dbname).toBe("my db");
  });

  test("IPv6 addresses go in brackets, with or without a port", () => {
    expect(parse("postgresql://[::1]:5433/db")).toEqual({ host: "::1", port: "5433", dbname: "db" });
    expect(parse("postgresql://[2001:db8::1234]/database")).toEqual({ host: "2001:db8::1234", dbname: "database" });
    expect(parse("postgresql://u@[::1]")).toEqual({ user: "u", host: "::1" });
  });

  test("an empty host with ?host=/dir is a unix socket URL", () => {
    expect(parse("postgresql://user@/db?host=/var/run/postgresql")).toEqual({ user: "user", dbname: "db", host: "/var/run/postgresql" });
    // The docs' example with the host part left out entirely.
    expect(parse("postgresql:///dbname?host=/var/lib/postgresql")).toEqual({ dbname: "dbname", host: "/var/lib/postgresql" });
  });

  test("a percent-encoded socket directory in the host part", () => {
    expect(parse("postgresql://%2Fvar%2Frun%2Fpostgresql/db")).toEqual({ host: "/var/run/postgresql", dbname: "db" });
    expect(parse("postgresql://u@%2Fvar%2Frun%2Fpostgresql:5433/db")).toEqual({ user: "u", host: "/var/run/postgresql", port: "5433", dbname: "db" });
  });

  test("query parameters override the URL parts, as in libpq", () => {
    // postgres.js ignores ?host= after a hostname and connects over TCP; libpq uses the parameter.
    expect(parse("postgresql://u@tcphost:5432/db?host=/var/run/postgresql").host).toBe("/var/run/postgresql");
    const info = parse("postgresql://u:pw@h:5432/db?port=6543&dbname=other&user=bob&password=pw2");
    expect(info).toMatchObject({ port: "6543", dbname: "other", user: "bob", password: "pw2", host: "h" });
  });

  test("the last of repeated query parameters wins", () => {
    expect(parse("postgresql://h/db?sslmode=disable&sslmode=verify-full").sslmode).toBe("verify-full");
  });

  test("query parameter values are percent-decoded", () => {
    expect(parse("postgresql://h/db?application_name=my%20app&host=%2Ftmp").application_name).toBe("my app");
    expect(parse("postgresql://h/db?host=%2Ftmp").host).toBe("/tmp");
  });

  test("every TLS mode and file setting is carried through", () => {
    for (const mode of SSL_MODES) expect(parse(`postgresql://h/db?sslmode=${mode}`).sslmode).toBe(mode);
    expect(parse("postgresql://h/db?sslrootcert=/etc/ca.pem&sslcert=/c.pem&sslkey=/k.pem")).toMatchObject({
      sslrootcert: "/etc/ca.pem",
      sslcert: "/c.pem",
      sslkey: "/k.pem",
    });
  });

  test("the sslmode value itself is not judged here (config validates it and names the allowed modes)", () => {
    expect(parse("postgresql://h/db?sslmode=sometimes").sslmode).toBe("sometimes");
  });

  test("every libpq parameter is carried through for settings.ts to judge", () => {
    expect(parse("postgresql://h/db?target_session_attrs=read-write&client_encoding=UTF8&fallback_application_name=x&options=-c%20work_mem%3D1MB")).toEqual({
      host: "h",
      dbname: "db",
      target_session_attrs: "read-write",
      client_encoding: "UTF8",
      fallback_application_name: "x",
      options: "-c work_mem=1MB",
    });
  });

  test("?ssl=true is sslmode=require (libpq's JDBC compatibility)", () => {
    expect(parse("postgresql://h/db?ssl=true").sslmode).toBe("require");
  });

  test("leading and trailing blanks around the whole string are ignored", () => {
    expect(parse("  postgresql://h/db \n")).toEqual({ host: "h", dbname: "db" });
  });

  test("empty query pairs are skipped", () => {
    expect(parse("postgresql://h/db?&sslmode=require&")).toEqual({ host: "h", dbname: "db", sslmode: "require" });
  });

  test("several hosts become libpq's host and port lists, an empty port where a host has none", () => {
    // libpq's documentation: postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp
    expect(parse("postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp")).toEqual({
      host: "host1,host2",
      port: "123,456",
      dbname: "somedb",
      target_session_attrs: "any",
      application_name: "myapp",
    });
    expect(parse("postgresql://u@h1,h2:5433,h3/db")).toEqual({ user: "u", host: "h1,h2,h3", port: ",5433,", dbname: "db" });
    expect(parse("postgresql://h1,h2/db")).toEqual({ host: "h1,h2", port: ",", dbname: "db" });
    expect(parse("postgresql://[::1]:5433,[2001:db8::1]/db")).toEqual({ host: "::1,2001:db8::1", port: "5433,", dbname: "db" });
    expect(parse("postgresql://%2Frun%2Fa,%2Frun%2Fb:5433/db")).toEqual({ host: "/run/a,/run/b", port: ",5433", dbname: "db" });
  });

  test("a host list in ?host= is a host list too (libpq reads it as several hosts)", () => {
    expect(parse("postgresql:///db?host=h1,h2&port=5432,5433")).toEqual({ dbname: "db", host: "h1,h2", port: "5432,5433" });
    expect(parse("postgresql://h/db?host=%2Fa,%2Fb").host).toBe("/a,/b");
  });

  test("an unknown query parameter is refused and named, with the nearest known one", () => {
    expectRefused("postgresql://h/db?sslmdoe=require", /unknown connection parameter "sslmdoe" \(did you mean "sslmode"\?\)/);
    expectRefused("postgresql://h/db?completely_else=1", /^--url: unknown connection parameter "completely_else"$/);
  });

  test("a query parameter without = is refused", () => {
    expectRefused("postgresql://h/db?sslmode", /a query parameter has no value/);
  });

  test("broken percent-encoding is refused wherever it appears", () => {
    expectRefused("postgresql://u:p%zz@h/db", /malformed percent-encoding/);
    expectRefused("postgresql://h/d%E0%A4b", /malformed percent-encoding/);
    expectRefused("postgresql://h/db?application_name=%", /malformed percent-encoding/);
  });

  test("an unterminated IPv6 bracket is refused", () => {
    expectRefused("postgresql://[::1/db", /unterminated \[/);
  });

  test("junk after the IPv6 bracket is refused", () => {
    expectRefused("postgresql://[::1]5432/db", /unexpected "5432" after the IPv6 host/);
  });

  test("the message names the setting the string came from", () => {
    expectRefused("postgresql://h/db?nope=1", /unknown connection parameter/, "DATABASE_URL");
    expectRefused("postgresql://h/db?nope=1", /unknown connection parameter/, "NETRAVEN_DB_URL");
  });
});

describe("keyword/value strings", () => {
  test("plain pairs", () => {
    expect(parseConnectionString("host=/var/run/postgresql dbname=netraven user=netraven port=5433", "DATABASE_URL")).toEqual({
      host: "/var/run/postgresql",
      dbname: "netraven",
      user: "netraven",
      port: "5433",
    });
  });

  test("spaces around = are optional; any whitespace separates pairs", () => {
    expect(parse("host = h\tdbname= db\n user =u")).toEqual({ host: "h", dbname: "db", user: "u" });
  });

  test("single quotes hold spaces and empty values", () => {
    expect(parse("application_name='my app' password=''")).toEqual({ application_name: "my app", password: "" });
  });

  test("backslash escapes a quote or a backslash inside quotes", () => {
    expect(parse(String.raw`password='it\'s a \\ test'`).password).toBe(String.raw`it's a \ test`);
  });

  test("backslash escapes outside quotes too", () => {
    expect(parse(String.raw`password=a\ b\\c`).password).toBe(String.raw`a b\c`);
  });

  test("an = inside a value is part of the value", () => {
    expect(parse("password=a=b").password).toBe("a=b");
  });

  test("libpq's spellings dbname and user, plus the database/username aliases", () => {
    expect(parse("database=d username=u")).toEqual({ dbname: "d", user: "u" });
  });

  test("a later keyword overrides an earlier one", () => {
    expect(parse("port=1 port=2").port).toBe("2");
  });

  test("every libpq keyword is accepted here (values are judged in settings.ts)", () => {
    expect(parse("host=h keepalives=1 gssencmode=disable target_session_attrs=standby")).toEqual({ host: "h", keepalives: "1", gssencmode: "disable", target_session_attrs: "standby" });
  });

  test("a keyword without = is refused with a hint about both shapes", () => {
    const error = expectRefused("localhost", /expected "localhost=value"/);
    expect(error.message).toContain("postgresql:// URL or keyword=value pairs");
    expectRefused("host=h dbname", /expected "dbname=value"/);
  });

  test("an unterminated quote is refused and names the keyword", () => {
    expectRefused("host=h password='abc", /unterminated quoted value for "password"/);
    expectRefused(String.raw`password='abc\'`, /unterminated quoted value for "password"/);
  });

  test("unknown keywords are refused", () => {
    expectRefused("host=h optoins=-csearch_path=x", /unknown connection parameter "optoins" \(did you mean "options"\?\)/);
  });

  test("a host list and a port list", () => {
    expect(parse("host=h1,h2 port=5432,5433 dbname=db")).toEqual({ host: "h1,h2", port: "5432,5433", dbname: "db" });
  });

  test("an empty or blank string is refused", () => {
    expectRefused("", /is empty/);
    expectRefused("   \n", /is empty/);
  });
});

describe("quoteValue (for --verbose lines)", () => {
  test("plain values stay plain; blanks, quotes and backslashes are quoted as libpq reads them back", () => {
    expect(quoteValue("abc")).toBe("abc");
    expect(quoteValue("")).toBe("''");
    expect(quoteValue("a b")).toBe("'a b'");
    expect(quoteValue(String.raw`it's \ x`)).toBe(String.raw`'it\'s \\ x'`);
    expect(parse(`application_name=${quoteValue(String.raw`it's a \ test`)}`).application_name).toBe(String.raw`it's a \ test`);
  });
});
