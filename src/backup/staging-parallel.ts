// `restore --jobs N`: the backup loaded into a staging schema over N connections. The file is read once, in order;
// each table's COPY block goes to the next free connection, which creates that staging table and COPYs into it WITH
// (FREEZE) in one transaction of its own and commits, while the reader goes on with the next block. Then primary
// keys, indexes and comments are built table by table on all connections at once, and the foreign keys after them.
// The staging schema is committed (other connections must see it) but it is private: its name is unique, nothing
// reads it, and the restore's own transaction holds an advisory lock on it until it ends; the live tables are only
// touched by the swap in that transaction. A restore that fails drops the schema; one that was killed leaves it,
// and the next restore drops every staging schema whose lock nobody holds (removeStaleStaging in staging.ts).
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type Connection, type Sql, type TransactionSql } from "../db.ts";
import { log } from "../log.ts";
import { quoteIdent } from "../quote.ts";
import { allTables, tablesInCreateOrder, type TableDef } from "../schema/index.ts";
import { renderComments, renderCreateTable, renderForeignKeys, renderIndex, renderPrimaryKey } from "../schema/render.ts";
import type { BackupStore } from "../storage/store.ts";
import { waitForDrain } from "../streams.ts";
import type { StagingOptions } from "./staging.ts";
import { toastCompressionForLoad } from "./toast.ts";
import { readWithProgress, type CheckedBackup } from "./verify.ts";

interface Load {
  writable: Writable;
  /** Settles when the table's transaction has committed (or failed). */
  committed: Promise<void>;
  /** The rows the reader counted in the block: how large the table's index builds are. */
  setRows(rows: number): void;
}

/** Statements run in order on one connection: a table's primary key and comments, or one of its other indexes. */
interface Build {
  rows: number;
  statements: string[];
  /** Builds that may start once this one is done (a table's indexes wait for its primary key: both lock the table). */
  then: Build[];
}

/** Runs `work` on each of `items` over the connections in `pool`, as many at once as there are connections. */
async function spread<T>(pool: Sql[], items: readonly T[], work: (sql: Sql, item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    pool.map(async (sql) => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(sql, item);
    }),
  );
}

/** A table's key, indexes and comments as builds: the key first, then each index on whichever connection is free. */
function buildsFor(def: TableDef, rows: number, staging: string): Build {
  const indexes: Build[] = def.indexes.map((ix) => ({ rows, statements: [renderIndex(def, ix, staging).sql], then: [] }));
  return { rows, statements: [...renderPrimaryKey(def, staging), ...renderComments(def, staging)].map((s) => s.sql), then: indexes };
}

