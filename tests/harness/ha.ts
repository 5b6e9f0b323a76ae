// A primary and a hot standby streaming from it (cluster.ts createCluster + createStandby), for the tests of
// multi-host connection strings, target_session_attrs and failover. Both run as the unprivileged user like the
// shared test server; destroy() stops both and removes their directories, and is safe to call twice.
import postgres from "postgres";
import { createCluster, createStandby, type Cluster } from "./cluster.ts";

export interface Pair {
  primary: Cluster;
  standby: Cluster;
  /** postgres.js on the primary, for arranging and checking data. */
  sql(database?: string): postgres.Sql;
  /** Resolves once the standby has replayed everything the primary has written so far. */
  waitForStandby(): Promise<void>;
  destroy(): Promise<void>;
}

export async function createPair(): Promise<Pair> {
  const primary = await createCluster({ tls: true });
  let standby: Cluster;
  try {
    standby = await createStandby(primary);
  } catch (error) {
    primary.destroy();
    throw error;
  }
  const clients = new Map<string, postgres.Sql>();
  const sql = (database = "postgres") => {
    let client = clients.get(database);
    if (!client) {
      client = postgres(primary.url(database), { max: 2, onnotice: () => undefined, idle_timeout: 5, ssl: false });
      clients.set(database, client);
    }
    return client;
  };
  let destroyed = false;
  return {
    primary,
    standby,
    sql,
    async waitForStandby() {
      const [row] = await sql()`select pg_current_wal_lsn()::text as lsn`;
      const replica = postgres(standby.url("postgres"), { max: 1, onnotice: () => undefined, ssl: false });
      try {
        for (let i = 0; i < 300; i++) {
          const [state] = await replica`select pg_last_wal_replay_lsn() >= ${row!.lsn}::pg_lsn as caught_up`;
          if (state?.caught_up) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error("the standby did not catch up within 30 s");
      } finally {
        await replica.end({ timeout: 1 });
      }
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      // The servers go first and synchronously: an `unload` handler (Deno) cannot wait for anything.
      standby.destroy();
      primary.destroy();
      for (const client of clients.values()) await client.end({ timeout: 0 }).catch(() => undefined);
    },
  };
}
