// Auth and permissions, proven through the compiled binary against a real PostgreSQL with real roles:
//   - a wrong password, an unknown role or an unknown database fails at once (exit 5, one line, no retry);
//   - a role without CREATE on the database (and not its owner) cannot init: exit 5, one line naming the missing
//     privilege, and nothing changed (no schema, no extension, no database or role setting);
//   - a role that cannot read the tables cannot back up: exit 5, and no file (final, partial or manifest) is left;
//   - validate works for a read-only role (SELECT everywhere, or even default_transaction_read_only), and a role
//     without the TEMPORARY privilege gets exit 2 and one line saying that privilege is needed.
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { catalogSnapshot } from "../harness/catalog.ts";
import { adminSql, createTestDatabase, testServer, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData } from "../harness/data.ts";
import { tempDir } from "../harness/cleanup.ts";

const rand = () => Math.random().toString(36).slice(2, 8);
const roles: string[] = [];
const databases: TestDatabase[] = [];

/** A login role of its own; returns the URL that connects as it to `database`. */
async function role(database: string, name = `nr_perm_${rand()}`): Promise<{ name: string; url: string; env: Record<string, string> }> {
  const password = `pw-${rand()}-${rand()}`;
  await adminSql().unsafe(`create role ${name} login password '${password}'`);
  roles.push(name);
  const server = testServer();
  const url = `postgresql://${name}:${password}@${server.host.startsWith("/") ? "127.0.0.1" : server.host}:${server.port}/${encodeURIComponent(database)}`;
  return { name, url, env: { DATABASE_URL: url } };
}

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase("nrperm");
  databases.push(db);
  return db;
}

afterAll(async () => {
  // Roles hold privileges in the test databases: drop those first, then the roles.
  for (const db of databases) {
    await db.sql.end({ timeout: 1 });
    await adminSql().unsafe(`drop database if exists "${db.name}" with (force)`);
  }
  for (const name of roles) await adminSql().unsafe(`drop role if exists ${name}`).catch(() => undefined);
});

function oneErrorLine(run: RunResult): string {
  const errors = run.stderr.split("\n").filter((l) => l.startsWith("netraven-db: error:"));
  expect({ stderr: run.stderr, errors: errors.length }).toEqual({ stderr: run.stderr, errors: 1 });
  expect(run.stderr).not.toContain("    at ");
  expect(run.stderr).not.toContain("Waiting for PostgreSQL");
  return errors[0]!;
}

/** Everything init could change at database level: schemas, relations, extensions, database and role settings. */
async function databaseState(db: TestDatabase): Promise<unknown> {
  const schemas = await db.sql`select nspname from pg_namespace where nspname not like 'pg_%' and nspname <> 'information_schema' order by 1`;
  const relations = await db.sql`select n.nspname || '.' || c.relname as r from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%' order by 1`;
  const extensions = await db.sql`select extname from pg_extension order by 1`;
  const settings = await adminSql()`select coalesce(s.setrole::regrole::text, '-') || ' ' || array_to_string(s.setconfig, ',') as s from pg_db_role_setting s
    where s.setdatabase = (select oid from pg_database where datname = ${db.name}) or s.setdatabase = 0 and s.setrole::regrole::text like 'nr_perm_%' order by 1`;
  return { schemas: schemas.map((r) => r.nspname), relations: relations.map((r) => r.r), extensions: extensions.map((r) => r.extname), settings: settings.map((r) => r.s) };
}

// ---- authentication ------------------------------------------------------------------------------------------------

