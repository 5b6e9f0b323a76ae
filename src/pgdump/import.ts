// `restore FILE --from-pg-dump`: bring an old `pg_dump` script of the NetRaven database (what the old backup script
// made) into a database safely. The file's SQL is never executed:
//   1. without a database: the whole file is read and every statement recognised (read.ts); anything that is not
//      what pg_dump writes for the NetRaven tables refuses the file with the line and the reason;
//   2. its tables, keys and indexes, re-rendered from what was recognised, are compared with the definitions in
//      temporary tables on the server (schema-check.ts), with adoption's verdict;
//   3. then exactly as a restore: confirmation, one transaction under the schema lock, the tables built from the
//      definitions in a staging schema, the dump's COPY data streamed into them (the file read again and checked
//      again, and it must be the same bytes), keys and indexes, the swap; any failure keeps the old data;
//   4. row counts compared with the rows counted in the dump, and a full validate.
import { bootstrap } from "../bootstrap.ts";
import { inspectDatabase } from "../catalog/inspect.ts";
import { translateError, type Connection } from "../db.ts";
import { Errors } from "../errors.ts";
import { acquireSchemaLock } from "../lock.ts";
import { log } from "../log.ts";
import { quoteIdent } from "../quote.ts";
import { allTables, versionTable } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import type { BackupStore } from "../storage/store.ts";
import { validateDatabase, type ValidationResult } from "../validate/index.ts";
import { driftLines } from "../validate/report.ts";
import { isEncryptedBackup, readHeader } from "../backup/plaintext.ts";
import { restoreFailure, rowsToReplace, swapIn, type RestorePlan } from "../backup/restore.ts";
import { loadBlocksIntoStaging, stagingSchemaName, type StagingOptions } from "../backup/staging.ts";
import { foreignFileError, recogniseForeignFile } from "./detect.ts";
import { readPgDump, type PgDumpSummary } from "./read.ts";
import { checkDumpSchema, type SchemaVerdict } from "./schema-check.ts";

/** What the confirmation shows: the data that would be replaced, and by what. */
export interface ReplacePlan {
  name: string;
  database: string;
  schema: string;
  replacing: RestorePlan["replacing"];
  /** What replaces it, in words. */
  replacement: string;
}

export interface ImportOptions extends StagingOptions {
  /** Target schema; the dump's own schema when undefined. */
  schema?: string;
  lockTimeoutMs: number;
  /** Asked only when existing rows would be replaced; false aborts. */
  confirm(plan: ReplacePlan): Promise<boolean>;
}

export interface ImportResult {
  name: string;
  database: string;
  schema: string;
  /** The schema version the dump's netraven_db_version records, or null (a database the ORM built). */
  dumpSchemaVersion: number | null;
  tables: Array<{ name: string; expected: number; restored: number }>;
  verdict: SchemaVerdict;
  validation: ValidationResult;
  durationMs: number;
}

const rowsIn = (dump: PgDumpSummary) => dump.model.tables.reduce((n, t) => n + (t.data?.rows ?? 0), 0);

/** In words, for the confirmation and the version table. */
export function describeDump(name: string, dump: PgDumpSummary): string {
  const by = dump.pgDumpVersion ? `pg_dump ${dump.pgDumpVersion}` : "pg_dump";
  return `${name} (a ${by} file; ${dump.model.tables.length} tables, ${rowsIn(dump)} rows)`;
}

/** Everything that can be checked without a database: what the file is, then all of it. */
export async function preflightPgDump(store: BackupStore, name: string, options: StagingOptions = {}): Promise<PgDumpSummary> {
  const foreign = await recogniseForeignFile(store, name);
  if (foreign?.kind === "empty") throw foreignFileError(name, store.describe(name), foreign);
  if (!foreign) {
    const ours = (await isEncryptedBackup(store, name).catch(() => false)) || (await readHeader(store, name).then(() => true, () => false));
    if (ours) throw Errors.usage(`${name} is a netraven-db backup, not a pg_dump file: restore it without --from-pg-dump`);
    throw Errors.badBackup(name, "not a pg_dump script (it does not start with pg_dump's \"-- PostgreSQL database dump\" lines); not imported");
  }
  const dump = await readPgDump(store, name, { onProgress: options.onProgress, signal: options.signal, step: "Checking" });
  const newest = Math.max(0, ...dump.model.versions);
  if (newest > SCHEMA_VERSION) throw Errors.newerSchema(name, newest, SCHEMA_VERSION, "refusing to import it", "import it with the netraven-db release that made the database it was dumped from");
  return dump;
}

