// diffSchema is pure: expected and actual catalog models plus database facts in, sorted drifts out. Every model
// here is built by hand in the shape sql/inspect-schema.sql produces (types as format_type() spells them).
import { describe, expect, test } from "bun:test";
import { differences, diffSchema, hasErrors, shortType, sortDrifts, type ActualDatabase, type Drift, type ExpectedDatabase } from "../../src/validate/diff.ts";
import type { ColumnModel, ConstraintModel, DatabaseFacts, IndexModel, SchemaModel } from "../../src/catalog/inspect.ts";

// ---- builders ----------------------------------------------------------------------------------------------------

function col(table: string, name: string, type: string, notNull = false, extra: Partial<ColumnModel> = {}): ColumnModel {
  return { table, name, position: 0, type, not_null: notNull, default: null, identity: null, generated: null, collation: null, ...extra };
}

function constraint(table: string, name: string, type: ConstraintModel["type"], columns: string[] | null, extra: Partial<ConstraintModel> = {}): ConstraintModel {
  return {
    table,
    name,
    type,
    columns,
    ref_table: null,
    ref_same_schema: null,
    ref_columns: null,
    on_update: null,
    on_delete: null,
    match: null,
    deferrable: false,
    deferred: false,
    definition: null,
    ...extra,
  };
}

const pk = (table: string, columns: string[]) => constraint(table, `${table}_pkey`, "p", columns);
const fk = (table: string, column: string, refTable: string, extra: Partial<ConstraintModel> = {}) =>
  constraint(table, `${table}_${column}_fkey`, "f", [column], { ref_table: refTable, ref_same_schema: true, ref_columns: ["id"], on_update: "a", on_delete: "a", match: "s", ...extra });

function ix(table: string, name: string, columns: string[], extra: Partial<IndexModel> = {}): IndexModel {
  return {
    table,
    name,
    unique: false,
    primary: false,
    constraint: false,
    method: "btree",
    key_columns: columns,
    include_columns: [],
    options: columns.map(() => 0),
    opclasses: columns.map(() => "default"),
    predicate: null,
    nulls_not_distinct: false,
    valid: true,
    ...extra,
  };
}

const pkIndex = (table: string, columns: string[]) => ix(table, `${table}_pkey`, columns, { unique: true, primary: true, constraint: true });

/** A small healthy database: users, devices (FK to users), the version table. */
function model(): SchemaModel {
  return {
    tables: ["devices", "netraven_db_version", "users"],
    columns: [
      col("users", "id", "character varying(36)", true),
      col("users", "username", "character varying(50)", true),
      col("users", "created_at", "timestamp without time zone"),
      col("devices", "id", "character varying(36)", true),
      col("devices", "hostname", "character varying(255)", true),
      col("devices", "owner_id", "character varying(36)", true),
      col("netraven_db_version", "version", "integer", true),
      col("netraven_db_version", "applied_at", "timestamp with time zone", true, { default: "now()" }),
    ],
    constraints: [pk("users", ["id"]), pk("devices", ["id"]), pk("netraven_db_version", ["version"]), fk("devices", "owner_id", "users")],
    indexes: [
      pkIndex("users", ["id"]),
      pkIndex("devices", ["id"]),
      pkIndex("netraven_db_version", ["version"]),
      ix("users", "ix_users_username", ["username"], { unique: true }),
      ix("devices", "ix_devices_hostname", ["hostname"]),
    ],
  };
}

const EXPECTED_DB: ExpectedDatabase = { schema: "netraven", extensions: ["uuid-ossp", "pgcrypto"], schemaVersion: 2, versionTable: "netraven_db_version" };

function facts(overrides: Partial<DatabaseFacts> = {}): DatabaseFacts {
  return {
    extensions: [
      { name: "pgcrypto", schema: "public", version: "1.3" },
      { name: "plpgsql", schema: "pg_catalog", version: "1.0" },
      { name: "uuid-ossp", schema: "public", version: "1.1" },
    ],
    schemaExists: true,
    searchPathSchemas: ["netraven", "public"],
    searchPath: "netraven, public",
    searchPathSettings: [{ database: true, role: false, value: "netraven, public" }],
    hasVersionTable: true,
    canReadVersion: true,
    tablesPresent: 2,
    indexesPresent: 2,
    ...overrides,
  };
}

