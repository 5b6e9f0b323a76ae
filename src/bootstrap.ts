// Database-level steps shared by init and restore: the extensions (created so that a concurrent creator cannot
// make us fail), the schema, and a persistent search_path that works whether or not we own the database.
import type { TransactionSql } from "./db.ts";
import { log } from "./log.ts";
import { EXTENSIONS } from "./schema/index.ts";
import { renderBootstrap, renderRoleSearchPath, renderSearchPath, type Statement } from "./schema/render.ts";
import { searchPathPersisted, type DatabaseFacts } from "./catalog/inspect.ts";

/**
 * Brings the database to where tables can be created in `schema`: missing extensions, the schema, and (unless
 * `searchPath` is false, as for a trial restore) a persistent search_path. Returns the statements, in order;
 * under `dryRun` nothing runs.
 */
export async function bootstrap(tx: TransactionSql, schema: string, database: string, facts: DatabaseFacts, options: { searchPath: boolean; dryRun?: boolean }): Promise<Statement[]> {
  const done: Statement[] = [];
  const present = new Set(facts.extensions.map((e) => e.name));
  for (const statement of renderBootstrap(schema)) {
    const extension = EXTENSIONS.find((name) => statement.object === `extension ${name}`);
    if (extension && present.has(extension)) continue;
    if (!options.dryRun) await (extension ? createExtension(tx, statement) : tx.unsafe(statement.sql));
    done.push(statement);
  }
  if (options.searchPath && !searchPathPersisted(facts, schema)) done.push(await persistSearchPath(tx, schema, database, facts, options.dryRun));
  return done;
}

/** CREATE EXTENSION IF NOT EXISTS can still collide with a session that is not netraven-db: retry after a savepoint. */
export async function createExtension(tx: TransactionSql, statement: Statement): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await tx.savepoint((sp) => sp.unsafe(statement.sql));
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt < 3 && (code === "23505" || code === "42710" || code === "XX000")) continue;
      throw error;
    }
  }
}

/**
 * Makes new sessions find `schema` first. ALTER DATABASE needs ownership and loses to a role-level setting; in
 * either case the setting goes on this role in this database instead. Returns the statement that ran.
 */
export async function persistSearchPath(tx: TransactionSql, schema: string, database: string, facts: DatabaseFacts, dryRun = false): Promise<Statement> {
  const forDatabase = renderSearchPath(schema, database);
  const forRole = renderRoleSearchPath(schema, database);
  const roleSetting = facts.searchPathSettings.some((s) => s.role);
  if (dryRun) return roleSetting ? forRole : forDatabase;
  if (!roleSetting) {
    try {
      await tx.savepoint((sp) => sp.unsafe(forDatabase.sql));
      return forDatabase;
    } catch (error) {
      if ((error as { code?: string }).code !== "42501") throw error;
      log.debug("not the database owner: persisting search_path for this role in this database instead");
    }
  }
  await tx.unsafe(forRole.sql);
  return forRole;
}
