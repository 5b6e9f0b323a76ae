// `netraven-db init` through the compiled binary, run from an empty directory, against a real PostgreSQL.
import { describe, expect, test } from "bun:test";
import { runBinary } from "../harness/binary.ts";
import { catalogSnapshot, withoutVersionTable } from "../harness/catalog.ts";
import { createTestDatabase, client, psql, testServer } from "../harness/db.ts";
import { loadLegacySchema } from "../harness/legacy.ts";

function expectNoSecret(output: string) {
  expect(output).not.toContain(testServer().password);
}

describe("init on an empty database", () => {
  test("creates exactly the reference schema: the same catalog as the ORM's DDL", async () => {
    const ours = await createTestDatabase();
    const run = await runBinary(["init"], { env: ours.env });
    expect(run.stderr).toContain("Created schema \"netraven\"");
    expect(run.status).toBe(0);
    expectNoSecret(run.stdout + run.stderr);

    const reference = await createTestDatabase();
    loadLegacySchema(reference.url);

    const mine = await catalogSnapshot(ours.sql);
    const theirs = await catalogSnapshot(reference.sql);
    expect(withoutVersionTable(mine)).toEqual(theirs);
    expect(mine.tables).toContain("netraven_db_version");
  });

  test("matches the counts of netraven-schema.md", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    const app = (await db.sql<{ n: number }[]>`select count(*)::int as n from information_schema.tables where table_schema = 'netraven' and table_name <> 'netraven_db_version'`)[0]!.n;
    const columns = await db.sql<{ data_type: string; n: number }[]>`
      select data_type, count(*)::int as n from information_schema.columns
      where table_schema = 'netraven' and table_name <> 'netraven_db_version' group by 1 order by 1`;
    const byType = Object.fromEntries(columns.map((r) => [r.data_type, r.n]));
    const fks = await db.sql<{ delete_rule: string; n: number }[]>`
      select delete_rule, count(*)::int as n from information_schema.referential_constraints where constraint_schema = 'netraven' group by 1`;
    const indexes = await db.sql<{ unique: boolean; composite: boolean }[]>`
      select i.indisunique as unique, i.indnatts > 1 as composite from pg_index i join pg_class c on c.oid = i.indexrelid
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'netraven' and not i.indisprimary`;
    const defaults = (await db.sql<{ n: number }[]>`select count(*)::int as n from information_schema.columns where table_schema = 'netraven' and table_name <> 'netraven_db_version' and column_default is not null`)[0]!.n;

    expect(app).toBe(13);
    expect(columns.reduce((n, r) => n + r.n, 0)).toBe(140);
    expect(byType.uuid).toBe(2);
    expect(byType.json).toBe(4);
    expect(byType.jsonb).toBe(2);
    expect(byType["timestamp without time zone"]).toBe(32);
    expect(byType["double precision"]).toBe(1);
    expect(Object.fromEntries(fks.map((r) => [r.delete_rule, r.n]))).toEqual({ CASCADE: 5, "NO ACTION": 7 });
    expect(indexes.length).toBe(31);
    expect(indexes.filter((i) => i.unique).length).toBe(4);
    expect(indexes.filter((i) => i.composite).length).toBe(3);
    expect(defaults).toBe(0);
  });

  test("installs the extensions, seeds default rows and records the version", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    const extensions = await db.sql<{ extname: string; schema: string }[]>`select extname, extnamespace::regnamespace::text as schema from pg_extension where extname in ('uuid-ossp', 'pgcrypto') order by 1`;
    expect([...extensions]).toEqual([
      { extname: "pgcrypto", schema: "public" },
      { extname: "uuid-ossp", schema: "public" },
    ]);
    const settings = await db.sql`select key, value, value_type, category, is_required, is_sensitive from netraven.admin_settings order by key`;
    expect(settings.length).toBe(22);
    expect(settings.filter((s) => s.is_sensitive).map((s) => s.key)).toEqual(["notification.email.smtp_password", "notification.email.smtp_username"]);
    expect(settings.filter((s) => s.is_required).length).toBe(20);
    expect(settings.find((s) => s.key === "security.password_policy.min_length")!.value).toBe(8);
    expect(settings.find((s) => s.key === "system.general.application_name")!.value).toBe("NetRaven");
    const [tag] = await db.sql`select id, name, color from netraven.tags`;
    expect(tag).toEqual({ id: "tag-default", name: "Default", color: "#6366F1" });
    const versions = await db.sql`select version, kind from netraven.netraven_db_version`;
    expect([...versions]).toEqual([{ version: 1, kind: "create" }]);
    expect((await db.sql`select count(*)::int as n from netraven.users`)[0]!.n).toBe(0); // no built-in admin password, ever
  });

  test("makes the search_path persistent: a new session as any role finds the tables", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    const fresh = client(db.url);
    const [row] = await fresh`select current_schema() as schema, current_setting('search_path') as path`;
    await fresh.end();
    expect(row!.schema).toBe("netraven");
    const out = psql(db.url, ["-At", "-c", "select count(*) from admin_settings"]);
    expect(out.trim()).toBe("22");
  });
});