const healthy = (overrides: Partial<DatabaseFacts> = {}, schemaVersion: number | null = 2): ActualDatabase => ({ facts: facts(overrides), schemaVersion });

/** Diff the standard expected model against a changed copy. */
function diffWith(change: (actual: SchemaModel) => void, options: { strict?: boolean; db?: ActualDatabase } = {}): Drift[] {
  const actual = model();
  change(actual);
  return diffSchema(model(), actual, EXPECTED_DB, options.db ?? healthy(), { strict: options.strict });
}

const summary = (drifts: Drift[]) => drifts.map((d) => `${d.severity} ${d.kind} ${d.object}`);
const only = (drifts: Drift[]) => {
  expect(drifts).toHaveLength(1);
  return drifts[0]!;
};

// ---- tests -------------------------------------------------------------------------------------------------------

describe("a matching database", () => {
  test("has no drift", () => {
    expect(diffWith(() => {})).toEqual([]);
  });

  test("column, constraint and index order in the catalog does not matter", () => {
    expect(
      diffWith((a) => {
        a.columns.reverse();
        a.constraints.reverse();
        a.indexes.reverse();
        a.tables.reverse();
      }),
    ).toEqual([]);
  });
});

describe("database-level drift", () => {
  test("EXTENSION_MISSING for each missing extension, an error that names it", () => {
    const drifts = diffSchema(model(), model(), EXPECTED_DB, healthy({ extensions: [] }));
    expect(summary(drifts)).toEqual(["error EXTENSION_MISSING extension pgcrypto", "error EXTENSION_MISSING extension uuid-ossp"]);
    expect(drifts[0]!.target).toEqual({ extension: "pgcrypto" });
  });

  test("SCHEMA_MISSING stops the comparison: no table-level noise", () => {
    const empty: SchemaModel = { tables: [], columns: [], constraints: [], indexes: [] };
    const drifts = diffSchema(model(), empty, EXPECTED_DB, { facts: facts({ schemaExists: false, searchPathSchemas: ["public"], searchPathSettings: [] }), schemaVersion: null });
    expect(drifts).toEqual([{ kind: "SCHEMA_MISSING", object: "schema netraven", expected: "present", found: "missing", severity: "error" }]);
  });

  test("SCHEMA_MISSING alongside missing extensions", () => {
    const empty: SchemaModel = { tables: [], columns: [], constraints: [], indexes: [] };
    const drifts = diffSchema(model(), empty, EXPECTED_DB, { facts: facts({ schemaExists: false, extensions: [{ name: "pgcrypto", schema: "public", version: "1" }] }), schemaVersion: null });
    expect(summary(drifts)).toEqual(["error EXTENSION_MISSING extension uuid-ossp", "error SCHEMA_MISSING schema netraven"]);
  });
});

