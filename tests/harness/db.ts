// Per-test databases on the shared test server. Each test asks for its own database, so tests run in any order
// and leave nothing behind that another test could see. Test code may use postgres.js directly to arrange and
// inspect data: the database is real, only the arrangement is shortcut.
import { spawnSync } from "node:child_process";
import postgres from "postgres";
import type { TestServer } from "./server.ts";

let current: TestServer | undefined;
const created: string[] = [];
let admin: postgres.Sql | undefined;
let counter = 0;

export function setTestServer(server: TestServer): void {
  current = server;
}

export function testServer(): TestServer {
  if (!current) throw new Error("no test server: tests must run under `bun test` with tests/harness/preload.ts (see bunfig.toml)");
  return current;
}

export function client(url: string, options: postgres.Options<Record<string, never>> = {}) {
  return postgres(url, { max: 2, onnotice: () => undefined, idle_timeout: 5, ...options });
}

export function adminSql(): postgres.Sql {
  admin ??= client(testServer().url("postgres"));
  return admin;
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Environment for the binary: just DATABASE_URL. */
  env: Record<string, string>;
  sql: postgres.Sql;
}

export async function createTestDatabase(prefix = "nrt"): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 7)}`;
  await adminSql().unsafe(`create database "${name}"`);
  created.push(name);
  const url = testServer().url(name);
  return { name, url, env: { DATABASE_URL: url }, sql: client(url) };
}

/**
 * At the end of a run: drops every database the tests created, one by one, when the server is not ours to throw
 * away (DATABASE_URL). A throwaway cluster or container goes as a whole, so there `dropEach` is false: each DROP
 * DATABASE costs a checkpoint (about 0.1 s measured here, hundreds of databases per run), minutes for nothing.
 */
export async function dropCreatedDatabases({ dropEach = true }: { dropEach?: boolean } = {}): Promise<void> {
  const names = created.splice(0);
  if (!admin && (!dropEach || names.length === 0)) return;
  const sql = adminSql();
  if (dropEach) {
    for (const name of names) await sql.unsafe(`drop database if exists "${name}" with (force)`).catch(() => undefined);
  }
  await sql.end({ timeout: 1 });
  admin = undefined;
}

/** psql with ON_ERROR_STOP; returns output or throws with stderr. */
export function psql(url: string, args: string[], input?: string): string {
  const result = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, ...args], { encoding: "utf8", input });
  if (result.status !== 0) throw new Error(`psql ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}