export async function importPgDump(connection: Connection, store: BackupStore, name: string, dump: PgDumpSummary, options: ImportOptions): Promise<ImportResult> {
  const started = Date.now();
  const schema = options.schema ?? dump.model.schema;
  const database = connection.server.database;

  const verdict = await checkDumpSchema(connection.sql, name, dump.model);
  if (verdict.refused.length > 0) {
    throw Errors.drift(`${name}: its tables differ from the NetRaven schema in ${verdict.refused.length} way${verdict.refused.length === 1 ? "" : "s"}; not imported, nothing was changed`, "the dump is not of the NetRaven schema netraven-db knows (see the differences above)", {
      lines: driftLines(verdict.refused),
      differences: verdict.refused.map((d) => ({ kind: d.kind, object: d.object, expected: d.expected, found: d.found })),
    });
  }
  for (const d of verdict.missing) log.info(`The dump lacks ${d.object}: it is built from the definitions${d.kind === "TABLE_MISSING" ? " and restored empty" : ""}`);
  for (const d of verdict.notCarried) log.warn(`Not carried over: ${d.object} (${d.found ?? "present"}) is in the dump but not in the definitions`);
  const { owners, privileges } = dump.model.ignored;
  if (owners + privileges > 0) log.info(`Owners and privileges in the dump (${owners + privileges} statements) are not applied: the restored tables belong to the role that restores them`);

  const replacing = await rowsToReplace(connection, schema).catch((error) => {
    throw translateError(error, "reading the target schema");
  });
  if (replacing.length > 0 && !(await options.confirm({ name, database, schema, replacing, replacement: describeDump(name, dump) }))) throw Errors.notConfirmed(name, database);

  const staging = stagingSchemaName();
  try {
    await connection.sql.begin(async (tx) => {
      await acquireSchemaLock(tx, schema, options.lockTimeoutMs, "restore", options.signal);
      await bootstrap(tx, schema, database, await inspectDatabase(tx, schema), { searchPath: true });
      log.info(`Loading ${name} into database "${database}"`);
      let again: PgDumpSummary | undefined;
      await loadBlocksIntoStaging(tx, staging, options, async (handlers) => {
        again = await readPgDump(store, name, { handlers, onProgress: options.onProgress, signal: options.signal, step: "Loading" });
      });
      // What was loaded is what was checked: the same bytes, read twice.
      if (again!.digest.sha256 !== dump.digest.sha256) throw Errors.badBackup(name, "the file changed while it was being imported");
      options.signal?.throwIfAborted();
      await swapIn(tx, staging, schema, `imported from ${describeDump(name, dump)}`, options.lockTimeoutMs);
    });
  } catch (error) {
    throw restoreFailure(error);
  }

  // Afterwards: what is in the database now, counted by the server, against the rows counted in the dump.
  const dumped = new Map(dump.model.tables.map((t) => [t.name, t.data?.rows ?? 0]));
  const tables: ImportResult["tables"] = [];
  for (const table of allTables) {
    let expected = dumped.get(table.name) ?? 0;
    if (table.name === versionTable.name && !dump.model.versions.includes(SCHEMA_VERSION)) expected++; // the import records itself
    const [row] = await connection.sql.unsafe<Array<{ n: number }>>(`select count(*)::int as n from ${quoteIdent(schema)}.${quoteIdent(table.name)}`);
    tables.push({ name: table.name, expected, restored: row!.n });
  }
  const validation = await validateDatabase(connection.sql, schema);
  const dumpSchemaVersion = dump.model.versions.length ? Math.max(...dump.model.versions) : null;
  return { name, database, schema, dumpSchemaVersion, tables, verdict, validation, durationMs: Date.now() - started };
}