describe("search_path", () => {
  const searchPathDrifts = (overrides: Partial<DatabaseFacts>) =>
    diffSchema(model(), model(), EXPECTED_DB, healthy(overrides)).filter((d) => d.kind.startsWith("SEARCH_PATH"));

  test("a persistent setting that puts the schema first is fine, even if this session still resolves elsewhere", () => {
    expect(searchPathDrifts({ searchPathSchemas: ["public"], searchPath: '"$user", public' })).toEqual([]);
  });

  test('no setting, schema first only through "$user": SEARCH_PATH_NOT_PERSISTENT, a warning', () => {
    const d = only(searchPathDrifts({ searchPathSettings: [], searchPathSchemas: ["netraven", "public"], searchPath: '"$user", public' }));
    expect(d.kind).toBe("SEARCH_PATH_NOT_PERSISTENT");
    expect(d.severity).toBe("warning");
    expect(d.found).toContain('"$user", public');
  });

  test("no setting and the schema is not first: SEARCH_PATH_CHANGED, an error naming what it resolves to", () => {
    const d = only(searchPathDrifts({ searchPathSettings: [], searchPathSchemas: ["public"], searchPath: '"$user", public' }));
    expect(d.kind).toBe("SEARCH_PATH_CHANGED");
    expect(d.severity).toBe("error");
    expect(d.found).toBe('"$user", public (resolves to public first)');
  });

  test("an explicit setting that puts another schema first: SEARCH_PATH_CHANGED, even when $user would have worked", () => {
    const d = only(searchPathDrifts({ searchPathSettings: [{ database: true, role: false, value: "public" }], searchPathSchemas: ["netraven", "public"] }));
    expect(d.kind).toBe("SEARCH_PATH_CHANGED");
    expect(d.severity).toBe("error");
    expect(d.found).toBe("public (persistent setting)");
  });

  test("precedence: a role-in-database setting beats a role setting beats a database setting, whatever the list order", () => {
    const roleInDb = { database: true, role: true, value: "netraven, public" };
    const role = { database: false, role: true, value: "public" };
    const db = { database: true, role: false, value: "public" };
    expect(searchPathDrifts({ searchPathSettings: [db, role, roleInDb] })).toEqual([]);
    expect(searchPathDrifts({ searchPathSettings: [roleInDb, role, db] })).toEqual([]);

    // ALTER ROLE ... SET overrides ALTER DATABASE ... SET.
    const roleGood = { database: false, role: true, value: "netraven" };
    expect(searchPathDrifts({ searchPathSettings: [db, roleGood] })).toEqual([]);
    const dbGood = { database: true, role: false, value: "netraven" };
    expect(only(searchPathDrifts({ searchPathSettings: [dbGood, role] })).kind).toBe("SEARCH_PATH_CHANGED");
    expect(only(searchPathDrifts({ searchPathSettings: [role, dbGood] })).kind).toBe("SEARCH_PATH_CHANGED");
  });

  test("setting values are read as PostgreSQL reads identifiers: unquoted names fold to lower case, quoted ones do not", () => {
    expect(searchPathDrifts({ searchPathSettings: [{ database: true, role: false, value: '"netraven", public' }] })).toEqual([]);
    expect(searchPathDrifts({ searchPathSettings: [{ database: true, role: false, value: "NetRaven, public" }] })).toEqual([]);
    expect(only(searchPathDrifts({ searchPathSettings: [{ database: true, role: false, value: '"NetRaven", public' }] })).kind).toBe("SEARCH_PATH_CHANGED");
    // An explicit "$user" first behaves like no setting at all: it works only while the role is named like the schema.
    expect(only(searchPathDrifts({ searchPathSettings: [{ database: true, role: false, value: '"$user", public' }] })).kind).toBe("SEARCH_PATH_NOT_PERSISTENT");
  });
});

describe("schema version", () => {
  const versionDrifts = (change: (a: SchemaModel) => void, db: ActualDatabase) => {
    const actual = model();
    change(actual);
    return diffSchema(model(), actual, EXPECTED_DB, db);
  };
  const dropVersionTable = (a: SchemaModel) => {
    a.tables = a.tables.filter((t) => t !== "netraven_db_version");
    a.columns = a.columns.filter((c) => c.table !== "netraven_db_version");
    a.constraints = a.constraints.filter((c) => c.table !== "netraven_db_version");
    a.indexes = a.indexes.filter((c) => c.table !== "netraven_db_version");
  };

  test("no version table (an ORM-built database): one VERSION_TABLE_MISSING warning, not a TABLE_MISSING error", () => {
    const drifts = versionDrifts(dropVersionTable, healthy({ hasVersionTable: false, canReadVersion: false }, null));
    expect(summary(drifts)).toEqual(["warning VERSION_TABLE_MISSING table netraven_db_version"]);
    expect(hasErrors(drifts)).toBe(false);
  });

  test("a version table it may not read: VERSION_UNREADABLE, a warning", () => {
    expect(summary(versionDrifts(() => {}, healthy({ canReadVersion: false }, null)))).toEqual(["warning VERSION_UNREADABLE schema version"]);
  });

  test("an empty version table: VERSION_MISSING, a warning", () => {
    const d = only(versionDrifts(() => {}, healthy({}, null)));
    expect(d).toMatchObject({ kind: "VERSION_MISSING", severity: "warning", found: "none recorded" });
  });

  test("an older version: VERSION_CHANGED error that says to run init", () => {
    const d = only(versionDrifts(() => {}, healthy({}, 1)));
    expect(d).toMatchObject({ kind: "VERSION_CHANGED", severity: "error", found: "1" });
    expect(d.expected).toContain("2");
    expect(d.expected).toContain("run netraven-db init");
  });

  test("a newer version: VERSION_CHANGED error that says the database is newer", () => {
    const d = only(versionDrifts(() => {}, healthy({}, 3)));
    expect(d).toMatchObject({ kind: "VERSION_CHANGED", severity: "error", found: "3" });
    expect(d.expected).toContain("newer than this netraven-db");
  });
});

