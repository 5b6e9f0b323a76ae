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
  -- The rows inspect-database.sql filters and unnests for search_path, as they are: quick-check.ts picks this
  -- database's and this role's search_path entries. Doing that here (a join, unnest and aggregate) cost a new
  -- backend ~1.7 ms more; the table holds a handful of rows. to_regrole: a cache lookup, not a scan of pg_roles.
  (select oid from pg_database where datname = current_database())::text as database_oid,
  to_regrole(quote_ident(current_user))::oid::text as role_oid,
  to_json(array(select json_build_array(setdatabase::text, setrole::text, setconfig) from pg_db_role_setting)) as role_settings
