// The table definitions (src/schema/*.ts) against netraven-schema.md, the `columns` parser and helpers in
// src/schema/define.ts, the foreign-key order in src/schema/index.ts and the DDL text from src/schema/render.ts.
// The SPEC_* tables below are transcribed from netraven-schema.md sections 1-4 (types spelled as we write them:
// TIMESTAMP WITHOUT TIME ZONE = timestamp, VARCHAR without length = varchar, FLOAT = double precision).
import { describe, expect, test } from "bun:test";
import { columns, index, references, table, uniqueIndex } from "../../src/schema/define.ts";
import { allTables, appTables, EXTENSIONS, tablesInCreateOrder, versionTable, type TableDef } from "../../src/schema/index.ts";
import {
  renderBootstrap,
  renderComments,
  renderCreateTable,
  renderForeignKeys,
  renderIndex,
  renderPrimaryKey,
  renderRoleSearchPath,
  renderSearchPath,
  renderTables,
  renderTablesForLoad,
} from "../../src/schema/render.ts";

describe("columns``.parse()", () => {
  test("one column per line: name, type, nullability", () => {
    expect(columns`
      id     varchar(36)  not null
      note   text
    `.parse()).toEqual([
      { name: "id", type: "varchar(36)", notNull: true },
      { name: "note", type: "text", notNull: false },
    ]);
  });

  test("every supported type, including the two-word double precision and varchar without length", () => {
    const parsed = columns`
      a varchar
      b varchar(255)
      c text
      d boolean
      e integer
      f bigint
      g double precision
      h timestamp
      i timestamptz
      j json
      k jsonb
      l uuid
    `.parse();
    expect(parsed.map((c) => c.type)).toEqual(["varchar", "varchar(255)", "text", "boolean", "integer", "bigint", "double precision", "timestamp", "timestamptz", "json", "jsonb", "uuid"]);
  });

  test("types and NOT NULL in any case; types are stored lower-case", () => {
    expect(columns`x VARCHAR(10) NOT NULL`.parse()).toEqual([{ name: "x", type: "varchar(10)", notNull: true }]);
    expect(columns`x Double   Precision Not Null`.parse()).toEqual([{ name: "x", type: "double precision", notNull: true }]);
  });

  test("a default expression, with or without not null", () => {
    expect(columns`at timestamptz not null default now()`.parse()).toEqual([{ name: "at", type: "timestamptz", notNull: true, default: "now()" }]);
    expect(columns`n integer default 0`.parse()).toEqual([{ name: "n", type: "integer", notNull: false, default: "0" }]);
  });

  test("-- starts a comment, which is trimmed; an empty comment is none", () => {
    expect(columns`
      kind  varchar  not null  -- Type of value (string, number)
      bare  text     --
      -- a line that is only a comment is not a column
    `.parse()).toEqual([
      { name: "kind", type: "varchar", notNull: true, comment: "Type of value (string, number)" },
      { name: "bare", type: "text", notNull: false },
    ]);
  });

  test("blank lines and extra whitespace are ignored", () => {
    expect(columns`

        a    integer

        b\ttext\t\tnot   null
    `.parse()).toEqual([
      { name: "a", type: "integer", notNull: false },
      { name: "b", type: "text", notNull: true },
    ]);
  });

  test("unknown types are refused with the column name", () => {
    expect(() => columns`x int`.parse()).toThrow('column x has unsupported type "int"');
    expect(() => columns`x varchar2(10)`.parse()).toThrow('unsupported type "varchar2(10)"');
    expect(() => columns`x timestamp with time zone`.parse()).toThrow('unsupported type "timestamp with time zone"');
    expect(() => columns`x varchar(abc)`.parse()).toThrow("unsupported type");
    expect(() => columns`x text null`.parse()).toThrow('unsupported type "text null"');
  });

  test("bad column names are refused", () => {
    expect(() => columns`Id text`.parse()).toThrow('bad column name "Id"');
    expect(() => columns`1st text`.parse()).toThrow('bad column name "1st"');
    expect(() => columns`my-col text`.parse()).toThrow('bad column name "my-col"');
    expect(() => columns`"quoted" text`.parse()).toThrow("bad column name");
  });

  test("a line without a type is refused", () => {
    expect(() => columns`lonely`.parse()).toThrow('"lonely" has no type');
    expect(() => columns`lonely not null`.parse()).toThrow("has no type");
  });

  test("interpolation is refused, even of a harmless value", () => {
    const type = "text";
    expect(() => columns`x ${type}`).toThrow("interpolation is not allowed");
  });
});