describe("tables and columns", () => {
  test("TABLE_MISSING is an error with a repair target; its columns and keys are not listed separately", () => {
    const drifts = diffWith((a) => {
      a.tables = a.tables.filter((t) => t !== "devices");
      a.columns = a.columns.filter((c) => c.table !== "devices");
      a.constraints = a.constraints.filter((c) => c.table !== "devices");
      a.indexes = a.indexes.filter((c) => c.table !== "devices");
    });
    expect(drifts).toEqual([{ kind: "TABLE_MISSING", object: "table devices", expected: "present", found: "missing", severity: "error", target: { table: "devices" } }]);
  });

  test("TABLE_EXTRA is a warning, an error with strict", () => {
    const addTable = (a: SchemaModel) => {
      a.tables.push("notes");
      a.columns.push(col("notes", "body", "text"));
    };
    expect(summary(diffWith(addTable))).toEqual(["warning TABLE_EXTRA table notes"]);
    expect(summary(diffWith(addTable, { strict: true }))).toEqual(["error TABLE_EXTRA table notes"]);
  });

  test("COLUMN_MISSING shows the wanted type in people's spelling", () => {
    const d = only(diffWith((a) => (a.columns = a.columns.filter((c) => !(c.table === "devices" && c.name === "hostname")))));
    expect(d).toMatchObject({ kind: "COLUMN_MISSING", object: "column devices.hostname", expected: "varchar(255) NOT NULL", found: "missing", severity: "error" });
  });

  test("COLUMN_EXTRA is a warning, an error with strict", () => {
    const add = (a: SchemaModel) => a.columns.push(col("users", "nickname", "text"));
    expect(only(diffWith(add))).toMatchObject({ kind: "COLUMN_EXTRA", object: "column users.nickname", found: "text", severity: "warning" });
    expect(only(diffWith(add, { strict: true })).severity).toBe("error");
  });

  test("COLUMN_TYPE_CHANGED", () => {
    const d = only(diffWith((a) => (a.columns.find((c) => c.name === "username")!.type = "text")));
    expect(d).toMatchObject({ kind: "COLUMN_TYPE_CHANGED", object: "column users.username", expected: "varchar(50)", found: "text", severity: "error" });
  });

  test("a different length is a type change", () => {
    const d = only(diffWith((a) => (a.columns.find((c) => c.name === "hostname")!.type = "character varying(100)")));
    expect(d).toMatchObject({ kind: "COLUMN_TYPE_CHANGED", expected: "varchar(255)", found: "varchar(100)" });
  });

  test("timestamp with and without time zone differ", () => {
    const d = only(diffWith((a) => (a.columns.find((c) => c.name === "created_at")!.type = "timestamp with time zone")));
    expect(d).toMatchObject({ kind: "COLUMN_TYPE_CHANGED", expected: "timestamp", found: "timestamptz" });
  });

  test("COLUMN_NULLABILITY_CHANGED both ways", () => {
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "username")!.not_null = false)))).toMatchObject({
      kind: "COLUMN_NULLABILITY_CHANGED",
      object: "column users.username",
      expected: "NOT NULL",
      found: "NULL",
    });
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "created_at")!.not_null = true)))).toMatchObject({ expected: "NULL", found: "NOT NULL" });
  });

  test("COLUMN_DEFAULT_CHANGED: added, removed, changed, identity", () => {
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "created_at")!.default = "now()")))).toMatchObject({
      kind: "COLUMN_DEFAULT_CHANGED",
      object: "column users.created_at",
      expected: "none",
      found: "now()",
    });
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "applied_at")!.default = null)))).toMatchObject({ expected: "now()", found: "none" });
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "applied_at")!.default = "clock_timestamp()")))).toMatchObject({ expected: "now()", found: "clock_timestamp()" });
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "version")!.identity = "d")))).toMatchObject({ found: "generated by default as identity" });
  });

  test("COLUMN_COLLATION_CHANGED", () => {
    expect(only(diffWith((a) => (a.columns.find((c) => c.name === "username")!.collation = "C")))).toMatchObject({ kind: "COLUMN_COLLATION_CHANGED", expected: "default", found: "C" });
  });

  test("several changes on one column give one drift each", () => {
    const drifts = diffWith((a) => {
      const c = a.columns.find((x) => x.name === "username")!;
      c.type = "text";
      c.not_null = false;
    });
    expect(drifts.map((d) => d.kind)).toEqual(["COLUMN_NULLABILITY_CHANGED", "COLUMN_TYPE_CHANGED"]);
  });
});

