// netraven-db against libpq itself: for a table of connection strings and environments, psql (libpq 15) and the
// compiled binary connect to a real primary + hot standby, and what psql reports (\conninfo, inet_server_port(),
// pg_is_in_recovery(), current_setting(...), pg_stat_ssl) must equal what the binary reports it connected to
// (--verbose "connected:" line). Parameters psql cannot show (keepalives, connect_timeout) are compared with what the
// binary resolved ("connection settings:" line) and, where it matters, their effect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { freePort } from "../harness/cluster.ts";
import { createPair, type Pair } from "../harness/ha.ts";
import { startProxy, type Proxy } from "../harness/proxy.ts";
import { connectedSession, psqlSession, resolvedSettings, type PsqlSession, type Session } from "../harness/session.ts";

let pair: Pair;
let root: string;
let silentHost: Proxy;
let deadPort: number;
const DB = "app";

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "netraven-libpq-test-"));
  pair = await createPair();
  await pair.sql()`create database app`;
  expect((await runBinary(["init"], { env: { DATABASE_URL: pair.primary.url(DB) } })).status).toBe(0);
  await pair.waitForStandby();
  silentHost = await startProxy({ host: "127.0.0.1", port: pair.primary.port }, { silent: true });
  deadPort = await freePort();
});

afterAll(async () => {
  await silentHost?.close();
  await pair?.destroy();
  rmSync(root, { recursive: true, force: true });
});

