// Connection settings (src/connection/settings.ts) as libpq resolves them: the string (--url > NETRAVEN_DB_URL >
// DATABASE_URL), then the service file, then PG* variables, then defaults; host/hostaddr/port lists; a password file
// lookup per host; every parameter checked with a message naming where it came from. Expectations come from libpq's
// documentation ("Parameter Key Words", "Environment Variables", "The Connection Service File"); the tests in
// tests/connection/libpq.test.ts compare the same strings with what psql itself does. Every env is passed
// explicitly; HOME points at an empty directory so a developer's own ~/.pgpass or ~/.pg_service.conf never leaks in.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Env } from "../../src/config.ts";
import { refusals } from "../../src/connection/parameters.ts";
import { describeHost, describeServer, describeSettings, resolveConnection } from "../../src/connection/settings.ts";
import { DEFAULTS } from "../../src/defaults.ts";
import { isNetravenError, type NetravenError } from "../../src/errors.ts";
import { scrub } from "../../src/secrets.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-settings-test-"));
const emptyHome = join(dir, "home");
mkdirSync(emptyHome);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function tempFile(content: string): string {
  const path = join(dir, `file-${++fileCounter}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** PGSYSCONFDIR points at an empty directory too, so the machine's own pg_service.conf never leaks in. */
const env = (vars: Env = {}): Env => ({ HOME: emptyHome, PGSYSCONFDIR: emptyHome, ...vars });
const resolve = (url: string | undefined, vars: Env = {}) => resolveConnection(url === undefined ? {} : { url }, env(vars));

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
  expect(error.exitStatus).toBe(3);
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
    expect(s.hosts[0]!.host).toBe("fromflag");
    expect(s.source).toBe("--url");
  });

  test("NETRAVEN_DB_URL beats DATABASE_URL and PG*", () => {
    const s = resolveConnection({}, all);
    expect(s.hosts[0]!.host).toBe("fromnetraven");
    expect(s.source).toBe("NETRAVEN_DB_URL");
  });

  test("DATABASE_URL beats PG*", () => {
    const s = resolveConnection({}, { ...all, NETRAVEN_DB_URL: undefined });
    expect(s.hosts[0]!.host).toBe("fromdatabaseurl");
    expect(s.database).toBe("db2");
    expect(s.source).toBe("DATABASE_URL");
  });

  test("PG* variables alone", () => {
    const s = resolve(undefined, {
      PGHOST: "pg.example",
      PGPORT: "6432",
      PGUSER: "alice",
      PGDATABASE: "inventory",
      PGSSLMODE: "verify-full",
      PGCONNECT_TIMEOUT: "3",
      PGAPPNAME: "cron",
      PGSSLROOTCERT: "/ca.pem",
      PGSSLCERT: "/c.pem",
      PGSSLKEY: "/k.pem",
    });
    expect(s.hosts).toEqual([{ host: "pg.example", port: 6432, socket: false, password: undefined }]);
    expect(s).toMatchObject({ user: "alice", database: "inventory", sslmode: "verify-full", connectTimeoutSeconds: 3, applicationName: "cron", source: "PG* variables" });
    expect(s.tls).toMatchObject({ rootcert: "/ca.pem", rootcertGiven: true, cert: "/c.pem", key: "/k.pem" });
  });

  test("an empty --url or an empty URL variable is an error, never a fall-through to the next source", () => {
    // `restore F --url "" --yes` once restored into DATABASE_URL's database.
    expect(failure(() => resolveConnection({ url: "" }, env({ DATABASE_URL: "postgresql://h2/d" }))).message).toBe("option --url requires a value");
    expectConfigError(() => resolve(undefined, { NETRAVEN_DB_URL: "", DATABASE_URL: "postgresql://h2/d" }), "NETRAVEN_DB_URL is set but empty; give it a value or unset it");
    expectConfigError(() => resolve(undefined, { DATABASE_URL: "", PGHOST: "h3" }), "DATABASE_URL is set but empty; give it a value or unset it");
  });

  test("a keyword/value string works wherever a URL does", () => {
    const s = resolve(undefined, { DATABASE_URL: "host=/var/run/postgresql port=5433 dbname=netraven user=netraven" });
    expect(s.hosts).toEqual([{ host: "/var/run/postgresql", port: 5433, socket: true, password: undefined }]);
    expect(s).toMatchObject({ database: "netraven", user: "netraven" });
  });

  test("URL parts override PG* variables for the same field; parts the URL leaves out come from PG*", () => {
    const s = resolve("postgresql://urlhost/urldb?sslmode=require", { PGHOST: "envhost", PGDATABASE: "envdb", PGSSLMODE: "disable", PGUSER: "envuser", PGPORT: "6000", PGAPPNAME: "envapp" });
    expect(s.hosts[0]).toMatchObject({ host: "urlhost", port: 6000 });
    expect(s).toMatchObject({ database: "urldb", sslmode: "require", user: "envuser", applicationName: "envapp" });
  });

  test("a unix socket URL gives a socket host", () => {
    const s = resolve("postgresql://netraven@/netraven?host=/var/run/postgresql");
    expect(s.hosts[0]).toMatchObject({ host: "/var/run/postgresql", socket: true });
    expect(describeServer(s)).toBe("netraven@/var/run/postgresql/.s.PGSQL.5432/netraven");
  });

  test("a bad connection string names its source", () => {
    expectConfigError(() => resolve(undefined, { DATABASE_URL: "postgresql://h/db?bogus=1" }), /^DATABASE_URL: unknown connection parameter "bogus"/);
  });

  test("every connection variable has a _FILE form, including the URLs", () => {
    const s = resolve(undefined, { DATABASE_URL_FILE: tempFile("postgresql://filehost/filedb\n"), PGPASSWORD_FILE: tempFile("pw-from-file\n") });
    expect(s).toMatchObject({ database: "filedb", password: "pw-from-file", source: "DATABASE_URL" });
    expect(s.hosts[0]!.host).toBe("filehost");
    const t = resolve(undefined, { NETRAVEN_DB_URL_FILE: tempFile("postgresql://nfile/x"), PGUSER_FILE: tempFile("fileuser\n"), PGTARGETSESSIONATTRS_FILE: tempFile("standby\n") });
    expect(t).toMatchObject({ user: "fileuser", source: "NETRAVEN_DB_URL", targetSessionAttrs: "standby" });
  });

  test("a bad _FILE is reported by name", () => {
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGPASSWORD_FILE: join(dir, "nope") }), /^PGPASSWORD_FILE: cannot read/);
  });
});

describe("no settings at all", () => {
  test("refuses instead of guessing localhost", () => {
    const error = failure(() => resolveConnection({}, { HOME: emptyHome, PATH: "/usr/bin", LANG: "C" }));
    expect(error.code).toBe("NO_CONNECTION_SETTINGS");
    expect(error.exitStatus).toBe(3);
  });

  test("empty PG* variables are no settings, as libpq reads them", () => {
    expect(failure(() => resolve(undefined, { PGHOST: "", PGUSER: "" })).code).toBe("NO_CONNECTION_SETTINGS");
  });

  test("any one PG* variable libpq reads is enough, the rest are defaults", () => {
    expect(resolve(undefined, { PGDATABASE: "x" }).database).toBe("x");
    expect(resolve(undefined, { PGPASSWORD: "abc-pw" }).password).toBe("abc-pw");
    expect(resolve(undefined, { PGTARGETSESSIONATTRS: "standby" }).targetSessionAttrs).toBe("standby");
    expect(resolve(undefined, { PGOPTIONS: "-c work_mem=64MB" }).options).toBe("-c work_mem=64MB");
  });
});

describe("defaults", () => {
  test("port 5432, user = OS user, database = user, sslmode prefer, 10 s timeout, application_name netraven-db, any server", () => {
    const s = resolve(undefined, { PGHOST: "db" });
    expect(s.hosts).toEqual([{ host: "db", port: 5432, socket: false, password: undefined }]);
    expect(s.user).toBe(userInfo().username);
    expect(s.database).toBe(userInfo().username);
    expect(s.sslmode).toBe("prefer");
    expect(s.connectTimeoutSeconds).toBe(10);
    expect(s.applicationName).toBe("netraven-db");
    expect(s.password).toBeUndefined();
    expect(s.passwordOnCommandLine).toBe(false);
    expect(s.targetSessionAttrs).toBe("any");
    expect(s.loadBalanceHosts).toBe("disable");
    expect(s.liveness).toEqual({ enabled: true, idleSeconds: 30, intervalSeconds: 10, count: 3, userTimeoutMs: 0 });
    expect(DEFAULTS.keepalives).toEqual({ idleSeconds: 30, intervalSeconds: 10, count: 3 });
    expect(s.tls).toMatchObject({ sni: true, sendCert: true, minVersion: "TLSv1.2", rootcert: join(emptyHome, ".postgresql", "root.crt"), rootcertGiven: false });
    expect(s.options).toBeUndefined();
  });

  test("the database defaults to the user however the user was given", () => {
    expect(resolve("postgresql://bob@h").database).toBe("bob");
    expect(resolve(undefined, { PGHOST: "h", PGUSER: "carol" }).database).toBe("carol");
  });

  test("without a host: a local socket directory if the server's socket is there, else localhost", () => {
    const port = 54329;
    const s = resolve(undefined, { PGPORT: String(port) });
    const socketDir = ["/var/run/postgresql", "/tmp"].find((d) => existsSync(join(d, `.s.PGSQL.${port}`)));
    expect(s.hosts[0]!.host).toBe(socketDir ?? "localhost");
  });

  test("an empty host is the default host, as in libpq (host='' and an empty list element)", () => {
    const port = 54329;
    const fallback = ["/var/run/postgresql", "/tmp"].find((d) => existsSync(join(d, `.s.PGSQL.${port}`))) ?? "localhost";
    expect(resolve(`host='' port=${port} dbname=d`).hosts[0]!.host).toBe(fallback);
    expect(resolve(`host=h1, port=${port} dbname=d`).hosts.map((h) => h.host)).toEqual(["h1", fallback]);
  });
});

describe("several hosts", () => {
  test("a URL with a port per host, as libpq's documentation example", () => {
    const s = resolve("postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp");
    expect(s.hosts.map(describeHost)).toEqual(["host1:123", "host2:456"]);
    expect(s).toMatchObject({ database: "somedb", targetSessionAttrs: "any", applicationName: "myapp" });
  });

  test("hosts without a port in a URL get the default (or PGPORT's single value), each on its own", () => {
    expect(resolve("postgresql://h1,h2:5433,h3/db").hosts.map((h) => h.port)).toEqual([5432, 5433, 5432]);
    expect(resolve("postgresql://h1,h2/db", { PGPORT: "6000" }).hosts.map((h) => h.port)).toEqual([5432, 5432]);
  });

  test("the keyword form: one port for all hosts, or one per host", () => {
    expect(resolve("host=h1,h2,h3 port=5433 dbname=d").hosts.map(describeHost)).toEqual(["h1:5433", "h2:5433", "h3:5433"]);
    expect(resolve("host=h1,h2 port=5432,5433 dbname=d").hosts.map(describeHost)).toEqual(["h1:5432", "h2:5433"]);
    expect(resolve("host=h1,h2 port=,5433 dbname=d").hosts.map(describeHost)).toEqual(["h1:5432", "h2:5433"]);
  });

  test("PGHOST and PGPORT lists", () => {
    expect(resolve(undefined, { PGHOST: "a,b", PGPORT: "1111,2222" }).hosts.map(describeHost)).toEqual(["a:1111", "b:2222"]);
  });

  test("unix-socket directories in a host list, mixed with TCP hosts", () => {
    const s = resolve("host=/run/a,db.example,/run/b port=5432,5433,5434 dbname=d");
    expect(s.hosts.map((h) => [h.host, h.port, h.socket])).toEqual([
      ["/run/a", 5432, true],
      ["db.example", 5433, false],
      ["/run/b", 5434, true],
    ]);
    expect(describeServer(s)).toBe(`${userInfo().username}@/run/a/.s.PGSQL.5432,db.example:5433,/run/b/.s.PGSQL.5434/d`);
  });

  test("IPv6 hosts in a URL list", () => {
    expect(resolve("postgresql://[::1]:5433,[fe80::2]/db").hosts.map(describeHost)).toEqual(["[::1]:5433", "[fe80::2]:5432"]);
  });

  test("a port list that matches neither one nor every host is refused, counting both", () => {
    expectConfigError(() => resolve("host=a,b,c port=1,2 dbname=d"), "connection settings (--url): port lists 2 ports for 3 hosts (give one port for all hosts, or one per host)");
    expectConfigError(() => resolve(undefined, { PGHOST: "a,b,c", PGPORT: "1,2" }), /^PGPORT: port lists 2 ports for 3 hosts/);
  });

  test("hostaddr: the address to connect to, with host kept for TLS, .pgpass and messages", () => {
    const s = resolve("host=db.example hostaddr=10.0.0.5 dbname=d");
    expect(s.hosts).toEqual([{ host: "db.example", hostaddr: "10.0.0.5", port: 5432, socket: false, password: undefined }]);
    expect(describeHost(s.hosts[0]!)).toBe("db.example (10.0.0.5):5432");
    expect(describeHost(resolve("hostaddr=::1 port=5433 dbname=d").hosts[0]!)).toBe("[::1]:5433");
  });

  test("hostaddr lists must match the host list, and must be numeric", () => {
    expect(resolve("host=a,b hostaddr=10.0.0.1,10.0.0.2 dbname=d").hosts.map((h) => h.hostaddr)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expectConfigError(() => resolve("host=a,b,c hostaddr=10.0.0.1,10.0.0.2 dbname=d"), /host lists 3 host names for 2 hostaddr values/);
    expectConfigError(() => resolve("hostaddr=db.example dbname=d"), /^connection settings \(--url\): hostaddr must be numeric IP addresses/);
  });

  test("target_session_attrs from the string or PGTARGETSESSIONATTRS; the string wins", () => {
    for (const value of ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const) {
      expect(resolve(`postgresql://h1,h2/db?target_session_attrs=${value}`).targetSessionAttrs).toBe(value);
    }
    expect(resolve("host=h1,h2 dbname=d", { PGTARGETSESSIONATTRS: "read-only" }).targetSessionAttrs).toBe("read-only");
    expect(resolve("host=h1 target_session_attrs=standby", { PGTARGETSESSIONATTRS: "read-only" }).targetSessionAttrs).toBe("standby");
    expectConfigError(() => resolve("postgresql://h/db?target_session_attrs=master"), 'connection settings (--url): target_session_attrs must be one of any, read-write, read-only, primary, standby, prefer-standby (got "master")');
  });

  test("load_balance_hosts from the string or PGLOADBALANCEHOSTS", () => {
    expect(resolve("postgresql://h1,h2/db?load_balance_hosts=random").loadBalanceHosts).toBe("random");
    expect(resolve("host=h1,h2", { PGLOADBALANCEHOSTS: "random" }).loadBalanceHosts).toBe("random");
    expectConfigError(() => resolve("host=h load_balance_hosts=roundrobin"), /load_balance_hosts must be one of disable, random/);
  });
});