describe("keys and constraints", () => {
  test("PRIMARY_KEY_MISSING", () => {
    const d = only(
      diffWith((a) => {
        a.constraints = a.constraints.filter((c) => !(c.type === "p" && c.table === "devices"));
        a.indexes = a.indexes.filter((c) => c.name !== "devices_pkey");
      }),
    );
    expect(d).toMatchObject({ kind: "PRIMARY_KEY_MISSING", object: "primary key devices", expected: "(id)", found: "none", severity: "error" });
  });

  test("PRIMARY_KEY_EXTRA is a warning, an error with strict", () => {
    const expected = model();
    expected.constraints = expected.constraints.filter((c) => !(c.type === "p" && c.table === "users"));
    const drifts = diffSchema(expected, model(), EXPECTED_DB, healthy());
    expect(only(drifts)).toMatchObject({ kind: "PRIMARY_KEY_EXTRA", object: "primary key users", found: "(id)", severity: "warning" });
    expect(only(diffSchema(expected, model(), EXPECTED_DB, healthy(), { strict: true })).severity).toBe("error");
  });

  test("PRIMARY_KEY_CHANGED: other columns, or the same columns in another order", () => {
    expect(only(diffWith((a) => (a.constraints.find((c) => c.name === "users_pkey")!.columns = ["username"])))).toMatchObject({
      kind: "PRIMARY_KEY_CHANGED",
      expected: "(id)",
      found: "(username)",
    });
    const expected = model();
    expected.constraints.find((c) => c.name === "devices_pkey")!.columns = ["id", "hostname"];
    const actual = model();
    actual.constraints.find((c) => c.name === "devices_pkey")!.columns = ["hostname", "id"];
    expect(only(diffSchema(expected, actual, EXPECTED_DB, healthy())).kind).toBe("PRIMARY_KEY_CHANGED");
  });

  test("UNIQUE_CONSTRAINT_EXTRA (warning) and UNIQUE_CONSTRAINT_MISSING (error), keyed by columns not name", () => {
    const unique = constraint("users", "users_username_key", "u", ["username"]);
    expect(only(diffWith((a) => a.constraints.push(unique)))).toMatchObject({ kind: "UNIQUE_CONSTRAINT_EXTRA", object: "unique constraint users_username_key on users(username)", severity: "warning" });
    const expected = model();
    expected.constraints.push(unique);
    expect(only(diffSchema(expected, model(), EXPECTED_DB, healthy()))).toMatchObject({ kind: "UNIQUE_CONSTRAINT_MISSING", object: "unique constraint users(username)", severity: "error" });
    const renamed = model();
    renamed.constraints.push({ ...unique, name: "some_other_name" });
    expect(diffSchema(expected, renamed, EXPECTED_DB, healthy())).toEqual([]);
  });

  test("CHECK_CONSTRAINT_EXTRA and _MISSING, keyed by definition", () => {
    const check = constraint("users", "users_check", "c", ["username"], { definition: "CHECK ((length(username) > 0))" });
    expect(only(diffWith((a) => a.constraints.push(check)))).toMatchObject({ kind: "CHECK_CONSTRAINT_EXTRA", found: "CHECK ((length(username) > 0))", severity: "warning" });
    const expected = model();
    expected.constraints.push(check);
    expect(only(diffSchema(expected, model(), EXPECTED_DB, healthy()))).toMatchObject({ kind: "CHECK_CONSTRAINT_MISSING", expected: "CHECK ((length(username) > 0))", severity: "error" });
  });

  test("FOREIGN_KEY_MISSING", () => {
    const d = only(diffWith((a) => (a.constraints = a.constraints.filter((c) => c.type !== "f"))));
    expect(d).toMatchObject({ kind: "FOREIGN_KEY_MISSING", object: "foreign key devices(owner_id) -> users(id)", expected: "ON DELETE NO ACTION ON UPDATE NO ACTION", found: "missing", severity: "error" });
  });

  test("FOREIGN_KEY_EXTRA is a warning, an error with strict", () => {
    const add = (a: SchemaModel) => a.constraints.push(fk("users", "username", "devices"));
    expect(only(diffWith(add))).toMatchObject({ kind: "FOREIGN_KEY_EXTRA", object: "foreign key users(username) -> devices(id)", severity: "warning" });
    expect(only(diffWith(add, { strict: true })).severity).toBe("error");
  });

  test("FOREIGN_KEY_CHANGED: ON DELETE, ON UPDATE, MATCH and DEFERRABLE all count", () => {
    const changed = (extra: Partial<ConstraintModel>) => only(diffWith((a) => Object.assign(a.constraints.find((c) => c.type === "f")!, extra)));
    expect(changed({ on_delete: "c" })).toMatchObject({
      kind: "FOREIGN_KEY_CHANGED",
      object: "foreign key devices(owner_id) -> users(id)",
      expected: "ON DELETE NO ACTION ON UPDATE NO ACTION",
      found: "ON DELETE CASCADE ON UPDATE NO ACTION",
      severity: "error",
    });
    expect(changed({ on_update: "c" }).found).toBe("ON DELETE NO ACTION ON UPDATE CASCADE");
    expect(changed({ on_delete: "n" }).found).toContain("ON DELETE SET NULL");
    expect(changed({ match: "f" }).found).toContain("MATCH FULL");
    expect(changed({ deferrable: true }).found).toContain("DEFERRABLE");
    expect(changed({ deferrable: true, deferred: true }).found).toContain("DEFERRABLE INITIALLY DEFERRED");
  });

  test("a foreign key that points into another schema is not the expected one", () => {
    const drifts = diffWith((a) => (a.constraints.find((c) => c.type === "f")!.ref_same_schema = false));
    expect(summary(drifts)).toEqual(["warning FOREIGN_KEY_EXTRA foreign key devices(owner_id) -> (other schema) users(id)", "error FOREIGN_KEY_MISSING foreign key devices(owner_id) -> users(id)"]);
  });
});