describe("authentication failures are final: exit 5 at once, one line, no retry", () => {
  test("wrong password, unknown role, unknown database", async () => {
    const db = await database();
    const r = await role(db.name);
    const server = testServer();
    const host = server.host.startsWith("/") ? "127.0.0.1" : server.host;
    const cases: Array<[string, string, RegExp]> = [
      ["wrong password", r.url.replace(/:pw-[^@]+@/, ":not-the-password@"), /password authentication failed for user "nr_perm_/],
      ["unknown role", `postgresql://nobody_${rand()}:pw@${host}:${server.port}/${db.name}`, /password authentication failed|the server refused user/],
      ["unknown database", r.url.replace(db.name, `missing_${rand()}`), /database "missing_\w+" does not exist/],
    ];
    for (const [name, url, pattern] of cases) {
      for (const command of [["init"], ["backup", "--dir", tempDir("perm")]]) {
        const run = await runBinary([...command, "--retry", "5", "--retry-interval", "5"], { env: { DATABASE_URL: url } });
        expect({ name, line: oneErrorLine(run) }).toEqual({ name, line: expect.stringMatching(pattern) });
        expect({ name, status: run.status }).toEqual({ name, status: 5 });
        // No retry: every retry logs "Waiting for PostgreSQL ... (attempt N/5)" before it sleeps, and oneErrorLine
        // refuses that line. (Not a timing check: on a busy machine even one attempt can take a while.)
        expect({ name, attempts: run.stderr.match(/attempt \d+\/5/g) ?? [] }).toEqual({ name, attempts: [] });
      }
      const validate = await runBinary(["validate", "--retry", "5", "--retry-interval", "5", "--json"], { env: { DATABASE_URL: url } });
      expect(JSON.parse(validate.stdout).error.code).toMatch(/^(AUTH_FAILED|DATABASE_NOT_FOUND)$/);
      expect(validate.status).toBe(2);
    }
  });

  test("a role without CONNECT on the database: exit 5, permission denied", async () => {
    const db = await database();
    const r = await role(db.name);
    await db.sql.unsafe(`revoke connect on database "${db.name}" from public`);
    const run = await runBinary(["init", "--retry", "5", "--retry-interval", "5"], { env: r.env });
    expect(oneErrorLine(run)).toMatch(/permission denied connecting to nr_perm_\w+@.*: permission denied for database/);
    expect(run.status).toBe(5);
    expect(run.stderr).not.toContain("Waiting for PostgreSQL"); // no retry
  });
});

// ---- init without the privileges it needs ------------------------------------------------------------------------------

describe("init by a role without CREATE on the database (not the owner) fails clearly and changes nothing", () => {
  const scenarios: Array<{ name: string; prepare(db: TestDatabase, role: string): Promise<void>; message: RegExp; hint?: string }> = [
    {
      name: "an empty database",
      prepare: async () => undefined,
      message: /permission denied to create extension "uuid-ossp"/,
      hint: "netraven-db: hint: Must have CREATE privilege on current database to create this extension.",
    },
    {
      name: "extensions already installed by the owner",
      prepare: async (db) => {
        await db.sql.unsafe(`create extension if not exists "uuid-ossp" with schema public; create extension if not exists pgcrypto with schema public`);
      },
      message: /permission denied for database/,
    },
    {
      name: "the schema exists but the role may only use it",
      prepare: async (db, role) => {
        await db.sql.unsafe(`create extension if not exists "uuid-ossp" with schema public; create extension if not exists pgcrypto with schema public;
          create schema netraven; grant usage on schema netraven to ${role}`);
      },
      // CREATE SCHEMA IF NOT EXISTS checks CREATE on the database before it looks for the schema.
      message: /permission denied for database/,
    },
  ];
  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      const db = await database();
      const r = await role(db.name);
      await scenario.prepare(db, r.name);
      const before = await databaseState(db);
      for (const json of [false, true]) {
        const run = await runBinary(["init", "--retry", "3", ...(json ? ["--json"] : [])], { env: { ...r.env, NETRAVEN_DB_ADMIN_PASSWORD: "admin-pw-123" } });
        const line = oneErrorLine(run);
        expect(line).toStartWith("netraven-db: error: initialise the schema: permission denied: ");
        expect(line).toMatch(scenario.message);
        if (scenario.hint) expect(run.stderr).toContain(scenario.hint);
        expect(run.status).toBe(5);
        if (json) {
          const doc = JSON.parse(run.stdout);
          expect(doc.error.code).toBe("PERMISSION_DENIED");
          expect(doc.error.exit_status).toBe(5);
        }
        expect(await databaseState(db)).toEqual(before);
      }
      // The dry run needs no privilege and writes nothing either.
      const dry = await runBinary(["init", "--dry-run"], { env: r.env });
      expect(dry.status).toBe(0);
      expect(await databaseState(db)).toEqual(before);
      // With the privileges the README names (CREATE on the database and the schema), the same role succeeds.
      await db.sql.unsafe(`grant create on database "${db.name}" to ${r.name}`);
      if (scenario.name.startsWith("the schema exists")) await db.sql.unsafe(`grant create on schema netraven to ${r.name}`);
      const granted = await runBinary(["init"], { env: r.env });
      expect(granted.stderr).not.toContain("error");
      expect(granted.status).toBe(0);
      expect((await runBinary(["validate"], { env: r.env })).status).toBe(0);
    });
  }

  test("restore by such a role is refused the same way and leaves the data alone", async () => {
    const db = await database();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await fillRealisticData(db.sql, { devices: 30 });
    const dir = tempDir("perm");
    const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: db.env });
    const file = JSON.parse(backup.stdout).path;
    const target = await database();
    const r = await role(target.name);
    const before = await databaseState(target);
    const run = await runBinary(["restore", file, "--yes"], { env: r.env });
    expect(oneErrorLine(run)).toMatch(/permission denied/);
    expect(run.status).toBe(5);
    expect(await databaseState(target)).toEqual(before);
  });

  test("restore --target-db by a role without CREATEDB: exit 5 (a privilege, like every other), CREATEDB named", async () => {
    const db = await database();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await fillRealisticData(db.sql, { devices: 10 });
    const dir = tempDir("perm");
    const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: db.env });
    const file = JSON.parse(backup.stdout).path;
    const r = await role(db.name);
    const wanted = `nrperm_new_${rand()}`;
    const run = await runBinary(["restore", file, "--target-db", wanted, "--yes"], { env: r.env });
    expect(oneErrorLine(run)).toMatch(new RegExp(`cannot create database "${wanted}": permission denied`));
    expect(run.stderr).toContain("CREATEDB");
    expect(run.status).toBe(5);
    const [exists] = await adminSql()`select count(*)::int as n from pg_database where datname = ${wanted}`;
    expect(exists!.n).toBe(0);
  });
});