let fileCounter = 0;
function file(name: string, content: string, mode = 0o600): string {
  const dir = join(root, `f${++fileCounter}`);
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

interface Case {
  name: string;
  /** The connection string; undefined = none (psql gets no argument, the binary no --url). */
  conninfo: () => string | undefined;
  env?: () => Record<string, string>;
  /** The fields that must agree; application_name only when the string sets it (psql's fallback is "psql"). */
  compare?: Array<keyof PsqlSession>;
  /** Values the binary must have resolved (its "connection settings" line). */
  resolved?: () => Session;
}

const P = () => pair.primary.port;
const S = () => pair.standby.port;
const BASE: Array<keyof PsqlSession> = ["host", "hostaddr", "port", "user", "dbname", "in_recovery", "transaction_read_only", "statement_timeout", "client_encoding", "ssl"];

const cases: Case[] = [
  { name: "a URL with one host", conninfo: () => `postgresql://postgres@127.0.0.1:${P()}/${DB}` },
  { name: "keyword/value with options (a startup option)", conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres options='-c statement_timeout=1234'` },
  { name: "a unix socket directory in ?host=", conninfo: () => `postgresql://postgres@/${DB}?host=${pair.primary.socketDir}&port=${P()}` },
  { name: "a percent-encoded socket directory as the host", conninfo: () => `postgresql://postgres@${encodeURIComponent(pair.primary.socketDir)}:${P()}/${DB}` },
  { name: "a host name: the address it resolved to is reported too", conninfo: () => `host=localhost port=${P()} dbname=${DB} user=postgres` },
  { name: "hostaddr with a host name", conninfo: () => `host=localhost hostaddr=127.0.0.1 port=${P()} dbname=${DB} user=postgres` },
  { name: "hostaddr without a host name", conninfo: () => `hostaddr=127.0.0.1 port=${P()} dbname=${DB} user=postgres` },
  {
    name: "PG* variables only, PGOPTIONS and PGAPPNAME too",
    conninfo: () => undefined,
    env: () => ({ PGHOST: "127.0.0.1", PGPORT: String(P()), PGUSER: "postgres", PGDATABASE: DB, PGAPPNAME: "from-env", PGOPTIONS: "-c statement_timeout=77" }),
    compare: [...BASE, "application_name"],
  },
  { name: "application_name in the string", conninfo: () => `postgresql://postgres@127.0.0.1:${P()}/${DB}?application_name=explicit-app`, compare: [...BASE, "application_name"] },
  { name: "client_encoding=UTF8", conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres client_encoding=UTF8` },
  { name: "sslmode=disable", conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres sslmode=disable` },
  { name: "ssl_max_protocol_version=TLSv1.2", conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres sslmode=require ssl_max_protocol_version=TLSv1.2` },
  { name: "ssl_min_protocol_version=TLSv1.3", conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres sslmode=require ssl_min_protocol_version=TLSv1.3` },
  { name: "gssencmode=prefer and channel_binding=prefer (no GSS here: nothing to do)", conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres gssencmode=prefer channel_binding=prefer` },
  {
    name: "passfile (no password anywhere else)",
    conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres passfile=${file("pgpass", `127.0.0.1:${P()}:${DB}:postgres:${pair.primary.password}\n`)}`,
    env: () => ({ PGPASSWORD: "" }),
  },
  {
    name: "PGPASSFILE (no password anywhere else)",
    conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres`,
    env: () => ({ PGPASSWORD: "", PGPASSFILE: file("pgpass", `*:*:*:postgres:${pair.primary.password}\n`) }),
  },
  {
    name: "a service from PGSERVICEFILE (a host list with read-write)",
    conninfo: () => "service=ha",
    env: () => ({ PGSERVICEFILE: file("services.conf", `[ha]\nhost=127.0.0.1,127.0.0.1\nport=${S()},${P()}\ndbname=${DB}\nuser=postgres\ntarget_session_attrs=read-write\n`) }),
  },
  {
    name: "PGSERVICE from PGSYSCONFDIR/pg_service.conf, the string's dbname winning over the service's",
    conninfo: () => `dbname=${DB}`,
    env: () => {
      const conf = file("pg_service.conf", `[sys]\nhost=127.0.0.1\nport=${S()}\ndbname=postgres\nuser=postgres\n`);
      return { PGSERVICE: "sys", PGSYSCONFDIR: join(conf, "..") };
    },
  },
  {
    name: "a service from ~/.pg_service.conf, beating PGHOST",
    conninfo: () => "service=home",
    env: () => {
      const conf = file(".pg_service.conf", `[home]\nhost=${pair.primary.socketDir}\nport=${P()}\ndbname=${DB}\nuser=postgres\n`);
      return { HOME: join(conf, ".."), PGHOST: "127.0.0.2" };
    },
  },
  { name: "two hosts, the standby first (any: the first that answers)", conninfo: () => `postgresql://postgres@127.0.0.1:${S()},127.0.0.1:${P()}/${DB}` },
  { name: "a host that refuses first", conninfo: () => `host=127.0.0.1,127.0.0.1 port=${deadPort},${P()} dbname=${DB} user=postgres` },
  {
    name: "connect_timeout per host: a host that swallows packets first",
    conninfo: () => `host=127.0.0.1,127.0.0.1 port=${silentHost.port},${P()} dbname=${DB} user=postgres connect_timeout=2`,
    resolved: () => ({ connect_timeout: "2" }),
  },
  { name: "PGHOST and PGPORT lists with PGTARGETSESSIONATTRS=primary", conninfo: () => undefined, env: () => ({ PGHOST: "127.0.0.1,127.0.0.1", PGPORT: `${S()},${P()}`, PGUSER: "postgres", PGDATABASE: DB, PGTARGETSESSIONATTRS: "primary" }) },
  { name: "PGTARGETSESSIONATTRS=read-only with the primary first", conninfo: () => `host=127.0.0.1,127.0.0.1 port=${P()},${S()} dbname=${DB} user=postgres`, env: () => ({ PGTARGETSESSIONATTRS: "read-only" }) },
  {
    name: "keepalives and tcp_user_timeout (psql shows nothing of them: resolved values compared)",
    conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres keepalives=1 keepalives_idle=11 keepalives_interval=3 keepalives_count=4 tcp_user_timeout=9000`,
    resolved: () => ({ keepalives: "1", keepalives_idle: "11", keepalives_interval: "3", keepalives_count: "4", tcp_user_timeout: "9000" }),
  },
  ...(["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const).flatMap((attrs): Case[] => [
    { name: `target_session_attrs=${attrs}, standby listed first`, conninfo: () => `postgresql://postgres@127.0.0.1:${S()},127.0.0.1:${P()}/${DB}?target_session_attrs=${attrs}` },
    { name: `target_session_attrs=${attrs}, primary listed first`, conninfo: () => `host=127.0.0.1,127.0.0.1 port=${P()},${S()} dbname=${DB} user=postgres target_session_attrs=${attrs}` },
  ]),
];

async function ours(conninfo: string | undefined, env: Record<string, string>): Promise<RunResult> {
  return runBinary(["validate", "--verbose", ...(conninfo === undefined ? [] : ["--url", conninfo])], { env, timeoutMs: 90_000 });
}

describe("what psql connects to, netraven-db connects to", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const env = { PGPASSWORD: pair.primary.password, PGSYSCONFDIR: root, HOME: root, ...c.env?.() };
      const conninfo = c.conninfo();
      const libpq = await psqlSession(conninfo ?? "", env);
      expect({ psql: libpq.status, stderr: libpq.stderr }).toEqual({ psql: 0, stderr: "" });
      const run = await ours(conninfo, env);
      const session = connectedSession(run);
      const fields = c.compare ?? BASE;
      const expected = Object.fromEntries(fields.map((f) => [f, libpq[f]]).filter(([, v]) => v !== undefined));
      const actual = Object.fromEntries(fields.map((f) => [f, session[f]]).filter(([, v]) => v !== undefined));
      expect(actual).toEqual(expected);
      if (!c.compare?.includes("application_name")) {
        expect(libpq.application_name).toBe("psql");
        expect(session.application_name).toBe("netraven-db");
      }
      if (c.resolved) expect(resolvedSettings(run)).toMatchObject(c.resolved());
    });
  }
});