describe("validation", () => {
  test("a bad port from a variable names the variable", () => {
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGPORT: "abc" }), 'PGPORT: port must be a number (got "abc")');
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGPORT: "70000" }), 'PGPORT: port must be a whole number between 1 and 65535 (got "70000")');
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGPORT: "0" }), /^PGPORT: port must be a whole number between 1 and 65535/);
  });

  test("a URL without a port does not take the blame for PGPORT", () => {
    expectConfigError(() => resolve("postgresql://h/db", { PGPORT: "5432x" }), /^PGPORT: port must be a number/);
  });

  test("a bad port in the URL names the URL", () => {
    expectConfigError(() => resolve("postgresql://h:99999/db", { PGPORT: "5432" }), 'connection settings (--url): port must be a whole number between 1 and 65535 (got "99999")');
    expectConfigError(() => resolve("postgresql://h:port/db"), 'connection settings (--url): port must be a number (got "port")');
  });

  test("a bad sslmode lists the modes", () => {
    const modes = "disable, allow, prefer, require, verify-ca, verify-full";
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGSSLMODE: "on" }), `PGSSLMODE: sslmode must be one of ${modes} (got "on")`);
    expectConfigError(() => resolve(undefined, { DATABASE_URL: "postgresql://h/db?sslmode=true" }), `connection settings (DATABASE_URL): sslmode must be one of ${modes} (got "true")`);
  });

  test("connect_timeout as libpq reads it: a whole number; 0 or less waits forever; below 2 s is 2 s", () => {
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGCONNECT_TIMEOUT: "soon" }), 'PGCONNECT_TIMEOUT: connect_timeout must be a whole number (got "soon")');
    expect(resolve("host=h connect_timeout=0").connectTimeoutSeconds).toBeNull();
    expect(resolve("host=h connect_timeout=-5").connectTimeoutSeconds).toBeNull();
    expect(resolve("host=h connect_timeout=1").connectTimeoutSeconds).toBe(2);
    expect(resolve("host=h connect_timeout=99999").connectTimeoutSeconds).toBe(99999);
  });

  test("a password that fails a check is never echoed", () => {
    const error = failure(() => resolve("host=h sslpassword=hunter2-secret oauth_client_secret=also-secret"));
    expect(error.message).not.toContain("also-secret");
    expect(error.message).toContain("oauth_client_secret");
  });
});

