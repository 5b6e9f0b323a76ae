// Taking over databases the ORM created, and the migration mechanism.
import { describe, expect, test } from "bun:test";
import { runBinary } from "../harness/binary.ts";
import { catalogSnapshot } from "../harness/catalog.ts";
import { createTestDatabase, client, testServer } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { legacyRoleUrl, loadLegacySchema } from "../harness/legacy.ts";
import { connect } from "../../src/connection/connect.ts";
import { resolveConnection } from "../../src/connection/settings.ts";
import { runInit } from "../../src/init/run.ts";
import type { Migration } from "../../src/schema/migrations.ts";

async function legacyDatabase() {
  const db = await createTestDatabase();
  const url = legacyRoleUrl(testServer().url(db.name), db.name);
  loadLegacySchema(url);
  const sql = client(url);
  return { db, url, env: { DATABASE_URL: url }, sql };
}

describe("adopting an ORM-created database", () => {
  test("init keeps every row, records the baseline, persists the search_path; validate is then clean", async () => {
    const legacy = await legacyDatabase();
    await fillRealisticData(legacy.sql, { devices: 300 });
    const before = await tableChecksums(legacy.sql);

    const run = await runBinary(["init", "--json"], { env: legacy.env });
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.action).toBe("adopted");
    expect(doc.repaired.map((r: any) => r.kind).sort()).toEqual(["SEARCH_PATH_NOT_PERSISTENT", "VERSION_TABLE_MISSING"]);

    // Every row that was there is still there, unchanged; init only added its seed rows.
    const { netraven_db_version: _version, ...unchanged } = await tableChecksums(legacy.sql, "netraven", { tags: "id <> 'tag-default'", admin_settings: "false" });
    expect(unchanged).toEqual(before);
    const [seeded] = await legacy.sql`select (select count(*)::int from netraven.admin_settings) as settings, (select count(*)::int from netraven.tags where id = 'tag-default') as tag`;
    expect(seeded).toEqual({ settings: 22, tag: 1 });
    const versions = await legacy.sql`select version, kind from netraven.netraven_db_version`;
    expect([...versions]).toEqual([{ version: 1, kind: "baseline" }]);

    const validate = await runBinary(["validate"], { env: legacy.env });
    expect(validate.stdout.trim()).toBe("Schema matches definitions (13 tables checked).");
    expect((await runBinary(["init"], { env: legacy.env })).stderr).toContain("up to date");
  });

  test("a drifted legacy database makes init stop with the drift report and change nothing", async () => {
    const legacy = await legacyDatabase();
    await legacy.sql.unsafe(`alter table netraven.devices alter column hostname type text; alter table netraven.users add column nickname text`);
    await fillRealisticData(legacy.sql, { devices: 50 });
    const catalogBefore = await catalogSnapshot(legacy.sql);
    const rowsBefore = await tableChecksums(legacy.sql);
    const run = await runBinary(["init"], { env: legacy.env });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("COLUMN_TYPE_CHANGED: column devices.hostname: type varchar(255) expected, found text");
    expect(run.stderr).toContain("nothing was changed");
    expect(await catalogSnapshot(legacy.sql)).toEqual(catalogBefore);
    expect(await tableChecksums(legacy.sql)).toEqual(rowsBefore);
    const json = await runBinary(["init", "--json"], { env: legacy.env });
    const doc = JSON.parse(json.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe("DRIFT");
    expect(doc.differences.map((d: any) => d.kind)).toEqual(["COLUMN_TYPE_CHANGED"]);
  });

  test("safe differences are repaired in the same transaction and reported", async () => {
    const legacy = await legacyDatabase();
    await legacy.sql.unsafe(`drop index netraven.ix_backups_status; drop table netraven.audit_logs`);
    // audit_logs was only registered through an import side effect in the app: some databases never got it.
    const run = await runBinary(["init", "--json"], { env: legacy.env });
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.repaired.map((r: any) => r.kind)).toEqual(expect.arrayContaining(["INDEX_MISSING", "TABLE_MISSING"]));
    expect((await runBinary(["validate"], { env: legacy.env })).status).toBe(0);
  });

  test("a database at a newer schema version is refused (exit 9), never downgraded", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await db.sql`insert into netraven.netraven_db_version (version, description, kind, tool_version) values (99, 'from the future', 'migrate', '9.9.9')`;
    const run = await runBinary(["init"], { env: db.env });
    expect(run.status).toBe(9);
    expect(run.stderr).toContain("version 99, newer than this netraven-db knows (1)");
  });
});

describe("migrations", () => {
  // The binary ships no migration yet, so the mechanism is exercised through the library with a test step.
  const addColor: Migration = {
    version: 2,
    description: "test: index tags by color",
    statements: (schema) => [{ object: "index ix_tags_color", sql: `CREATE INDEX ix_tags_color ON "${schema}".tags (color)` }],
  };

  test("pending steps run in order, once, each recorded; --dry-run only shows them", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    const settings = resolveConnection({ url: db.url }, {});
    const connection = await connect(settings, { attempts: 1, intervalMs: 100, maxIntervalMs: 100, explicit: false }, { needs: "primary" });
    try {
      const dry = await runInit(connection, { schema: "netraven", lockTimeoutMs: 5000, dryRun: true, migrations: [addColor] });
      expect(dry.statements.map((s) => s.object)).toEqual(["index ix_tags_color", "schema version 2 (migrate)"]);
      const [{ n: none }] = (await db.sql`select count(*)::int as n from pg_indexes where indexname = 'ix_tags_color'`) as any;
      expect(none).toBe(0);

      const applied = await runInit(connection, { schema: "netraven", lockTimeoutMs: 5000, dryRun: false, migrations: [addColor] });
      expect(applied.action).toBe("migrated");
      expect(applied.previousVersion).toBe(1);
      const versions = await db.sql`select version, kind from netraven.netraven_db_version order by version`;
      expect([...versions]).toEqual([
        { version: 1, kind: "create" },
        { version: 2, kind: "migrate" },
      ]);
      const again = await runInit(connection, { schema: "netraven", lockTimeoutMs: 5000, dryRun: false, migrations: [addColor] });
      expect(again.action).toBe("up-to-date");
    } finally {
      await connection.close();
    }
    // The real binary knows only version 1 and now refuses the newer database.
    expect((await runBinary(["init"], { env: db.env })).status).toBe(9);
  });
});