describe("definition helpers", () => {
  const cols = columns`
    id     varchar(36)  not null
    name   text
    owner  varchar(36)
  `;

  test("index() and uniqueIndex() name indexes ix_<table>_<columns> as SQLAlchemy does", () => {
    const t = table("things", { columns: cols, primaryKey: ["id"], indexes: [index("name"), index(["name", "owner"]), uniqueIndex("owner"), index("id", "custom")] });
    expect(t.indexes).toEqual([
      { name: "ix_things_name", columns: ["name"], unique: false },
      { name: "ix_things_name_owner", columns: ["name", "owner"], unique: false },
      { name: "ix_things_owner", columns: ["owner"], unique: true },
      { name: "custom", columns: ["id"], unique: false },
    ]);
  });

  test("references() points at id with NO ACTION unless told", () => {
    expect(references("owner", "users")).toEqual({ columns: ["owner"], references: { table: "users", columns: ["id"] }, onDelete: "no action" });
    expect(references("owner", "users", { onDelete: "cascade" }).onDelete).toBe("cascade");
  });

  test("a table's keys and indexes must name its columns: checked when the columns are first read", () => {
    expect(() => table("t", { columns: cols, primaryKey: ["nope"] }).columns).toThrow("table t: key or index names unknown column nope");
    expect(() => table("t", { columns: cols, primaryKey: ["id"], foreignKeys: [references("nope", "users")] }).columns).toThrow("unknown column nope");
    expect(() => table("t", { columns: cols, primaryKey: ["id"], indexes: [index(["name", "nope"])] }).columns).toThrow("unknown column nope");
  });

  test("a table refuses duplicate columns", () => {
    expect(() => table("t", { columns: columns`a text\na integer`, primaryKey: [] }).columns).toThrow("table t: duplicate column");
  });

  test("columns are parsed on first use, once", () => {
    const text = columns`id varchar(36) not null`;
    const t = table("t", { columns: text, primaryKey: ["id"] });
    expect(t.columns).toBe(t.columns);
    expect(t.columns).toBe(text.parse());
  });
});

// ---- netraven-schema.md ----------------------------------------------------------------------------------------

const SPEC_TABLE_ORDER = ["users", "devices", "backups", "tags", "device_tags", "tag_rules", "job_logs", "job_log_entries", "scheduled_jobs", "admin_settings", "audit_logs", "credentials", "credential_tags"];
const SPEC_COLUMN_COUNTS = [10, 17, 11, 6, 3, 8, 11, 10, 14, 11, 14, 14, 11];