describe("init on an initialised database", () => {
  test("second run changes nothing: no DDL, no rows, one line", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await db.sql.unsafe(`
      create table public.ddl_log (tag text, at timestamptz default now());
      create function public.log_ddl() returns event_trigger language plpgsql as $$ begin insert into public.ddl_log(tag) values (tg_tag); end $$;
      create event trigger log_ddl on ddl_command_start execute function public.log_ddl();`);
    // On a connection of its own that then ends: a backend reports its row counts to the statistics when it exits,
    // while a pooled one may report them only seconds later, after rowsBefore was read.
    const once = client(db.url, { max: 1 });
    await once`update netraven.admin_settings set value = '12' where key = 'security.password_policy.min_length'`;
    await once.end();
    const before = await catalogSnapshot(db.sql);
    const [{ n: rowsBefore }] = (await db.sql`select sum(n_tup_ins + n_tup_upd + n_tup_del)::int as n from pg_stat_user_tables where schemaname = 'netraven'`) as any;

    const second = await runBinary(["init"], { env: db.env });
    expect(second.status).toBe(0);
    expect(second.stderr.trim().split("\n")).toHaveLength(1);
    expect(second.stderr).toContain("up to date");

    expect([...(await db.sql`select tag from public.ddl_log`)]).toEqual([]);
    expect(await catalogSnapshot(db.sql)).toEqual(before);
    const [setting] = await db.sql`select value from netraven.admin_settings where key = 'security.password_policy.min_length'`;
    expect(setting!.value).toBe(12); // an admin's change survives
    await Bun.sleep(600); // statistics are flushed asynchronously
    const [{ n: rowsAfter }] = (await db.sql`select sum(n_tup_ins + n_tup_upd + n_tup_del)::int as n from pg_stat_user_tables where schemaname = 'netraven'`) as any;
    expect(rowsAfter).toBe(rowsBefore);
  });

  test("--json reports the action; --dry-run prints SQL and changes nothing", async () => {
    const db = await createTestDatabase();
    const dry = await runBinary(["init", "--dry-run"], { env: db.env });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('CREATE TABLE "netraven"."users"');
    expect(dry.stdout).toContain('CREATE UNIQUE INDEX "ix_users_email"');
    const [{ n }] = (await db.sql`select count(*)::int as n from pg_namespace where nspname = 'netraven'`) as any;
    expect(n).toBe(0);

    const first = await runBinary(["init", "--json"], { env: db.env });
    expect(first.status).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(doc).toMatchObject({ ok: true, action: "created", schema: "netraven", schema_version: 1, seeded: { settings: 22, tags: 1, admin: false } });
    const again = JSON.parse((await runBinary(["init", "--json"], { env: db.env })).stdout);
    expect(again).toMatchObject({ ok: true, action: "up-to-date", statements: [] });
  });

  test("the fast path notices each missing piece: init repairs exactly it, and the run after is up to date", async () => {
    const db = await createTestDatabase();
    const init = async (env: Record<string, string> = {}) => {
      const run = await runBinary(["init", "--json"], { env: { ...db.env, ...env } });
      expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status: 0 });
      return JSON.parse(run.stdout) as { action: string; repaired: Array<{ kind: string; object: string }>; seeded: { settings: number; tags: number; admin: boolean } };
    };
    expect((await init()).action).toBe("created");
    const losses: Array<{ what: string; sql: string; action: string; detail: (doc: Awaited<ReturnType<typeof init>>) => unknown; expected: unknown }> = [
      { what: "an index", sql: "drop index netraven.ix_tags_name", action: "repaired", detail: (d) => d.repaired.map((r) => r.kind), expected: ["INDEX_MISSING"] },
      { what: "a table", sql: "drop table netraven.audit_logs", action: "repaired", detail: (d) => d.repaired.map((r) => r.kind), expected: ["TABLE_MISSING"] },
      { what: "an extension", sql: "drop extension pgcrypto", action: "repaired", detail: (d) => d.repaired.map((r) => r.kind), expected: ["EXTENSION_MISSING"] },
      { what: "the persistent search_path", sql: `alter database "${db.name}" reset search_path`, action: "repaired", detail: (d) => d.repaired.map((r) => r.kind), expected: ["SEARCH_PATH_CHANGED"] },
      { what: "a setting row", sql: "delete from netraven.admin_settings where key = 'system.backup.enabled'", action: "seeded", detail: (d) => d.seeded, expected: { settings: 1, tags: 0, admin: false } },
      { what: "the Default tag", sql: "delete from netraven.tags where name = 'Default'", action: "seeded", detail: (d) => d.seeded, expected: { settings: 0, tags: 1, admin: false } },
    ];
    for (const loss of losses) {
      await db.sql.unsafe(loss.sql);
      const doc = await init();
      expect({ what: loss.what, action: doc.action, detail: loss.detail(doc) }).toEqual({ what: loss.what, action: loss.action, detail: loss.expected });
      expect({ what: loss.what, after: (await init()).action }).toEqual({ what: loss.what, after: "up-to-date" });
    }
    // The users table is read only when an admin password is given: then a missing admin is created, once.
    const withPassword = { NETRAVEN_DB_ADMIN_PASSWORD: "s3cret-Admin-pass" };
    expect((await init(withPassword)).seeded.admin).toBe(true);
    expect((await init(withPassword)).action).toBe("up-to-date");
    expect((await init()).action).toBe("up-to-date");
  });

  test("creates the admin user only from NETRAVEN_DB_ADMIN_PASSWORD(_FILE), bcrypt-hashed", async () => {
    const db = await createTestDatabase();
    const password = "s3cret-Admin-pass";
    const run = await runBinary(["init"], { env: { ...db.env, NETRAVEN_DB_ADMIN_PASSWORD: password } });
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(password);
    const [admin] = await db.sql`select username, email, is_admin, is_active, password_hash, notification_preferences from netraven.users`;
    expect(admin).toMatchObject({ username: "admin", email: "admin@netraven.local", is_admin: true, is_active: true });
    expect(admin!.password_hash).toMatch(/^\$2[ab]\$12\$/);
    expect(await Bun.password.verify(password, admin!.password_hash)).toBe(true);
    expect(admin!.notification_preferences).toEqual({ email_notifications: true, email_on_job_completion: true, email_on_job_failure: true, notification_frequency: "immediate" });
  });
});

