// Builds a database the way NetRaven's old setup did: the init-db.sql bootstrap and the ORM's create_all DDL
// (tests/fixtures), run with psql. `asRole` reproduces production, where the login role is called `netraven` and
// the tables land in schema netraven only because "$user" resolves to it.
import { spawnSync } from "node:child_process";
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

/**
 * Exactly NetRaven's old backup script (scripts/backup_db.sh): `pg_dump -h HOST -U USER DB | gzip > FILE`, the
 * password in PGPASSWORD, no pipefail, so a failed pg_dump still "succeeds" and leaves a 20-byte gzip.
 */
export function oldBackupScript(url: string, file: string): void {
  const u = new URL(url);
  const result = spawnSync("bash", ["-c", `pg_dump -h "$H" -p "$P" -U "$U" "$D" | gzip > "$F"`], {
    env: { PATH: process.env.PATH, PGPASSWORD: decodeURIComponent(u.password), H: u.hostname, P: u.port, U: decodeURIComponent(u.username), D: decodeURIComponent(u.pathname.slice(1)), F: file },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`the old backup script failed: ${result.stderr}`);
}