// Section 2, one entry per column: "name type [not null]".
const SPEC_COLUMNS: Record<string, string[]> = {
  users: ["id varchar(36) not null", "username varchar(50) not null", "email varchar(100) not null", "full_name varchar(120)", "password_hash varchar(100) not null", "is_active boolean", "is_admin boolean", "created_at timestamp", "updated_at timestamp", "notification_preferences jsonb"],
  devices: ["id varchar(36) not null", "hostname varchar(255) not null", "ip_address varchar(45) not null", "device_type varchar(50) not null", "port integer", "username varchar(64)", "password varchar(128)", "description text", "last_backup_at timestamp", "last_backup_status varchar(20)", "enabled boolean", "created_at timestamp", "updated_at timestamp", "serial_number varchar(100)", "is_reachable boolean", "last_reachability_check timestamp", "owner_id varchar(36) not null"],
  backups: ["id varchar(36) not null", "version varchar(20) not null", "file_path varchar(512) not null", "file_size integer not null", "status varchar(20) not null", "comment text", "content_hash varchar(128)", "is_automatic boolean", "created_at timestamp", "serial_number varchar(50)", "device_id varchar(36) not null"],
  tags: ["id varchar(36) not null", "name varchar(50) not null", "description text", "color varchar(7)", "created_at timestamp", "updated_at timestamp"],
  device_tags: ["device_id varchar(36) not null", "tag_id varchar(36) not null", "created_at timestamp"],
  tag_rules: ["id varchar(36) not null", "name varchar(100) not null", "description text", "rule_criteria text not null", "is_active boolean", "created_at timestamp", "updated_at timestamp", "tag_id varchar(36) not null"],
  job_logs: ["id varchar(36) not null", "session_id varchar(36) not null", "job_type varchar(50) not null", "status varchar(20) not null", "start_time timestamp not null", "end_time timestamp", "result_message text", "job_data jsonb", "retention_days integer", "device_id varchar(36)", "created_by varchar(36) not null"],
  job_log_entries: ["id varchar(36) not null", "job_log_id varchar(36) not null", "timestamp timestamp not null", "level varchar(20) not null", "category varchar(50)", "message text not null", "details json", "session_log_path varchar(255)", "session_log_content text", "credential_username varchar(255)"],
  scheduled_jobs: ["id varchar(36) not null", "name varchar(255) not null", "device_id varchar(36) not null", "schedule_type varchar(50) not null", "schedule_time varchar(5)", "schedule_interval integer", "schedule_day varchar(10)", "enabled boolean", "created_at timestamp", "updated_at timestamp", "last_run timestamp", "next_run timestamp", "created_by varchar(36) not null", "job_data json"],
  admin_settings: ["id uuid not null", "key varchar not null", "value json", "value_type varchar not null", "category varchar not null", "description text", "is_required boolean", "is_sensitive boolean", "display_order integer", "created_at timestamp", "updated_at timestamp"],
  audit_logs: ["id uuid not null", "event_type varchar(32) not null", "event_name varchar(64) not null", "actor_id varchar(255)", "actor_type varchar(32)", "target_id varchar(255)", "target_type varchar(32)", "ip_address varchar(45)", "user_agent text", "session_id varchar(64)", "description text not null", "status varchar(16) not null", "event_metadata json", "created_at timestamp not null"],
  credentials: ["id varchar(36) not null", "name varchar(255) not null", "description text", "username varchar(255) not null", "password varchar(1024)", "use_keys boolean", "key_file varchar(1024)", "success_count integer", "failure_count integer", "last_used timestamp", "last_success timestamp", "last_failure timestamp", "created_at timestamp", "updated_at timestamp"],
  credential_tags: ["id varchar(36) not null", "credential_id varchar(36) not null", "tag_id varchar(36) not null", "priority double precision", "success_count integer", "failure_count integer", "last_used timestamp", "last_success timestamp", "last_failure timestamp", "created_at timestamp", "updated_at timestamp"],
};

// Section 3: child.column -> parent, ON DELETE.
const SPEC_FOREIGN_KEYS = [
  "devices.owner_id -> users no action",
  "backups.device_id -> devices no action",
  "device_tags.device_id -> devices cascade",
  "device_tags.tag_id -> tags cascade",
  "tag_rules.tag_id -> tags no action",
  "job_logs.device_id -> devices no action",
  "job_logs.created_by -> users no action",
  "job_log_entries.job_log_id -> job_logs cascade",
  "scheduled_jobs.device_id -> devices no action",
  "scheduled_jobs.created_by -> users no action",
  "credential_tags.credential_id -> credentials cascade",
  "credential_tags.tag_id -> tags cascade",
];

