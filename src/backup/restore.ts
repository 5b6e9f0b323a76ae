// `restore`: replace the schema's data with a backup, atomically.
//
// Before touching the database the file is checked: SHA-256 against its manifest, or, without a manifest, a full
// parse. Then, in ONE transaction under the same lock init uses: bootstrap (extensions, schema, search_path),
// load every COPY block into a fresh staging schema (re-checking every block and row count as it streams),
// build keys, indexes and foreign keys there, and only at the end drop the old tables and move the new ones in.
// Any failure (bad row, lost connection, kill -9) rolls everything back: the old data stays exactly as it was.
// The file's SQL text is never executed: tables come from the definitions and data only through COPY.
import { basename } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { createExtension, persistSearchPath } from "../bootstrap.ts";
import { translateError, type Connection, type TransactionSql } from "../db.ts";
import { NetravenError } from "../errors.ts";
import { acquireSchemaLock } from "../lock.ts";
import { log } from "../log.ts";
import { waitForDrain } from "../streams.ts";
import { quoteIdent, quoteLiteral } from "../quote.ts";
import { allTables, EXTENSIONS, versionTable } from "../schema/index.ts";
import { SCHEMA_VERSION } from "../schema/migrations.ts";
import { renderBootstrap, renderTablesForLoad } from "../schema/render.ts";
import { TOOL_VERSION } from "../version.ts";
import type { Drift } from "../validate/diff.ts";
import { validateDatabase, validateTablesWithin, type ValidationResult } from "../validate/index.ts";
import { inspectDatabase, searchPathPersisted } from "../validate/inspect.ts";
import type { BackupHeader } from "./format.ts";
import { checkManifest, parseBackup, peekHeader } from "./verify.ts";

export interface RestorePlan {
  file: string;
  header: BackupHeader;
  database: string;
  schema: string;
  /** Defined tables in the target that hold rows, with PostgreSQL's row estimate. */
  replacing: Array<{ table: string; estimatedRows: number }>;
}

export interface RestoreOptions {
  file: string;
  /** Target schema; the backup's own schema when undefined. */
  schema?: string;
  lockTimeoutMs: number;
  /** Asked only when existing rows would be replaced; false aborts. */
  confirm(plan: RestorePlan): Promise<boolean>;
  /** verify --db: load into a staging schema, compare it with the definitions, roll everything back. */
  trial?: boolean;
}

export interface RestoreResult {
  file: string;
  database: string;
  schema: string;
  backupSchemaVersion: number;
  tables: Array<{ name: string; expected: number; restored: number }>;
  validation?: ValidationResult;
  trialDrifts?: Drift[];
  durationMs: number;
}

const ROLLBACK = Symbol("trial rollback");

/** Everything that can be checked without a database. Returns the header. */
export async function preflight(file: string): Promise<BackupHeader> {
  const manifest = await checkManifest(file);
  if (!manifest) {
    log.warn(`${basename(file)} has no manifest: checking the whole file before restoring`);
    await parseBackup(file);
  }
  const { header } = await peekHeader(file);
  if (header.schema_version > SCHEMA_VERSION) {
    throw new NetravenError("VERSION_TOO_NEW", `${basename(file)} holds schema version ${header.schema_version}, newer than this netraven-db knows (${SCHEMA_VERSION}); refusing to restore it`, {
      hint: "restore it with the netraven-db release that made it",
    });
  }
  return header;
}

async function rowsToReplace(connection: Connection, schema: string): Promise<RestorePlan["replacing"]> {
  const present = await connection.sql<{ table: string; estimate: number }[]>`
    select c.relname as table, greatest(c.reltuples, 0)::bigint::int as estimate
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind in ('r', 'p') and c.relname in ${connection.sql(allTables.map((t) => t.name))}`;
  const replacing: RestorePlan["replacing"] = [];
  for (const { table, estimate } of present) {
    const [row] = await connection.sql.unsafe<Array<{ any: boolean }>>(`select exists (select 1 from ${quoteIdent(schema)}.${quoteIdent(table)}) as any`);
    if (row!.any && table !== versionTable.name) replacing.push({ table, estimatedRows: Math.max(estimate, 1) });
  }
  return replacing;
}

/** Streams the file's COPY blocks into `staging`; the parser re-checks every block and row count on the way. */
async function load(tx: TransactionSql, file: string, staging: string): Promise<Array<{ name: string; rows: number }>> {
  let writable: Writable | undefined;
  const loaded: Array<{ name: string; rows: number }> = [];
  await parseBackup(file, {
    onBlockStart: async (block) => {
      const columns = block.columns.map(quoteIdent).join(", ");
      // FREEZE (allowed: the staging table was created in this transaction) writes the rows frozen and all-visible,
      // so the row count after the commit, the app's first reads and autovacuum do not rewrite every page to set
      // hint bits or freeze them. Nobody can see the rows before the commit anyway: the table itself is uncommitted.
      writable = (await tx.unsafe(`COPY ${quoteIdent(staging)}.${quoteIdent(block.table.name)} (${columns}) FROM STDIN WITH (FREEZE)`).writable()) as Writable;
    },
    onData: async (chunk) => {
      if (!writable!.write(chunk)) await waitForDrain(writable!);
    },
    onBlockEnd: async (block, rows) => {
      writable!.end();
      await finished(writable!);
      writable = undefined;
      loaded.push({ name: block.table.name, rows });
      log.debug(`loaded ${block.table.name}: ${rows} rows`);
    },
  }).catch((error) => {
    writable?.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  });
  return loaded;
}