// ---- backup without read access -----------------------------------------------------------------------------------

describe("backup by a role that cannot read the tables: exit 5 and no file left", () => {
  let db: TestDatabase;
  const prepared = (async () => {
    db = await database();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await fillRealisticData(db.sql, { devices: 300 });
  })();

  const scenarios: Array<{ name: string; grant(role: string): string; message: RegExp }> = [
    { name: "no USAGE on the schema", grant: () => "select 1", message: /permission denied for schema netraven/ },
    { name: "USAGE but no SELECT", grant: (r) => `grant usage on schema netraven to ${r}`, message: /permission denied for table/ },
    {
      // Fails only after several tables went into the file: the partial file must go too.
      name: "SELECT on every table but credentials (fails mid-file)",
      grant: (r) => `grant usage on schema netraven to ${r}; grant select on all tables in schema netraven to ${r}; revoke select on netraven.credentials from ${r}`,
      message: /permission denied for table credentials/,
    },
  ];
  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      await prepared;
      const r = await role(db.name);
      await db.sql.unsafe(scenario.grant(r.name));
      for (const json of [false, true]) {
        const dir = tempDir("perm");
        const run = await runBinary(["backup", "--dir", dir, "--compress", "none", ...(json ? ["--json"] : [])], { env: r.env });
        const line = oneErrorLine(run);
        expect(line).toMatch(/permission denied/);
        expect(line).toMatch(scenario.message);
        expect(run.status).toBe(5);
        if (json) expect(JSON.parse(run.stdout).error.code).toBe("PERMISSION_DENIED");
        expect(readdirSync(dir)).toEqual([]);
      }
    });
  }
});

// ---- validate with least privilege ----------------------------------------------------------------------------------

describe("validate as a read-only role", () => {
  async function readOnly(extra: (role: string, db: TestDatabase) => string) {
    const db = await database();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await fillRealisticData(db.sql, { devices: 20 });
    const r = await role(db.name);
    await db.sql.unsafe(`grant usage on schema netraven to ${r.name}; grant select on all tables in schema netraven to ${r.name}; ${extra(r.name, db)}`);
    return { db, r };
  }

  test("SELECT on everything (and TEMPORARY, as PUBLIC has by default): clean, and nothing is left behind", async () => {
    const { db, r } = await readOnly(() => "select 1");
    const before = await catalogSnapshot(db.sql);
    const run = await runBinary(["validate", "--json"], { env: r.env });
    const doc = JSON.parse(run.stdout);
    expect(doc.differences).toEqual([]);
    expect(doc.schema_version).toBe(1);
    expect(run.status).toBe(0);
    expect(await catalogSnapshot(db.sql)).toEqual(before);
  });

  test("a role whose transactions are read-only by default (default_transaction_read_only) validates too", async () => {
    const { r } = await readOnly((role) => `alter role ${role} set default_transaction_read_only = on`);
    const run = await runBinary(["validate"], { env: r.env });
    expect(run.stdout.trim()).toBe("Schema matches definitions (13 tables checked).");
    expect(run.status).toBe(0);
  });

  test("SELECT on everything but no TEMPORARY privilege: exit 2, one line saying TEMPORARY is needed", async () => {
    const { db, r } = await readOnly((_role, d) => `revoke temporary on database "${d.name}" from public`);
    const before = await catalogSnapshot(db.sql);
    for (const json of [false, true]) {
      const run = await runBinary(["validate", ...(json ? ["--json"] : [])], { env: r.env });
      const line = oneErrorLine(run);
      expect(line).toBe(
        `netraven-db: error: role "${r.name}" lacks the TEMPORARY privilege on database "${db.name}": netraven-db compares the schema by creating the definitions as temporary tables`,
      );
      expect(run.stderr).toContain(`hint: GRANT TEMPORARY ON DATABASE "${db.name}" TO "${r.name}"`);
      expect(run.status).toBe(2);
      if (json) {
        const doc = JSON.parse(run.stdout);
        expect(doc.error.code).toBe("PERMISSION_DENIED");
        expect(doc.error.exit_status).toBe(2);
      }
    }
    expect(await catalogSnapshot(db.sql)).toEqual(before);
    // The hint is the whole fix.
    await db.sql.unsafe(`GRANT TEMPORARY ON DATABASE "${db.name}" TO "${r.name}"`);
    expect((await runBinary(["validate"], { env: r.env })).status).toBe(0);
  });
});