// Section 2's "Indexes:" lines: name (columns), U for unique.
const SPEC_INDEXES = [
  "ix_users_id (id)", "ix_users_username (username) U", "ix_users_email (email) U",
  "ix_devices_id (id)", "ix_devices_hostname (hostname)", "ix_devices_ip_address (ip_address)", "ix_devices_device_type (device_type)",
  "ix_backups_id (id)", "ix_backups_status (status)", "ix_backups_created_at (created_at)",
  "ix_tags_id (id)", "ix_tags_name (name) U",
  "ix_tag_rules_id (id)",
  "ix_job_logs_session_id (session_id)", "ix_job_logs_job_type (job_type)", "ix_job_logs_status (status)", "ix_job_logs_start_time (start_time)",
  "ix_job_log_entries_timestamp (timestamp)", "ix_job_log_entries_level (level)", "ix_job_log_entries_category (category)", "ix_job_log_entries_credential_username (credential_username)",
  "ix_scheduled_jobs_id (id)",
  "ix_admin_settings_id (id)", "ix_admin_settings_key (key) U", "ix_admin_settings_category (category)",
  "ix_audit_logs_event_type_name (event_type, event_name)", "ix_audit_logs_actor_target (actor_id, target_id)", "ix_audit_logs_status_created (status, created_at)",
  "ix_credentials_id (id)", "ix_credentials_name (name)",
  "ix_credential_tags_id (id)",
];

const byName = new Map(appTables.map((t) => [t.name, t]));
const allColumns = appTables.flatMap((t) => t.columns.map((c) => ({ table: t.name, ...c })));
const columnText = (c: { name: string; type: string; notNull: boolean }) => `${c.name} ${c.type}${c.notNull ? " not null" : ""}`;