describe("passwords", () => {
  test("passwordOnCommandLine only when --url carries a password", () => {
    expect(resolve("postgresql://u:abc-url-pw@h/db").passwordOnCommandLine).toBe(true);
    expect(resolve("host=h password=abc-kv-pw").passwordOnCommandLine).toBe(true);
    expect(resolve("postgresql://h/db?password=abc-q-pw").passwordOnCommandLine).toBe(true);
    expect(resolve("postgresql://u@h/db", { PGPASSWORD: "abc-env-pw" }).passwordOnCommandLine).toBe(false);
    expect(resolve(undefined, { DATABASE_URL: "postgresql://u:abc-env-url-pw@h/db" }).passwordOnCommandLine).toBe(false);
    expect(resolve(undefined, { NETRAVEN_DB_URL: "postgresql://u:abc-env-url-pw@h/db" }).passwordOnCommandLine).toBe(false);
  });

  test("a URL password beats PGPASSWORD; PGPASSWORD fills in when the URL has none; the source is kept for messages", () => {
    expect(resolve("postgresql://u:url-pw-1@h/db", { PGPASSWORD: "env-pw-1" })).toMatchObject({ password: "url-pw-1", passwordSource: "connection settings (--url)" });
    expect(resolve("postgresql://u@h/db", { PGPASSWORD: "env-pw-2" })).toMatchObject({ password: "env-pw-2", passwordSource: "PGPASSWORD" });
  });

  test("the resolved passwords are registered for scrubbing, raw and URL-encoded (also sslpassword)", () => {
    resolve("postgresql://u:reg%2Fist%40ered@h/db?sslpassword=key-pass-77");
    expect(scrub("a reg/ist@ered b reg%2Fist%40ered c key-pass-77")).toBe("a **** b **** c ****");
  });

  test("describeServer and describeSettings never include the password", () => {
    const s = resolve("postgresql://netraven:describe-pw-77@db.example:5433/netraven");
    expect(s.password).toBe("describe-pw-77");
    expect(describeServer(s)).toBe("netraven@db.example:5433/netraven");
    expect(describeSettings(s)).not.toContain("describe-pw-77");
    expect(describeSettings(s)).toContain("password_source='connection settings (--url)'");
  });

  test("describeHost brackets IPv6 hosts and names the socket file for socket hosts", () => {
    expect(describeServer({ hosts: [{ host: "::1", port: 5433, socket: false }], user: "u", database: "d" })).toBe("u@[::1]:5433/d");
    expect(describeServer({ hosts: [{ host: "/tmp", port: 5432, socket: true }], user: "u", database: "d" })).toBe("u@/tmp/.s.PGSQL.5432/d");
  });
});

