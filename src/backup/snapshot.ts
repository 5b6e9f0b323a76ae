// One point in time shared by several connections: the parallel backup's first connection exports the snapshot of
// its REPEATABLE READ READ ONLY transaction (pg_export_snapshot), and every other connection starts a transaction of
// the same kind that imports it (SET TRANSACTION SNAPSHOT, which must be its first statement). All of them then see
// exactly the same rows, so foreign keys hold across tables read by different connections, as with pg_dump -j. The
// exporting transaction must stay open until every importer has started; the backup keeps it open to the end.
import { type Connection, type Sql, type TransactionSql } from "../db.ts";
import { quoteLiteral } from "../quote.ts";

export async function exportSnapshot(tx: TransactionSql): Promise<string> {
  const [row] = await tx<{ id: string }[]>`select pg_export_snapshot() as id`;
  return row!.id;
}

/** A further connection to the same database, as the first was made (settings, TLS, application name). */
export function openReader(connection: Connection): Sql {
  return connection.another();
}

/** Runs `work` in a REPEATABLE READ READ ONLY transaction on `sql` that sees the exported `snapshot`. */
export function withSnapshot<T>(sql: Sql, snapshot: string, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
  return sql.begin("isolation level repeatable read read only", async (tx: TransactionSql) => {
    await tx.unsafe(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
    return work(tx);
  }) as Promise<T>;
}