describe("the definitions match netraven-schema.md", () => {
  test("13 app tables, in the document's order", () => {
    expect(appTables.map((t) => t.name)).toEqual(SPEC_TABLE_ORDER);
  });

  test("140 columns: 10+17+11+6+3+8+11+10+14+11+14+14+11", () => {
    expect(appTables.map((t) => t.columns.length)).toEqual(SPEC_COLUMN_COUNTS);
    expect(allColumns).toHaveLength(140);
  });

  test("every column's name, order, type and nullability", () => {
    for (const t of appTables) expect({ table: t.name, columns: t.columns.map(columnText) }).toEqual({ table: t.name, columns: SPEC_COLUMNS[t.name]! });
  });

  test("no server defaults (every default lived in Python)", () => {
    expect(allColumns.filter((c) => c.default !== undefined)).toEqual([]);
  });

  test("type mix: UUID 2, JSON 4, JSONB 2, timestamp 32, no timestamptz, 3 varchar without length, 1 double precision", () => {
    const where = (type: string) => allColumns.filter((c) => c.type === type).map((c) => `${c.table}.${c.name}`).sort();
    expect(where("uuid")).toEqual(["admin_settings.id", "audit_logs.id"]);
    expect(where("json")).toEqual(["admin_settings.value", "audit_logs.event_metadata", "job_log_entries.details", "scheduled_jobs.job_data"]);
    expect(where("jsonb")).toEqual(["job_logs.job_data", "users.notification_preferences"]);
    expect(where("timestamp")).toHaveLength(32);
    expect(where("timestamptz")).toEqual([]);
    expect(where("varchar")).toEqual(["admin_settings.category", "admin_settings.key", "admin_settings.value_type"]);
    expect(where("double precision")).toEqual(["credential_tags.priority"]);
  });

  test("13 primary keys; device_tags is the only composite one", () => {
    for (const t of appTables) expect({ table: t.name, pk: t.primaryKey }).toEqual({ table: t.name, pk: t.name === "device_tags" ? ["device_id", "tag_id"] : ["id"] });
  });

  test("12 foreign keys to parent ids, 5 of them ON DELETE CASCADE", () => {
    const fks = appTables.flatMap((t) => t.foreignKeys.map((fk) => ({ table: t.name, fk })));
    expect(fks.map(({ table: name, fk }) => `${name}.${fk.columns.join(",")} -> ${fk.references.table} ${fk.onDelete}`).sort()).toEqual([...SPEC_FOREIGN_KEYS].sort());
    expect(fks.filter(({ fk }) => fk.onDelete === "cascade")).toHaveLength(5);
    for (const { fk } of fks) expect(fk.references.columns).toEqual(["id"]);
  });

  test("31 indexes: 4 unique, 3 composite, named as the ORM named them", () => {
    const ixs = appTables.flatMap((t) => t.indexes);
    expect(ixs.map((ix) => `${ix.name} (${ix.columns.join(", ")})${ix.unique ? " U" : ""}`).sort()).toEqual([...SPEC_INDEXES].sort());
    expect(ixs).toHaveLength(31);
    expect(ixs.filter((ix) => ix.unique)).toHaveLength(4);
    expect(ixs.filter((ix) => ix.columns.length > 1).map((ix) => ix.name).sort()).toEqual(["ix_audit_logs_actor_target", "ix_audit_logs_event_type_name", "ix_audit_logs_status_created"]);
  });

  test("index names are unique across the schema (PostgreSQL requires it)", () => {
    const names = allTables.flatMap((t) => t.indexes.map((ix) => ix.name));
    expect(new Set(names).size).toBe(names.length);
  });

  test("15 column comments: value_type and category on admin_settings, every column but id on audit_logs", () => {
    const commented = allColumns.filter((c) => c.comment);
    expect(commented).toHaveLength(15);
    expect(commented.filter((c) => c.table === "admin_settings").map((c) => c.name)).toEqual(["value_type", "category"]);
    expect(commented.filter((c) => c.table === "audit_logs").map((c) => c.name)).toEqual(byName.get("audit_logs")!.columns.map((c) => c.name).filter((n) => n !== "id"));
  });

  test("allTables is the app tables plus netraven-db's own version table; extensions as in the old init-db.sql", () => {
    expect(allTables.map((t) => t.name)).toEqual([...SPEC_TABLE_ORDER, "netraven_db_version"]);
    expect(versionTable.primaryKey).toEqual(["version"]);
    expect([...EXTENSIONS].sort()).toEqual(["pgcrypto", "uuid-ossp"]);
  });
});

describe("tablesInCreateOrder", () => {
  const positions = (ordered: TableDef[]) => new Map(ordered.map((t, i) => [t.name, i]));

  test("every table once, each after every table its foreign keys point to", () => {
    const ordered = tablesInCreateOrder();
    expect(ordered.map((t) => t.name).sort()).toEqual(allTables.map((t) => t.name).sort());
    const at = positions(ordered);
    for (const t of ordered) {
      for (const fk of t.foreignKeys) expect({ child: t.name, parentFirst: at.get(fk.references.table)! < at.get(t.name)! }).toEqual({ child: t.name, parentFirst: true });
    }
  });

  test("works from any input order, e.g. reversed", () => {
    const ordered = tablesInCreateOrder([...allTables].reverse());
    const at = positions(ordered);
    for (const t of ordered) for (const fk of t.foreignKeys) expect(at.get(fk.references.table)!).toBeLessThan(at.get(t.name)!);
  });

  const c = columns`
    id      varchar(36)  not null
    other   varchar(36)
  `;

  test("a foreign-key cycle is refused", () => {
    const a = table("a", { columns: c, primaryKey: ["id"], foreignKeys: [references("other", "b")] });
    const b = table("b", { columns: c, primaryKey: ["id"], foreignKeys: [references("other", "a")] });
    expect(() => tablesInCreateOrder([a, b])).toThrow("foreign key cycle");
  });

  test("a reference to a table outside the list is refused", () => {
    const a = table("a", { columns: c, primaryKey: ["id"], foreignKeys: [references("other", "ghost")] });
    expect(() => tablesInCreateOrder([a])).toThrow("a references unknown table ghost");
  });

  test("a table may reference itself", () => {
    const tree = table("tree", { columns: c, primaryKey: ["id"], foreignKeys: [references("other", "tree")] });
    expect(tablesInCreateOrder([tree]).map((t) => t.name)).toEqual(["tree"]);
  });
});