describe("where psql fails, netraven-db fails", () => {
  const failing: Array<{ name: string; conninfo: () => string; env?: () => Record<string, string>; ours: RegExp }> = [
    {
      name: "every host read-only for read-write (a primary with default_transaction_read_only, and the standby)",
      conninfo: () => `host=127.0.0.1,127.0.0.1 port=${P()},${S()} dbname=${DB} user=postgres target_session_attrs=read-write options='-c default_transaction_read_only=on'`,
      ours: /no writable primary among postgres@127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/app: 127\.0\.0\.1:\d+ read-only, 127\.0\.0\.1:\d+ standby/,
    },
    {
      name: "a port list that does not match the hosts",
      conninfo: () => `host=127.0.0.1,127.0.0.1,127.0.0.1 port=${P()},${S()} dbname=${DB} user=postgres`,
      ours: /port lists 2 ports for 3 hosts/,
    },
    {
      name: "a service that is defined nowhere",
      conninfo: () => "service=nowhere",
      env: () => ({ PGSERVICEFILE: file("empty.conf", "[other]\nhost=x\n") }),
      ours: /definition of service "nowhere" not found/,
    },
    {
      name: "no password anywhere",
      conninfo: () => `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres`,
      env: () => ({ PGPASSWORD: "" }),
      ours: /no password supplied for user "postgres" at 127\.0\.0\.1:\d+; netraven-db looks in /,
    },
  ];
  for (const c of failing) {
    test(c.name, async () => {
      const env = { PGPASSWORD: pair.primary.password, PGSYSCONFDIR: root, HOME: root, ...c.env?.() };
      const libpq = await psqlSession(c.conninfo(), env);
      expect(libpq.status).not.toBe(0);
      const run = await ours(c.conninfo(), env);
      expect([2, 3]).toContain(run.status!);
      const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(c.ours);
    });
  }
});

describe("sslsni: the server name in the TLS ClientHello, seen by a proxy in front of the primary", () => {
  let proxy: Proxy;
  beforeAll(async () => {
    proxy = await startProxy({ host: "127.0.0.1", port: pair.primary.port });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  for (const [name, extra, expected] of [
    ["a host name is sent by default", "host=localhost", ["localhost"]],
    ["sslsni=0 sends none", "host=localhost sslsni=0", [""]],
    ["an IP address is never sent", "host=127.0.0.1", [""]],
    ["with hostaddr, the host name is sent", "host=localhost hostaddr=127.0.0.1", ["localhost"]],
  ] as const) {
    test(name, async () => {
      const conninfo = `${extra} port=${proxy.port} dbname=${DB} user=postgres sslmode=require`;
      const env = { PGPASSWORD: pair.primary.password, HOME: root };
      proxy.serverNames.splice(0);
      expect((await psqlSession(conninfo, env)).status).toBe(0);
      const psqlNames = proxy.serverNames.splice(0);
      const run = await runBinary(["validate", "--url", conninfo], { env });
      expect(run.status).toBe(0);
      expect({ psql: psqlNames, ours: proxy.serverNames.splice(0) }).toEqual({ psql: [...expected], ours: [...expected] });
    });
  }
});

describe("parameters psql 15 does not know, through the binary", () => {
  test("fallback_application_name names the session when application_name is not set", async () => {
    const run = await ours(`host=127.0.0.1 port=${P()} dbname=${DB} user=postgres fallback_application_name=fb-name`, { PGPASSWORD: pair.primary.password });
    expect(connectedSession(run).application_name).toBe("fb-name");
    const overridden = await ours(`host=127.0.0.1 port=${P()} dbname=${DB} user=postgres fallback_application_name=fb-name application_name=main`, { PGPASSWORD: pair.primary.password });
    expect(connectedSession(overridden).application_name).toBe("main");
  });

  test("client_encoding other than UTF8 is refused in one line before connecting (exit 3)", async () => {
    const run = await runBinary(["init", "--url", `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres client_encoding=LATIN1`], { env: { PGPASSWORD: pair.primary.password } });
    expect(run.status).toBe(3);
    expect(run.stderr.trim().split("\n").filter((l) => l.includes("error:"))).toEqual([
      "netraven-db: error: connection settings (--url): client_encoding=LATIN1 is not supported: netraven-db reads and writes UTF-8 only (backups are UTF-8 text); use UTF8 or leave it unset",
    ]);
  });

  test("a refused parameter from the environment names the variable (exit 3)", async () => {
    const run = await runBinary(["backup", "--dir", root, "--url", `host=127.0.0.1 port=${P()} dbname=${DB} user=postgres`], { env: { PGPASSWORD: pair.primary.password, PGGSSENCMODE: "require" } });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("error: PGGSSENCMODE: gssencmode=require is not supported: netraven-db has no GSSAPI/Kerberos support");
  });
});
