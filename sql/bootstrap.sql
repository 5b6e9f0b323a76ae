-- Database-level bootstrap for NetRaven, run by `netraven-db init` inside its single transaction.
-- :"schema" is filled in by netraven-db with the quoted schema name (psql's variable syntax, so
-- `psql -v schema=netraven -f sql/bootstrap.sql` runs the same file by hand).
-- Statements are separated by a semicolon at the end of a line; netraven-db runs them one by one.

-- The extensions the old init-db.sql installed, in public as before. No table uses them yet; the app may.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;

CREATE SCHEMA IF NOT EXISTS :"schema";
