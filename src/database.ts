// Databases on the server: `restore --target-db` creates the one it restores into when it does not exist yet.
import { translateError, type Connection } from "./db.ts";
import { Errors } from "./errors.ts";
import { log } from "./log.ts";
import { quoteIdent } from "./quote.ts";

export async function createDatabase(connection: Connection, name: string): Promise<void> {
  try {
    await connection.sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (error) {
    const failure = translateError(error, `cannot create database "${name}"`);
    // A missing CREATEDB privilege is a refusal by the server (exit 5), like every other missing privilege.
    if (failure.code === "PERMISSION_DENIED") throw Errors.permissionDenied(failure.message, "the role needs the CREATEDB privilege (ALTER ROLE ... CREATEDB), or create the database first", error);
    throw failure;
  }
  log.info(`Created database "${name}"`);
}