describe("indexes", () => {
  test("INDEX_MISSING is an error with a repair target", () => {
    const d = only(diffWith((a) => (a.indexes = a.indexes.filter((x) => x.name !== "ix_devices_hostname"))));
    expect(d).toEqual({
      kind: "INDEX_MISSING",
      object: "index ix_devices_hostname on devices",
      expected: "btree (hostname)",
      found: "missing",
      severity: "error",
      target: { table: "devices", index: "ix_devices_hostname" },
    });
  });

  test("INDEX_EXTRA is a warning, an error with strict", () => {
    const add = (a: SchemaModel) => a.indexes.push(ix("devices", "ix_devices_owner_id", ["owner_id"]));
    expect(only(diffWith(add))).toMatchObject({ kind: "INDEX_EXTRA", object: "index ix_devices_owner_id on devices", found: "btree (owner_id)", severity: "warning" });
    expect(only(diffWith(add, { strict: true })).severity).toBe("error");
  });

  test("INDEX_RENAMED when an index with the same definition exists under another name", () => {
    const d = only(diffWith((a) => (a.indexes.find((x) => x.name === "ix_devices_hostname")!.name = "devices_hostname_idx")));
    expect(d).toMatchObject({ kind: "INDEX_RENAMED", object: "index ix_devices_hostname on devices", expected: "ix_devices_hostname", found: "devices_hostname_idx" });
  });

  test("a differently-shaped index under another name is missing + extra, not a rename", () => {
    const drifts = diffWith((a) => Object.assign(a.indexes.find((x) => x.name === "ix_devices_hostname")!, { name: "other", key_columns: ["owner_id"] }));
    expect(summary(drifts)).toEqual(["warning INDEX_EXTRA index other on devices", "error INDEX_MISSING index ix_devices_hostname on devices"]);
  });

  test("INDEX_CHANGED: columns, uniqueness, order options, method, predicate, validity", () => {
    const changed = (extra: Partial<IndexModel>) => only(diffWith((a) => Object.assign(a.indexes.find((x) => x.name === "ix_users_username")!, extra)));
    expect(changed({ unique: false })).toMatchObject({ kind: "INDEX_CHANGED", object: "index ix_users_username on users", expected: "UNIQUE btree (username)", found: "btree (username)" });
    expect(changed({ key_columns: ["id"] }).found).toBe("UNIQUE btree (id)");
    expect(changed({ options: [3] }).found).toBe("UNIQUE btree (username DESC)");
    expect(changed({ options: [1] }).found).toBe("UNIQUE btree (username DESC NULLS LAST)");
    expect(changed({ options: [2] }).found).toBe("UNIQUE btree (username NULLS FIRST)");
    expect(changed({ method: "hash" }).found).toBe("UNIQUE hash (username)");
    expect(changed({ predicate: "(username IS NOT NULL)" }).found).toBe("UNIQUE btree (username) WHERE (username IS NOT NULL)");
    expect(changed({ valid: false }).found).toBe("UNIQUE btree (username) (INVALID)");
    expect(changed({ include_columns: ["id"] }).found).toBe("UNIQUE btree (username) INCLUDE (id)");
    expect(changed({ opclasses: ["text_pattern_ops"] }).kind).toBe("INDEX_CHANGED");
  });

  test("DESC without NULLS FIRST is spelled out", () => {
    // indoption bit 1 = DESC, bit 2 = NULLS FIRST; DESC defaults to NULLS FIRST, so DESC alone is DESC NULLS LAST.
    const expected = model();
    Object.assign(expected.indexes.find((x) => x.name === "ix_devices_hostname")!, { options: [3] });
    const actual = model();
    Object.assign(actual.indexes.find((x) => x.name === "ix_devices_hostname")!, { options: [1] });
    expect(only(diffSchema(expected, actual, EXPECTED_DB, healthy()))).toMatchObject({ expected: "btree (hostname DESC)", found: "btree (hostname DESC NULLS LAST)" });
  });

  test("INDEX_CHANGED when the index sits on another table", () => {
    const d = only(
      diffWith((a) => {
        Object.assign(a.indexes.find((x) => x.name === "ix_devices_hostname")!, { table: "users", key_columns: ["username"] });
      }),
    );
    expect(d).toMatchObject({ kind: "INDEX_CHANGED", object: "index ix_devices_hostname", expected: "on devices", found: "on users" });
  });

  test("indexes that back a constraint are compared as constraints, not as indexes", () => {
    expect(diffWith((a) => (a.indexes.find((x) => x.name === "users_pkey")!.name = "renamed_pkey"))).toEqual([]);
  });
});