describe("the password file, per host", () => {
  test("used only when no password was given", () => {
    const file = tempFile("*:*:*:*:from-pgpass\n");
    expect(resolve("postgresql://u@h/db", { PGPASSFILE: file }).hosts[0]!.password).toBe("from-pgpass");
    const envWins = resolve("postgresql://u@h/db", { PGPASSFILE: file, PGPASSWORD: "env-wins" });
    expect(envWins.password).toBe("env-wins");
    expect(envWins.hosts[0]!.password).toBeUndefined();
    expect(resolve("postgresql://u:url-wins@h/db", { PGPASSFILE: file }).password).toBe("url-wins");
  });

  test("an empty password counts as none, as in libpq, so the file is still consulted", () => {
    const file = tempFile("*:*:*:*:empty-fallback\n");
    const s = resolve("postgresql://u:@h/db", { PGPASSFILE: file });
    expect(s.password).toBeUndefined();
    expect(s.hosts[0]!.password).toBe("empty-fallback");
    expect(s.passwordOnCommandLine).toBe(false);
  });

  test("PGPASSFILE alone counts as a connection setting", () => {
    const file = tempFile("*:*:*:*:only-pgpass\n");
    expect(resolve(undefined, { PGPASSFILE: file }).hosts[0]!.password).toBe("only-pgpass");
  });

  test("the passfile keyword beats PGPASSFILE, which beats ~/.pgpass", () => {
    const keyword = tempFile("*:*:*:*:from-keyword\n");
    const variable = tempFile("*:*:*:*:from-variable\n");
    expect(resolve(`host=h passfile=${keyword}`, { PGPASSFILE: variable }).hosts[0]!.password).toBe("from-keyword");
    expect(resolve("host=h", { PGPASSFILE: variable }).passfile).toBe(variable);
    expect(resolve("host=h").passfile).toBe(join(emptyHome, ".pgpass"));
  });

  test("each host of a list gets its own line, as libpq looks them up", () => {
    const file = tempFile(["h1:5432:db:alice:pw-one", "h2:6543:db:alice:pw-two", "10.0.0.9:5432:db:alice:pw-by-address"].join("\n"));
    const s = resolve("postgresql://alice@h1,h2:6543,h3/db", { PGPASSFILE: file });
    expect(s.hosts.map((h) => h.password)).toEqual(["pw-one", "pw-two", undefined]);
    // Without a host name, the hostaddr is the key.
    expect(resolve("hostaddr=10.0.0.9 user=alice dbname=db", { PGPASSFILE: file }).hosts[0]!.password).toBe("pw-by-address");
  });
});

