-- Database-level facts for validate and init. $1 = schema name, $2 = table names, $3 = index names we define,
-- $4 = the name of netraven-db's version table.
-- Our own session sets no search_path, so current_schemas() is what the app's next connection will see; the
-- explicit settings (ALTER DATABASE / ALTER ROLE ... SET search_path) say whether that is persistent or an accident
-- of the role being named like the schema.
with version_table as (
  -- By OID, not by name: resolving "schema.table" needs USAGE on the schema, which a read-only role may lack.
  select c.oid, c.relnamespace from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = $1 and c.relname = $4 and c.relkind in ('r', 'p')
)
select
  coalesce((select json_agg(json_build_object('name', e.extname, 'schema', n.nspname, 'version', e.extversion) order by e.extname)
            from pg_extension e join pg_namespace n on n.oid = e.extnamespace), '[]'::json) as extensions,
  exists (select 1 from pg_namespace where nspname = $1) as schema_exists,
  to_json(current_schemas(false)) as search_path_schemas,
  current_setting('search_path') as search_path,
  coalesce((select json_agg(json_build_object('database', rs.setdatabase <> 0, 'role', rs.setrole <> 0, 'value', substr(s, 13)))
            from pg_db_role_setting rs, unnest(rs.setconfig) s
            where rs.setdatabase in (0, (select oid from pg_database where datname = current_database()))
              and rs.setrole in (0, (select oid from pg_roles where rolname = current_user))
              and s like 'search_path=%'), '[]'::json) as search_path_settings,
  exists (select 1 from version_table) as has_version_table,
  coalesce((select has_schema_privilege(v.relnamespace, 'usage') and has_table_privilege(v.oid, 'select') from version_table v), false) as can_read_version,
  (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = $1 and c.relkind in ('r', 'p') and c.relname = any($2::text[]))::int as tables_present,
  (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = $1 and c.relkind = 'i' and c.relname = any($3::text[]))::int as indexes_present