describe("ordering and severity", () => {
  const messy = (strict = false) =>
    diffWith(
      (a) => {
        a.columns.find((c) => c.name === "username")!.type = "text";
        a.columns.find((c) => c.name === "hostname")!.type = "text";
        a.columns.push(col("users", "zeta", "text"), col("devices", "alpha", "text"));
        a.indexes = a.indexes.filter((x) => x.name !== "ix_devices_hostname");
        a.tables.push("aaa_extra");
      },
      { strict },
    );

  test("sorted by kind, then by object", () => {
    expect(summary(messy())).toEqual([
      "warning COLUMN_EXTRA column devices.alpha",
      "warning COLUMN_EXTRA column users.zeta",
      "error COLUMN_TYPE_CHANGED column devices.hostname",
      "error COLUMN_TYPE_CHANGED column users.username",
      "error INDEX_MISSING index ix_devices_hostname on devices",
      "warning TABLE_EXTRA table aaa_extra",
    ]);
  });

  test("extras are warnings unless strict; with strict every drift is an error", () => {
    const relaxed = messy();
    for (const d of relaxed) expect({ kind: d.kind, severity: d.severity }).toEqual({ kind: d.kind, severity: d.kind.endsWith("_EXTRA") ? "warning" : "error" });
    for (const d of messy(true)) expect(d.severity).toBe("error");
  });

  test("hasErrors is true only when some drift is an error", () => {
    expect(hasErrors([])).toBe(false);
    expect(hasErrors(messy().filter((d) => d.severity === "warning"))).toBe(false);
    expect(hasErrors(messy())).toBe(true);
  });

  test("sortDrifts orders any list by kind, then object", () => {
    const d = (kind: string, object: string): Drift => ({ kind, object, expected: null, found: null, severity: "error" });
    expect(sortDrifts([d("TABLE_MISSING", "table b"), d("COLUMN_MISSING", "column z.a"), d("TABLE_MISSING", "table a"), d("COLUMN_EXTRA", "column a.a")]).map((x) => `${x.kind} ${x.object}`)).toEqual([
      "COLUMN_EXTRA column a.a",
      "COLUMN_MISSING column z.a",
      "TABLE_MISSING table a",
      "TABLE_MISSING table b",
    ]);
  });
});