describe("the connection service file", () => {
  const services = [
    "# comment",
    "[prod]",
    "host=db1.example,db2.example",
    "port=5433",
    "dbname=netraven",
    "user=svc_user",
    "target_session_attrs=read-write",
    "",
    "[other]",
    "host=elsewhere",
  ].join("\n");

  test("service=name in the string fills what the string leaves out", () => {
    const file = tempFile(services);
    const s = resolve("service=prod user=explicit", { PGSERVICEFILE: file });
    expect(s.hosts.map(describeHost)).toEqual(["db1.example:5433", "db2.example:5433"]);
    expect(s).toMatchObject({ database: "netraven", user: "explicit", targetSessionAttrs: "read-write", service: { name: "prod", file } });
  });

  test("PGSERVICE names the service; service settings beat PG* variables", () => {
    const file = tempFile(services);
    const s = resolve(undefined, { PGSERVICE: "prod", PGSERVICEFILE: file, PGHOST: "ignored", PGDATABASE: "ignored", PGAPPNAME: "from-env" });
    expect(s.hosts[0]!.host).toBe("db1.example");
    expect(s.database).toBe("netraven");
    expect(s.applicationName).toBe("from-env");
  });

  test("~/.pg_service.conf is the per-user file without PGSERVICEFILE", () => {
    const home = join(dir, "home-with-services");
    mkdirSync(home);
    writeFileSync(join(home, ".pg_service.conf"), services);
    expect(resolveConnection({}, { HOME: home, PGSYSCONFDIR: emptyHome, PGSERVICE: "other" }).hosts[0]!.host).toBe("elsewhere");
  });

  test("PGSYSCONFDIR/pg_service.conf when the per-user file does not define the service", () => {
    const sysconf = join(dir, "sysconf");
    mkdirSync(sysconf);
    writeFileSync(join(sysconf, "pg_service.conf"), "[system_only]\nhost=from-system\n[other]\nhost=system-other\n");
    const user = tempFile(services);
    expect(resolve("service=system_only", { PGSYSCONFDIR: sysconf, PGSERVICEFILE: user }).hosts[0]!.host).toBe("from-system");
    // Defined in both: the per-user file wins and the system file is not read.
    expect(resolve("service=other", { PGSYSCONFDIR: sysconf, PGSERVICEFILE: user }).hosts[0]!.host).toBe("elsewhere");
  });

  test("a service defined nowhere is an error naming the files searched", () => {
    const file = tempFile(services);
    expectConfigError(() => resolve("service=nope", { PGSERVICEFILE: file }), `service "nope": definition of service "nope" not found (looked in ${file} and ${join(emptyHome, "pg_service.conf")})`);
  });

  test("service file syntax as libpq reads it: no blanks around =, no nested service, known keywords only", () => {
    expectConfigError(() => resolve("service=s", { PGSERVICEFILE: tempFile("[s]\nhost = x\n") }), /syntax error in .* line 2 \(unknown keyword "host "\)|syntax error in .* line 2/);
    expectConfigError(() => resolve("service=s", { PGSERVICEFILE: tempFile("[s]\nservice=t\n") }), /nested service specifications are not supported/);
    expectConfigError(() => resolve("service=s", { PGSERVICEFILE: tempFile("[s]\nhostname=x\n") }), /unknown keyword "hostname"/);
    expectConfigError(() => resolve("service=s", { PGSERVICEFILE: tempFile("[s]\njust words\n") }), /expected keyword=value/);
  });

  test("a bad value from a service names the service, the file and the line", () => {
    const file = tempFile("[s]\nsslmode=sometimes\n");
    expectConfigError(() => resolve("service=s", { PGSERVICEFILE: file }), new RegExp(`^service "s" \\(${file} line 2\\): sslmode must be one of`));
  });

  test("the servicefile keyword names the per-user file", () => {
    const file = tempFile(services);
    expect(resolve(`service=other servicefile=${file}`).hosts[0]!.host).toBe("elsewhere");
  });
});

