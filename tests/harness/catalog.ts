// An independent view of a schema, built from information_schema and pg_indexes in the test code itself, so tests
// compare what PostgreSQL reports rather than re-reading netraven-db's own model or DDL text.
import type postgres from "postgres";

export interface CatalogSnapshot {
  tables: string[];
  columns: string[];
  constraints: string[];
  indexes: string[];
  comments: string[];
}

export async function catalogSnapshot(sql: postgres.Sql, schema = "netraven"): Promise<CatalogSnapshot> {
  const tables = await sql<{ t: string }[]>`
    select table_name as t from information_schema.tables
    where table_schema = ${schema} and table_type = 'BASE TABLE' order by 1`;
  const columns = await sql<{ c: string }[]>`
    select table_name || '.' || column_name || ' ' || data_type
           || coalesce('(' || character_maximum_length || ')', '')
           || case when is_nullable = 'NO' then ' not null' else '' end
           || coalesce(' default ' || column_default, '') as c
    from information_schema.columns where table_schema = ${schema} order by table_name, ordinal_position`;
  const constraints = await sql<{ c: string }[]>`
    select tc.table_name || ' ' || tc.constraint_type || ' ' || tc.constraint_name || ' ('
           || (select string_agg(k.column_name, ',' order by k.ordinal_position) from information_schema.key_column_usage k
               where k.constraint_schema = tc.constraint_schema and k.constraint_name = tc.constraint_name) || ')'
           || coalesce(' -> ' || (select ccu.table_name from information_schema.referential_constraints rc
                join information_schema.constraint_column_usage ccu on ccu.constraint_schema = rc.unique_constraint_schema and ccu.constraint_name = rc.unique_constraint_name
                where rc.constraint_schema = tc.constraint_schema and rc.constraint_name = tc.constraint_name limit 1)
              || ' on delete ' || (select rc.delete_rule from information_schema.referential_constraints rc
                where rc.constraint_schema = tc.constraint_schema and rc.constraint_name = tc.constraint_name), '') as c
    from information_schema.table_constraints tc
    where tc.table_schema = ${schema} and tc.constraint_type in ('PRIMARY KEY', 'FOREIGN KEY', 'UNIQUE', 'CHECK')
      and tc.constraint_name not like '%_not_null'
    order by 1`;
  const indexes = await sql<{ i: string }[]>`
    select replace(indexdef, ${`${schema}.`}, '') as i from pg_indexes where schemaname = ${schema} order by indexname`;
  const comments = await sql<{ c: string }[]>`
    select c.relname || '.' || a.attname || ': ' || d.description as c
    from pg_description d join pg_class c on c.oid = d.objoid join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid
    where n.nspname = ${schema} and d.objsubid > 0 order by 1`;
  return {
    tables: tables.map((r) => r.t),
    columns: columns.map((r) => r.c),
    constraints: constraints.map((r) => r.c),
    indexes: indexes.map((r) => r.i),
    comments: comments.map((r) => r.c),
  };
}

/** The same snapshot without netraven-db's own version table, to compare with an ORM-built database. */
export function withoutVersionTable(snapshot: CatalogSnapshot): CatalogSnapshot {
  const keep = (line: string) => !line.includes("netraven_db_version");
  return {
    tables: snapshot.tables.filter(keep),
    columns: snapshot.columns.filter(keep),
    constraints: snapshot.constraints.filter(keep),
    indexes: snapshot.indexes.filter(keep),
    comments: snapshot.comments.filter(keep),
  };
}