describe("differences", () => {
  test("missing, extra and both, each sorted by key", () => {
    const result = differences(["c", "a", "b"], ["d", "b", "a"], (x) => x);
    expect(result.missing).toEqual(["c"]);
    expect(result.extra).toEqual(["d"]);
    expect(result.both).toEqual([
      ["a", "a"],
      ["b", "b"],
    ]);
  });

  test("pairs are matched by key, not by position or identity", () => {
    const left = [{ id: 2, v: "left-2" }, { id: 1, v: "left-1" }];
    const right = [{ id: 1, v: "right-1" }, { id: 3, v: "right-3" }];
    const result = differences(left, right, (x) => String(x.id));
    expect(result.both).toEqual([[{ id: 1, v: "left-1" }, { id: 1, v: "right-1" }]]);
    expect(result.missing).toEqual([{ id: 2, v: "left-2" }]);
    expect(result.extra).toEqual([{ id: 3, v: "right-3" }]);
  });

  test("empty inputs", () => {
    expect(differences([], [], (x: string) => x)).toEqual({ missing: [], extra: [], both: [] });
  });
});

describe("shortType", () => {
  test("writes catalog type names the way people write them", () => {
    expect(shortType("character varying(255)")).toBe("varchar(255)");
    expect(shortType("character varying")).toBe("varchar");
    expect(shortType("timestamp without time zone")).toBe("timestamp");
    expect(shortType("timestamp(3) without time zone")).toBe("timestamp(3)");
    expect(shortType("timestamp with time zone")).toBe("timestamptz");
    expect(shortType("character(2)")).toBe("char(2)");
  });

  test("leaves other types alone", () => {
    for (const t of ["integer", "text", "jsonb", "json", "uuid", "double precision", "boolean", "bigint"]) expect(shortType(t)).toBe(t);
  });
});