describe("init fails safely", () => {
  test("a conflicting object half-way leaves the database exactly as it was", async () => {
    const db = await createTestDatabase();
    // A view where a table must go: the CREATE TABLE for job_logs fails after several tables were created.
    await db.sql.unsafe(`create schema netraven; create view netraven.job_logs as select 1 as id`);
    const run = await runBinary(["init"], { env: db.env });
    expect(run.status).toBe(7);
    expect(run.stderr).toMatch(/error: .*"job_logs" already exists/);
    const tables = await db.sql`select table_name from information_schema.tables where table_schema = 'netraven' and table_type = 'BASE TABLE'`;
    expect([...tables]).toEqual([]);
    const extensions = await db.sql`select extname from pg_extension where extname in ('uuid-ossp', 'pgcrypto')`;
    expect([...extensions]).toEqual([]);
    const settings = await db.sql`select setconfig from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = current_database())`;
    expect([...settings]).toEqual([]);
  });

  test("unknown flags and bad values are usage errors (exit 3), one line", async () => {
    const db = await createTestDatabase();
    const unknown = await runBinary(["init", "--frobnicate"], { env: db.env });
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toContain("unknown option --frobnicate");
    const badRetry = await runBinary(["init", "--retry", "abc"], { env: db.env });
    expect(badRetry.status).toBe(3);
    expect(badRetry.stderr.split("\n")[0]).toContain("--retry");
    const noSettings = await runBinary(["init"], { env: {} });
    expect(noSettings.status).toBe(3);
    expect(noSettings.stderr).toContain("no database connection settings");
  });
});