export async function loadIntoStagingParallel(connection: Connection, jobs: number, store: BackupStore, name: string, backup: CheckedBackup, staging: string, options: StagingOptions): Promise<Array<{ name: string; rows: number }>> {
  const pool: Sql[] = Array.from({ length: jobs }, () => connection.another());
  const free: Sql[] = [...pool];
  // The reader comes first: it streams the file, and a COPY it waits for holds up every table after it.
  const waiters: Array<(sql: Sql) => void> = [];
  // Tables already committed get their keys and indexes while the reader goes on (like pg_restore -j), on at most
  // jobs - 1 connections until the file is read, then on all of them, largest table first.
  const builds: Build[] = [];
  let building = 0;
  let reading = true;
  let idle: { resolve(): void; reject(error: unknown): void } | undefined;
  let failure: unknown;
  let failed = false;
  const fail = (error: unknown): void => {
    failure ??= error;
    idle?.reject(failure);
  };
  const dispatch = (): void => {
    while (free.length > 0) {
      if (waiters.length > 0) waiters.shift()!(free.pop()!);
      else if (failure === undefined && builds.length > 0 && building < (reading ? jobs - 1 : jobs)) runBuild(free.pop()!);
      else break;
    }
    if (!reading && building === 0 && builds.length === 0) idle?.resolve();
  };
  const release = (sql: Sql): void => {
    free.push(sql);
    dispatch();
  };
  const runBuild = (sql: Sql): void => {
    builds.sort((a, b) => b.rows - a.rows);
    const build = builds.shift()!;
    building++;
    // While the file is read, a build gets no parallel workers: the COPY in progress is the critical path, and
    // the workers would take the cores it and the reader need. Afterwards the server's own setting applies again.
    const workers = reading ? "SET max_parallel_maintenance_workers = 0" : "RESET max_parallel_maintenance_workers";
    void (async () => {
      await sql.unsafe(workers);
      for (const statement of build.statements) await sql.unsafe(statement);
    })().then(
      () => {
        building--;
        builds.push(...build.then);
        release(sql);
      },
      (error) => {
        building--;
        fail(error);
        release(sql);
      },
    );
  };
  const acquire = () => (free.length ? Promise.resolve(free.pop()!) : new Promise<Sql>((resolve) => waiters.push(resolve)));
  const commits: Promise<void>[] = [];
  let load: Load | undefined;
  const loaded: Array<{ name: string; rows: number }> = [];
  try {
    const toast = await toastCompressionForLoad(pool[0]!);
    await pool[0]!.unsafe(`CREATE SCHEMA ${quoteIdent(staging)}`);
    await readWithProgress(
      store,
      name,
      backup.dataBytes,
      options,
      {
        onBlockStart: async (block) => {
          if (failure) throw failure;
          const sql = await acquire();
          if (failure) {
            release(sql);
            throw failure;
          }
          const columns = block.columns.map(quoteIdent).join(", ");
          let opened!: (writable: Writable) => void;
          const writable = new Promise<Writable>((resolve) => (opened = resolve));
          let rows = 0;
          const committed = sql
            .begin(async (tx: TransactionSql) => {
              if (toast) await tx.unsafe(toast);
              await tx.unsafe(renderCreateTable(block.table, staging, { keys: false }).sql);
              // FREEZE: the table was created in this transaction (see staging.ts).
              const copy = (await tx.unsafe(`COPY ${quoteIdent(staging)}.${quoteIdent(block.table.name)} (${columns}) FROM STDIN WITH (FREEZE)`).writable()) as Writable;
              opened(copy);
              await finished(copy);
            })
            .then(
              () => {
                builds.push(buildsFor(block.table, rows, staging));
                release(sql);
              },
              (error) => {
                fail(error);
                release(sql);
                throw error;
              },
            );
          committed.catch(() => undefined);
          commits.push(committed);
          load = { writable: await Promise.race([writable, committed.then(() => writable)]), committed, setRows: (n: number) => (rows = n) };
        },
        onData: async (chunk) => {
          if (failure) throw failure;
          if (!load!.writable.write(chunk)) await Promise.race([waitForDrain(load!.writable), load!.committed]);
        },
        onBlockEnd: async (block, rows) => {
          load!.setRows(rows);
          load!.writable.end();
          load = undefined;
          loaded.push({ name: block.table.name, rows });
          log.debug(`loading ${block.table.name}: ${rows} rows sent`);
        },
      },
      "Loading",
    ).catch((error) => {
      // Ends the COPY with CopyFail, so the server rolls that table's transaction back.
      load?.writable.on("error", () => undefined).destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
    await Promise.all(commits);
    if (failure) throw failure;
    options.onProgress?.({ step: "Building keys, indexes and foreign keys", done: 0 });
    // Tables the backup holds no block for (none today, but the swap moves every defined table).
    const missing = allTables.filter((t) => !loaded.some((l) => l.name === t.name));
    await Promise.all(missing.map((def) => pool[0]!.unsafe(renderCreateTable(def, staging, { keys: false }).sql)));
    builds.push(...missing.map((def) => buildsFor(def, 0, staging)));
    const done = new Promise<void>((resolve, reject) => (idle = { resolve, reject }));
    done.catch(() => undefined);
    if (failure) throw failure;
    reading = false;
    dispatch();
    await done;
    options.signal?.throwIfAborted();
    // Foreign keys once every key exists, one table's keys per connection at a time.
    await spread(pool, tablesInCreateOrder(), async (sql, def) => {
      for (const s of renderForeignKeys(def, staging)) await sql.unsafe(s.sql);
    });
    return loaded;
  } catch (error) {
    failure ??= error;
    failed = true;
    throw failure;
  } finally {
    // After a failure, statements still running (an index build, a COPY) are cut, not waited for.
    await Promise.all(pool.map((sql) => sql.end({ timeout: failed ? 0 : 5 }).catch(() => undefined)));
    await Promise.all(commits.map((c) => c.catch(() => undefined)));
  }
}
