// The strict recogniser (src/pgdump/statement.ts), the rules across statements (model.ts), the streaming reader
// (read.ts) and the scratch DDL (schema-check.ts), without a database. Statements are written as pg_dump 15 writes
// them; the end-to-end tests (pg-dump.test.ts) run the same code on files made by the real pg_dump.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { isNetravenError } from "../../src/errors.ts";
import { DumpModelBuilder } from "../../src/pgdump/model.ts";
import { readPgDump } from "../../src/pgdump/read.ts";
import { renderDumpTables } from "../../src/pgdump/schema-check.ts";
import { normalise, recogniseStatement, StatementRefused } from "../../src/pgdump/statement.ts";
import { LocalStore } from "../../src/storage/local.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-pgdump-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(sql: string): string {
  try {
    recogniseStatement(sql);
  } catch (error) {
    if (error instanceof StatementRefused) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${sql}`);
}

const TAGS = `CREATE TABLE netraven.tags (
    id character varying(36) NOT NULL,
    name character varying(50) NOT NULL,
    description text,
    color character varying(7),
    created_at timestamp without time zone,
    updated_at timestamp without time zone
);`;

describe("statements pg_dump writes for the NetRaven tables", () => {
  test("the preamble, schema, extensions, owners and comments", () => {
    for (const sql of [
      "SET statement_timeout = 0;",
      "SET client_encoding = 'UTF8';",
      "SET standard_conforming_strings = on;",
      "SELECT pg_catalog.set_config('search_path', '', false);",
      "SET default_table_access_method = heap;",
      "SET transaction_timeout = 0;",
      "CREATE SCHEMA netraven;",
      "ALTER SCHEMA netraven OWNER TO netraven;",
      "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA public;",
      "COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';",
      "ALTER TABLE netraven.tags OWNER TO netraven;",
      "COMMENT ON COLUMN netraven.admin_settings.category IS 'Category of setting (security, system, notification)';",
      "COMMENT ON TABLE netraven.tags IS 'it''s; a table\n  over two lines';",
      "GRANT SELECT,INSERT ON TABLE netraven.tags TO app_reader;",
      "REVOKE ALL ON SCHEMA public FROM PUBLIC;",
    ]) {
      expect(() => recogniseStatement(sql)).not.toThrow();
    }
  });

  test("CREATE TABLE: columns with pg_dump's type spellings, quoted names, NOT NULL, defaults, collations", () => {
    const table = recogniseStatement(`CREATE TABLE netraven.job_log_entries (
    id character varying(36) NOT NULL,
    "timestamp" timestamp without time zone NOT NULL,
    details json,
    priority double precision,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    label text DEFAULT 'x'::text COLLATE pg_catalog."C",
    amount numeric(10,2) DEFAULT '-1'::numeric
);`);
    expect(table).toMatchObject({
      kind: "table",
      target: { schema: "netraven", name: "job_log_entries" },
      columns: [
        { name: "id", type: "character varying(36)", notNull: true },
        { name: "timestamp", type: "timestamp without time zone", notNull: true },
        { name: "details", type: "json", notNull: false },
        { name: "priority", type: "double precision" },
        { name: "applied_at", type: "timestamp with time zone", notNull: true, default: { text: "now()", renderable: true } },
        { name: "label", type: "text", collation: ["pg_catalog", "C"], default: { text: "'x'::text", renderable: true } },
        { name: "amount", type: "numeric(10,2)", default: { text: "'-1'::numeric", renderable: true } },
      ],
    });
  });

  test("keys, foreign keys and indexes become data", () => {
    expect(recogniseStatement("ALTER TABLE ONLY netraven.device_tags\n    ADD CONSTRAINT device_tags_pkey PRIMARY KEY (device_id, tag_id);")).toEqual({
      kind: "primary-key",
      target: { schema: "netraven", name: "device_tags" },
      name: "device_tags_pkey",
      columns: ["device_id", "tag_id"],
    });
    expect(recogniseStatement("ALTER TABLE ONLY netraven.credential_tags\n    ADD CONSTRAINT credential_tags_credential_id_fkey FOREIGN KEY (credential_id) REFERENCES netraven.credentials(id) ON DELETE CASCADE;")).toMatchObject({
      kind: "foreign-key",
      columns: ["credential_id"],
      references: { schema: "netraven", name: "credentials" },
      refColumns: ["id"],
      onUpdate: "NO ACTION",
      onDelete: "CASCADE",
    });
    expect(recogniseStatement('CREATE INDEX ix_job_log_entries_timestamp ON netraven.job_log_entries USING btree ("timestamp");')).toMatchObject({
      kind: "index",
      unique: false,
      method: "btree",
      columns: [{ name: "timestamp", order: "" }],
    });
    expect(recogniseStatement("CREATE UNIQUE INDEX ix_users_email ON netraven.users USING btree (email DESC NULLS LAST);")).toMatchObject({ unique: true, columns: [{ name: "email", order: "DESC NULLS LAST" }] });
  });

  test("sequences and identities are recognised (and reported later, as the NetRaven tables have none)", () => {
    expect(recogniseStatement("CREATE SEQUENCE netraven.users_id_seq\n    AS integer\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;").kind).toBe("sequence");
    expect(recogniseStatement("ALTER SEQUENCE netraven.users_id_seq OWNED BY netraven.users.id;").kind).toBe("sequence-owned");
    expect(recogniseStatement("ALTER TABLE ONLY netraven.users ALTER COLUMN id SET DEFAULT nextval('netraven.users_id_seq'::regclass);").kind).toBe("sequence-default");
    expect(recogniseStatement("SELECT pg_catalog.setval('netraven.users_id_seq', 1, true);").kind).toBe("setval");
    expect(recogniseStatement("ALTER TABLE netraven.tags ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (\n    SEQUENCE NAME netraven.tags_id_seq\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1\n);").kind).toBe("identity");
  });

  test("normalising keeps quoted text byte for byte", () => {
    expect(normalise("COMMENT ON TABLE netraven.tags IS 'a\n    b  c';")).toBe("COMMENT ON TABLE netraven.tags IS 'a\n    b  c';");
    expect(normalise("CREATE TABLE x (\n    a text,\n    b text\n);")).toBe("CREATE TABLE x (a text, b text);");
  });
});

describe("anything else is refused, saying what it is", () => {
  const cases: Array<[string, string]> = [
    ["CREATE FUNCTION netraven.evil() RETURNS integer\n    LANGUAGE sql\n    AS $$select 1$$;", "a function, not part of the NetRaven schema"],
    ["CREATE TRIGGER t BEFORE INSERT ON netraven.users FOR EACH ROW EXECUTE FUNCTION netraven.f();", "a trigger, not part of the NetRaven schema"],
    ["CREATE VIEW netraven.v AS\n SELECT 1 AS one;", "a view, not part of the NetRaven schema"],
    ["CREATE POLICY p ON netraven.users USING (true);", "a row-level security policy"],
    ["ALTER TABLE netraven.users ENABLE ROW LEVEL SECURITY;", "row-level security"],
    ["DO $$ begin perform 1; end $$;", "a DO block"],
    ["INSERT INTO netraven.tags VALUES ('t', 'x', NULL, NULL, NULL, NULL);", "an INSERT (a dump made with --inserts"],
    ["DROP TABLE netraven.users;", "a DROP statement (a dump made with --clean)"],
    ["CREATE DATABASE netraven WITH TEMPLATE = template0 ENCODING = 'UTF8';", "database-level SQL (a dump made with --create)"],
    ["GRANT ALL ON FUNCTION netraven.f() TO PUBLIC;", "a privilege on an object outside the NetRaven tables"],
    ["SET client_encoding = 'LATIN1';", "the dump is in encoding 'LATIN1'; only UTF8 dumps can be imported"],
    ["SET standard_conforming_strings = off;", "only \"on\""],
    ["SET search_path = netraven, pg_catalog;", "a setting pg_dump does not write"],
    ["CREATE INDEX ix_x ON netraven.users USING btree (lower((email)::text));", "a statement pg_dump does not write for the NetRaven tables"],
    ["CREATE INDEX ix_x ON netraven.users USING btree (email) WHERE is_active;", "a statement pg_dump does not write for the NetRaven tables"],
    ["CREATE TABLE netraven.users (\n    id integer NOT NULL,\n    name text,\n    CONSTRAINT users_name_check CHECK ((length(name) > 0))\n);", "a CHECK constraint, not part of the NetRaven schema"],
    ["CREATE TABLE netraven.users (\n    id integer\n)\nINHERITS (netraven.base);", "a table with options the NetRaven tables do not have"],
    ["CREATE TABLE netraven.users (\n    id public.citext\n);", "column id has type public.citext, which is not a built-in type"],
    ["CREATE TABLE netraven.users (\n    id integer GENERATED ALWAYS AS (1) STORED\n);", "column id is a generated column"],
    ["CREATE TABLE netraven.users (\n    id uuid DEFAULT public.uuid_generate_v4()\n);", "column id has a default the NetRaven schema does not have"],
    ["CREATE UNLOGGED TABLE netraven.users (\n    id integer\n);", "a table, not part of the NetRaven schema"],
    ["COMMENT ON TABLE netraven.tags IS E'\\\\x';", "a statement pg_dump does not write for the NetRaven tables"],
  ];
  for (const [sql, reason] of cases) {
    test(`${reason}: ${sql.split("\n")[0]!.slice(0, 50)}`, () => {
      expect(refusal(sql)).toContain(reason);
    });
  }
});

describe("rules across statements", () => {
  const build = (statements: string[]) => {
    const builder = new DumpModelBuilder();
    statements.forEach((sql, i) => {
      const statement = recogniseStatement(sql);
      if (statement.kind === "copy") {
        builder.startCopy(statement, i + 1);
        builder.endCopy(0, []);
      } else builder.add(statement, i + 1);
    });
    return builder.finish();
  };
  const refused = (statements: string[]) => {
    try {
      build(statements);
    } catch (error) {
      if (error instanceof StatementRefused) return error.message;
      throw error;
    }
    throw new Error("accepted");
  };
  const COPY = "COPY netraven.tags (id, name, description, color, created_at, updated_at) FROM stdin;";

  test("a dump of some NetRaven tables is a model of them", () => {
    const model = build(["CREATE SCHEMA netraven;", TAGS, "ALTER TABLE netraven.tags OWNER TO netraven;", COPY, "ALTER TABLE ONLY netraven.tags\n    ADD CONSTRAINT tags_pkey PRIMARY KEY (id);"]);
    expect(model.schema).toBe("netraven");
    expect(model.tables.map((t) => t.name)).toEqual(["tags"]);
    expect(model.primaryKeys).toEqual([{ table: "tags", name: "tags_pkey", columns: ["id"] }]);
    expect(model.ignored.owners).toBe(1);
  });

  test("another table, another schema, a data-only dump, a schema-only dump, mismatched COPY columns", () => {
    expect(refused([TAGS.replace("netraven.tags", "netraven.local_notes"), COPY])).toBe("table netraven.local_notes, which is not a NetRaven table");
    expect(refused([TAGS, COPY, TAGS.replace("netraven.tags", "public.users")])).toBe('table public.users is not in schema "netraven", where the dump\'s NetRaven tables are');
    expect(refused(["CREATE SCHEMA other;", TAGS, COPY])).toContain("schema other (line 1): the dump holds more than the NetRaven schema");
    expect(refused([COPY])).toContain("is used before the dump creates it (a --data-only dump cannot be checked)");
    expect(refused([TAGS])).toBe("table tags has no data in the dump (made with --schema-only or --exclude-table-data?)");
    expect(refused([TAGS, "COPY netraven.tags (id, name) FROM stdin;"])).toContain("the COPY block of table tags lists columns (id, name), its CREATE TABLE has (id, name, description");
    expect(refused([TAGS, COPY, "CREATE INDEX ix_tags_x ON netraven.tags USING btree (nope);"])).toBe("index ix_tags_x names column nope, which table tags does not have");
    expect(refused([TAGS, COPY, "CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;"])).toContain("extension postgis, not part of the NetRaven schema");
    expect(refused([TAGS, COPY, "CREATE SEQUENCE netraven.s START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;"])).toContain("does not belong to a column of a NetRaven table");
  });
});

describe("the scratch DDL", () => {
  test("every identifier is quoted, types and keywords come from the recognised forms, defaults only when harmless", () => {
    const builder = new DumpModelBuilder();
    builder.add(recogniseStatement(`CREATE TABLE netraven.tags (\n    "a""b; drop table x; --" text DEFAULT 'it''s'::text,\n    c text DEFAULT 'a\\b'::text,\n    d integer DEFAULT 7 NOT NULL\n);`), 1);
    const copy = recogniseStatement('COPY netraven.tags ("a""b; drop table x; --", c, d) FROM stdin;');
    builder.startCopy(copy as never, 2);
    builder.endCopy(0, []);
    const model = builder.finish();
    expect(renderDumpTables(model)).toEqual([`CREATE TABLE pg_temp."tags" ("a""b; drop table x; --" text, "c" text, "d" integer DEFAULT 7 NOT NULL)`]);
    expect(model.unrenderedDefaults).toEqual([
      { table: "tags", column: 'a"b; drop table x; --', text: "'it''s'::text" },
      { table: "tags", column: "c", text: "'a\\b'::text" },
    ]);
  });
});

describe("reading a whole file", () => {
  const START = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\n-- Dumped by pg_dump version 15.18\n\nSET client_encoding = 'UTF8';\n\n";
  const END = "\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc123\n\n";
  const body = `${TAGS}\n\nCOPY netraven.tags (id, name, description, color, created_at, updated_at) FROM stdin;\nt1\tOne\t\\N\t#fff\t2025-01-01 00:00:00\t\\N\nt2\tTwo\tline\\nbreak\t\\N\t\\N\t\\N\n\\.\n`;
  const store = new LocalStore(dir);
  const read = async (name: string, text: string | Buffer) => {
    writeFileSync(join(dir, name), text);
    return readPgDump(store, name);
  };
  const failure = async (name: string, text: string | Buffer) => {
    try {
      await read(name, text);
    } catch (error) {
      if (isNetravenError(error)) return error.message;
      throw error;
    }
    throw new Error("accepted");
  };

  test("rows are counted per table; gzip reads the same; the pg_dump version is kept", async () => {
    const plain = await read("a.sql", START + body + END);
    expect(plain.model.tables.map((t) => [t.name, t.data?.rows])).toEqual([["tags", 2]]);
    expect(plain.pgDumpVersion).toBe("15.18");
    const gz = await read("a.sql.gz", gzipSync(START + body + END));
    expect(gz.compression).toBe("gzip");
    expect(gz.model.tables[0]!.data!.rows).toBe(2);
  });

  test("truncation, appended SQL, a wrong column count and psql commands are refused with the line", async () => {
    expect(await failure("b.sql", START + body)).toBe('b.sql: the file ends without pg_dump\'s "-- PostgreSQL database dump complete" line (truncated); not imported');
    expect(await failure("c.sql", START + body.slice(0, -20))).toContain("c.sql: the file ends inside the data of table tags (truncated)");
    expect(await failure("d.sql", START + body + END.replace("\\unrestrict abc123\n", ""))).toContain("without the \\unrestrict line");
    expect(await failure("e.sql", `${START + body}\n-- PostgreSQL database dump complete\nDROP TABLE netraven.users;\n`)).toBe('e.sql: not imported: line 26: SQL after pg_dump\'s "dump complete" line (something was appended to the dump)');
    expect(await failure("f.sql", START + body.replace("t2\tTwo\t", "t2\tTwo") + END)).toBe("f.sql: line 22: table tags, row 2: expected 6 columns, found 5; not imported");
    expect(await failure("g.sql", `${START}\\connect netraven\n${body}${END}`)).toBe("g.sql: not imported: line 11: a psql command pg_dump does not write there: \\connect netraven");
    expect(await failure("h.sql", `-- not a dump\n${body}${END}`)).toContain("not a pg_dump script");
  });
});