describe("the rest of libpq's parameters", () => {
  test("options, application_name and fallback_application_name", () => {
    expect(resolve("host=h options='-c statement_timeout=0'").options).toBe("-c statement_timeout=0");
    expect(resolve(undefined, { PGHOST: "h", PGOPTIONS: "-c work_mem=1MB" }).options).toBe("-c work_mem=1MB");
    expect(resolve("host=h fallback_application_name=fb").applicationName).toBe("fb");
    expect(resolve("host=h fallback_application_name=fb application_name=app").applicationName).toBe("app");
    // PGAPPNAME is application_name, so it beats a fallback from the string.
    expect(resolve("host=h fallback_application_name=fb", { PGAPPNAME: "env" }).applicationName).toBe("env");
  });

  test("keepalives, keepalives_idle/interval/count and tcp_user_timeout", () => {
    expect(resolve("host=h keepalives=0").liveness.enabled).toBe(false);
    expect(resolve("host=h keepalives=1 keepalives_idle=7 keepalives_interval=2 keepalives_count=4 tcp_user_timeout=9000").liveness).toEqual({
      enabled: true,
      idleSeconds: 7,
      intervalSeconds: 2,
      count: 4,
      userTimeoutMs: 9000,
    });
    // 0 means "the default" in libpq (the system's); ours are the documented DEFAULTS.keepalives.
    expect(resolve("host=h keepalives_idle=0 keepalives_interval=0 keepalives_count=0").liveness).toMatchObject(DEFAULTS.keepalives);
    expectConfigError(() => resolve("host=h keepalives_idle=soon"), /keepalives_idle must be a whole number/);
    expectConfigError(() => resolve("host=h keepalives=yes"), /keepalives must be a whole number/);
  });

  test("client_encoding: UTF8 in any spelling (and auto) is accepted; anything else is refused in one line", () => {
    for (const value of ["UTF8", "utf8", "UTF-8", "unicode", "auto"]) expect(() => resolve(`host=h client_encoding=${value}`)).not.toThrow();
    expectConfigError(() => resolve("host=h client_encoding=LATIN1"), /^connection settings \(--url\): client_encoding=LATIN1 is not supported: netraven-db reads and writes UTF-8 only/);
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGCLIENTENCODING: "SQL_ASCII" }), /^PGCLIENTENCODING: client_encoding=SQL_ASCII is not supported/);
  });

  test("TLS parameters: sslpassword, sslcrl, sslcrldir, sslsni, sslcertmode, protocol versions", () => {
    const s = resolve("host=h sslmode=verify-full sslrootcert=/ca sslcrl=/crl.pem sslcrldir=/crls sslsni=0 sslcertmode=disable sslpassword=kp ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.3");
    expect(s.tls).toMatchObject({ crl: "/crl.pem", crlGiven: true, crldir: "/crls", sni: false, sendCert: false, password: "kp", minVersion: "TLSv1.3", maxVersion: "TLSv1.3" });
    expectConfigError(() => resolve("host=h ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2"), /ssl_max_protocol_version TLSv1.2 is below ssl_min_protocol_version TLSv1.3/);
    expectConfigError(() => resolve("host=h ssl_min_protocol_version=SSLv3"), /ssl_min_protocol_version must be one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3/);
    expectConfigError(() => resolve("host=h sslsni=yes"), /sslsni must be one of 0, 1/);
  });

  test("sslrootcert=system means verify-full, and a weaker sslmode with it is refused (libpq 16)", () => {
    expect(resolve("host=h sslrootcert=system").sslmode).toBe("verify-full");
    expectConfigError(() => resolve("host=h sslrootcert=system sslmode=require"), /sslmode "require" is too weak for sslrootcert=system/);
  });

  test("gssencmode=disable|prefer and channel_binding=disable|prefer are accepted (there is nothing to do without GSS)", () => {
    for (const value of ["disable", "prefer"]) {
      expect(() => resolve(`host=h gssencmode=${value}`)).not.toThrow();
      expect(() => resolve(`host=h channel_binding=${value}`)).not.toThrow();
    }
    expect(() => resolve("host=h replication=false sslnegotiation=postgres sslcompression=0 gssdelegation=0 min_protocol_version=3.0 max_protocol_version=latest")).not.toThrow();
  });

  test("every parameter libpq accepts but netraven-db cannot honour is refused in one line that names it and says why", () => {
    const refused = refusals();
    expect(refused.map((r): string => r.keyword).sort()).toEqual(
      [
        "channel_binding", "client_encoding", "gssdelegation", "gssencmode", "gsslib", "krbsrvname", "min_protocol_version", "oauth_client_id",
        "oauth_client_secret", "oauth_issuer", "oauth_scope", "replication", "require_auth", "requirepeer", "scram_client_key", "scram_server_key",
        "sslcertmode", "sslcompression", "sslkeylogfile", "sslnegotiation",
      ].sort(),
    );
    for (const { keyword, example, reason } of refused) {
      const error = expectConfigError(() => resolve(`host=h ${keyword}=${example}`), new RegExp(`^connection settings \\(--url\\): ${keyword}(=\\S+)? is not supported: `));
      expect(error.message).toContain(reason);
    }
  });

  test("a refused parameter from a variable names the variable", () => {
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGGSSENCMODE: "require" }), "PGGSSENCMODE: gssencmode=require is not supported: netraven-db has no GSSAPI/Kerberos support");
    expectConfigError(() => resolve(undefined, { PGHOST: "h", PGREQUIREPEER: "postgres" }), /^PGREQUIREPEER: requirepeer=postgres is not supported: /);
  });
});
