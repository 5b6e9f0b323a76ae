-- init's fast path: is every object init creates in place? One statement, sent together with the connection's first
-- query, that a new backend answers in a few milliseconds: names are resolved through the catalog caches
-- (to_regnamespace, to_regclass) instead of planned scans of pg_class, which cost a new backend about 3 ms each.
-- Only names are checked; what kind of relation each is, and every column and key, is what init's full path and
-- `validate` compare. Anything missing sends init down the full path, which inspects everything under the lock.
-- $1 = the schema as a quoted identifier, $2 = every table and index init creates, as quoted qualified names.
select
  to_regnamespace($1) is not null as schema_exists,
  -- JSON, which our connections parse without asking the server for array types first.
  to_json(array(select r from unnest($2::text[]) r where to_regclass(r) is not null)) as present,
  to_json(array(select extname from pg_extension)) as extensions,
  -- As inspect-database.sql, with to_regrole for the role (a cache lookup, not a scan of the pg_roles view).
  coalesce((select json_agg(json_build_object('database', rs.setdatabase <> 0, 'role', rs.setrole <> 0, 'value', substr(s, 13)))
            from pg_db_role_setting rs, unnest(rs.setconfig) s
            where rs.setdatabase in (0, (select oid from pg_database where datname = current_database()))
              and rs.setrole in (0, to_regrole(quote_ident(current_user)))
              and s like 'search_path=%'), '[]'::json) as search_path_settings
