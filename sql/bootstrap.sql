-- Database-level bootstrap for NetRaven, run by `netraven-db init` (and `restore`) inside its single transaction,
-- after the extensions the app needs (listed once, in src/schema/index.ts: "uuid-ossp" and pgcrypto, created in
-- schema public as the old init-db.sql did).
-- :"schema" is filled in by netraven-db with the quoted schema name (psql's variable syntax, so
-- `psql -v schema=netraven -f sql/bootstrap.sql` runs the same file by hand).
-- Statements are separated by a semicolon at the end of a line; netraven-db runs them one by one.

CREATE SCHEMA IF NOT EXISTS :"schema";