/** Serial and identity columns continue after the restored rows (none in the NetRaven tables today). */
async function resetSequences(tx: TransactionSql, schema: string): Promise<void> {
  const owned = await tx<{ seq: string; tbl: string; col: string }[]>`
    select pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) as seq, c.relname as tbl, a.attname as col
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
      and pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) is not null`;
  for (const { seq, tbl, col } of owned) {
    await tx.unsafe(`select setval($1, coalesce((select max(${quoteIdent(col)}) from ${quoteIdent(schema)}.${quoteIdent(tbl)}), 0) + 1, false)`, [seq]);
  }
}

export async function restoreBackup(connection: Connection, header: BackupHeader, options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const schema = options.schema ?? header.schema;
  const database = connection.server.database;

  if (!options.trial) {
    const replacing = await rowsToReplace(connection, schema).catch((error) => {
      throw translateError(error, "reading the target schema");
    });
    if (replacing.length > 0 && !(await options.confirm({ file: options.file, header, database, schema, replacing }))) {
      throw new NetravenError("CONFIRMATION_REQUIRED", `restore of ${basename(options.file)} into database "${database}" was not confirmed; nothing was changed`);
    }
  }

  const staging = `nrdb_restore_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let loaded: Array<{ name: string; rows: number }> = [];
  let trialDrifts: Drift[] | undefined;
  try {
    await connection.sql.begin(async (tx) => {
      await acquireSchemaLock(tx, schema, options.lockTimeoutMs, "restore");
      const facts = await inspectDatabase(tx, schema);
      for (const statement of renderBootstrap(schema)) {
        const extension = EXTENSIONS.find((e) => statement.object === `extension ${e}`);
        if (extension && facts.extensions.some((e) => e.name === extension)) continue;
        if (extension) await createExtension(tx, statement);
        else await tx.unsafe(statement.sql);
      }
      if (!options.trial && !searchPathPersisted(facts, schema)) await persistSearchPath(tx, schema, database, facts);

      await tx.unsafe(`CREATE SCHEMA ${quoteIdent(staging)}`);
      const { before, after } = renderTablesForLoad(staging);
      await tx.unsafe(before.map((s) => s.sql).join(";\n")).simple();
      log.info(`Loading ${basename(options.file)} into database "${database}"`);
      loaded = await load(tx, options.file, staging);
      await tx.unsafe(after.map((s) => s.sql).join(";\n")).simple();

      if (options.trial) {
        trialDrifts = await validateTablesWithin(tx, staging);
        throw ROLLBACK;
      }

      // The swap: only now are the live tables touched. Waiting behind the app is bounded by --lock-timeout.
      await tx.unsafe(`SET LOCAL lock_timeout = ${quoteLiteral(`${options.lockTimeoutMs}ms`)}`);
      await tx.unsafe(`DROP TABLE IF EXISTS ${allTables.map((t) => `${quoteIdent(schema)}.${quoteIdent(t.name)}`).join(", ")}`);
      for (const table of allTables) await tx.unsafe(`ALTER TABLE ${quoteIdent(staging)}.${quoteIdent(table.name)} SET SCHEMA ${quoteIdent(schema)}`);
      await tx.unsafe(`DROP SCHEMA ${quoteIdent(staging)}`);
      const description = `restored from ${basename(options.file)} (backup of schema version ${header.schema_version}, ${header.started_at})`;
      await tx.unsafe(
        `INSERT INTO ${quoteIdent(schema)}.${quoteIdent(versionTable.name)} (version, description, kind, tool_version) VALUES ($1, $2, 'restore', $3) ON CONFLICT (version) DO NOTHING`,
        [SCHEMA_VERSION, description, TOOL_VERSION],
      );
      await resetSequences(tx, schema);
    });
  } catch (error) {
    if (error !== ROLLBACK) {
      const failure = translateError(error, options.trial ? "trial restore" : "restore");
      // In a trial, data the server rejects (integrity 23xxx, data exceptions 22xxx) means the file is bad.
      if (options.trial && /^2[23]/.test((error as { code?: string }).code ?? "")) {
        throw new NetravenError("BACKUP_INVALID", `${basename(options.file)} does not restore: ${failure.message.replace(/^trial restore: /, "")}`, { cause: error });
      }
      if ((error as { code?: string }).code === "2BP01") {
        throw new NetravenError("SQL_FAILED", `${failure.message}; nothing was changed`, {
          hint: "other objects depend on the NetRaven tables: drop them first, or restore into another database with --target-db",
        });
      }
      throw new NetravenError(failure.code, `${failure.message}; nothing was changed`, { hint: failure.hint, cause: error });
    }
  }

  const expected = new Map(header.tables.map((t) => [t.name, t.rows]));
  if (options.trial) {
    return {
      file: options.file,
      database,
      schema: staging,
      backupSchemaVersion: header.schema_version,
      tables: loaded.map((t) => ({ name: t.name, expected: expected.get(t.name) ?? 0, restored: t.rows })),
      trialDrifts,
      durationMs: Date.now() - started,
    };
  }

  // Afterwards: what is in the database now, counted by the server, and a full validate.
  const tables: RestoreResult["tables"] = [];
  for (const t of header.tables) {
    const [row] = await connection.sql.unsafe<Array<{ n: number }>>(`select count(*)::int as n from ${quoteIdent(schema)}.${quoteIdent(t.name)}`);
    tables.push({ name: t.name, expected: t.rows, restored: row!.n });
  }
  const validation = await validateDatabase(connection.sql, schema);
  return { file: options.file, database, schema, backupSchemaVersion: header.schema_version, tables, validation, durationMs: Date.now() - started };
}
