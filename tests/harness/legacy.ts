// Builds a database the way NetRaven's old setup did: the init-db.sql bootstrap and the ORM's create_all DDL
// (tests/fixtures), run with psql. `asRole` reproduces production, where the login role is called `netraven` and
// the tables land in schema netraven only because "$user" resolves to it.
import { join } from "node:path";
import { psql, testServer } from "./db.ts";

const fixtures = join(import.meta.dir, "..", "fixtures");

export function loadLegacySchema(url: string): void {
  psql(url, ["-f", join(fixtures, "netraven-bootstrap.sql"), "-f", join(fixtures, "netraven-orm.sql")]);
}

/** A `netraven` login role owning `database`; returns its URL. Idempotent across tests. */
export function legacyRoleUrl(adminUrl: string, database: string, role = "netraven"): string {
  const password = `${role}-pw-123`;
  psql(adminUrl, ["-c", `do $$ begin if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role} login password '${password}'; end if; end $$`]);
  psql(adminUrl, ["-c", `alter database "${database}" owner to ${role}`]);
  const server = testServer();
  return `postgresql://${role}:${encodeURIComponent(password)}@${server.host.startsWith("/") ? "127.0.0.1" : server.host}:${server.port}/${database}`;
}