describe("rendered DDL quotes every identifier", () => {
  const weird = 'we"ird schéma';
  const quoted = '"we""ird schéma"';
  /** After removing every correctly quoted occurrence, no trace of the name may remain. */
  const expectOnlyQuoted = (sql: string) => {
    expect(sql).toContain(quoted);
    expect(sql.split(quoted).join("")).not.toContain("schéma");
  };

  test("CREATE TABLE: schema and table quoted, column names quoted, keys inline", () => {
    const { sql, object } = renderCreateTable(byName.get("device_tags")!, weird);
    expect(object).toBe("table device_tags");
    expect(sql).toBe(
      [
        `CREATE TABLE ${quoted}."device_tags" (`,
        `  "device_id" varchar(36) NOT NULL,`,
        `  "tag_id" varchar(36) NOT NULL,`,
        `  "created_at" timestamp,`,
        `  PRIMARY KEY ("device_id", "tag_id"),`,
        `  FOREIGN KEY ("device_id") REFERENCES ${quoted}."devices" ("id") ON DELETE CASCADE,`,
        `  FOREIGN KEY ("tag_id") REFERENCES ${quoted}."tags" ("id") ON DELETE CASCADE`,
        `)`,
      ].join("\n"),
    );
  });

  test("NO ACTION foreign keys are written without an ON DELETE clause (PostgreSQL's default)", () => {
    const fks = renderForeignKeys(byName.get("devices")!, "netraven");
    expect(fks).toEqual([{ object: "foreign key devices.owner_id -> users", sql: 'ALTER TABLE "netraven"."devices" ADD FOREIGN KEY ("owner_id") REFERENCES "netraven"."users" ("id")' }]);
  });

  test("a default is written as DEFAULT", () => {
    expect(renderCreateTable(versionTable, "s").sql).toContain('"applied_at" timestamptz NOT NULL DEFAULT now()');
  });

  test("keys: false leaves primary and foreign keys out; temporary tables go to pg_temp", () => {
    const { sql } = renderCreateTable(byName.get("device_tags")!, weird, { keys: false, temporary: true });
    expect(sql.startsWith('CREATE TABLE pg_temp."device_tags" (')).toBe(true);
    expect(sql).not.toContain("PRIMARY KEY");
    expect(sql).not.toContain("FOREIGN KEY");
  });

  test("indexes, comments, primary keys", () => {
    const audit = byName.get("audit_logs")!;
    expect(renderIndex(audit, audit.indexes[0]!, weird).sql).toBe(`CREATE INDEX "ix_audit_logs_event_type_name" ON ${quoted}."audit_logs" ("event_type", "event_name")`);
    const users = byName.get("users")!;
    expect(renderIndex(users, users.indexes.find((ix) => ix.unique)!, "s").sql).toBe('CREATE UNIQUE INDEX "ix_users_username" ON "s"."users" ("username")');
    expect(renderPrimaryKey(users, weird)).toEqual([{ object: "primary key users_pkey", sql: `ALTER TABLE ${quoted}."users" ADD PRIMARY KEY ("id")` }]);
    const comments = renderComments(byName.get("admin_settings")!, weird);
    expect(comments[0]!.sql).toBe(`COMMENT ON COLUMN ${quoted}."admin_settings"."value_type" IS 'Type of value (string, number, boolean, json)'`);
  });

  test("a quote inside a comment is doubled in the literal", () => {
    const t = table("t", { columns: columns`x text -- it's here`, primaryKey: [] });
    expect(renderComments(t, "s")[0]!.sql).toBe(`COMMENT ON COLUMN "s"."t"."x" IS 'it''s here'`);
  });

  test("every statement of a full render uses only the quoted schema name", () => {
    const statements = [
      ...renderTables(weird),
      ...renderTablesForLoad(weird).before,
      ...renderTablesForLoad(weird).after,
      ...renderBootstrap(weird).filter((s) => s.object.startsWith("schema")),
      renderSearchPath(weird, weird),
      renderRoleSearchPath(weird, "db"),
    ];
    for (const s of statements) expectOnlyQuoted(s.sql);
  });

  test("an injection attempt stays one identifier", () => {
    const evil = 'x"; DROP TABLE users; --';
    const sql = renderCreateTable(byName.get("tags")!, evil).sql;
    expect(sql.startsWith('CREATE TABLE "x""; DROP TABLE users; --"."tags" (')).toBe(true);
  });

  test("bootstrap: the two extensions in public, then the schema", () => {
    const statements = renderBootstrap(weird);
    expect(statements.map((s) => s.object)).toEqual(["extension uuid-ossp", "extension pgcrypto", `schema ${weird}`]);
    expect(statements[2]!.sql).toBe(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    for (const s of statements.slice(0, 2)) expect(s.sql).toContain("WITH SCHEMA public");
  });

  test("search_path statements", () => {
    expect(renderSearchPath("netraven", "my db").sql).toBe('ALTER DATABASE "my db" SET search_path TO "netraven", public');
    expect(renderRoleSearchPath(weird, "db").sql).toBe(`ALTER ROLE CURRENT_USER IN DATABASE "db" SET search_path TO ${quoted}, public`);
  });

  test("renderTables: one CREATE TABLE per table in FK order, then its indexes and comments", () => {
    const statements = renderTables("netraven");
    const tables = statements.filter((s) => s.object.startsWith("table ")).map((s) => s.object.slice(6));
    expect(tables).toEqual(tablesInCreateOrder().map((t) => t.name));
    expect(statements.filter((s) => s.object.startsWith("index "))).toHaveLength(31);
    expect(statements.filter((s) => s.object.startsWith("comment on "))).toHaveLength(15);
    expect(statements.map((s) => s.sql.split("ON DELETE CASCADE").length - 1).reduce((a, b) => a + b, 0)).toBe(5);
  });

  test("renderTablesForLoad: bare tables first; then 14 primary keys, 31 indexes, 15 comments, 12 foreign keys", () => {
    const { before, after } = renderTablesForLoad("netraven");
    expect(before).toHaveLength(14);
    for (const s of before) {
      expect(s.sql).not.toContain("PRIMARY KEY");
      expect(s.sql).not.toContain("FOREIGN KEY");
    }
    const kinds = after.map((s) => s.object.split(" ")[0] + (s.object.startsWith("primary") || s.object.startsWith("foreign") ? " key" : ""));
    const counts = kinds.reduce<Record<string, number>>((acc, k) => ({ ...acc, [k]: (acc[k] ?? 0) + 1 }), {});
    expect(counts).toEqual({ "primary key": 14, index: 31, comment: 15, "foreign key": 12 });
    // Keys and indexes before the foreign keys that need the parents' primary keys.
    const lastNonFk = Math.max(...after.map((s, i) => (s.object.startsWith("foreign") ? -1 : i)));
    const firstFk = after.findIndex((s) => s.object.startsWith("foreign"));
    expect(firstFk).toBeGreaterThan(lastNonFk);
    expect(after.filter((s) => s.sql.endsWith("ON DELETE CASCADE"))).toHaveLength(5);
  });
});
