// How a restore compresses the values PostgreSQL moves out of line (TOAST): the configuration texts that are most
// of a NetRaven database. With the server's built-in default, pglz, compressing them was about 44 % of the
// server's CPU during a load; lz4 (PostgreSQL 14 and later, when built with it, as Debian's and the official
// images are) takes a fraction of that, restores 500 MB about 15 % faster and is faster to read back. It is set
// for the loading transactions only: the columns keep their default, so the schema is exactly the definitions',
// rows the app writes later use the server's setting, and every PostgreSQL that runs the database can read both.
// A DBA who chose a compression (postgresql.conf, ALTER SYSTEM/DATABASE/ROLE, PGOPTIONS) keeps it: we only
// replace the built-in default.
import type { Queryable } from "../db.ts";
import { log } from "../log.ts";

/** The `SET LOCAL` a loading transaction runs first, or undefined to keep the server's setting. */
export async function toastCompressionForLoad(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql<Array<{ lz4: boolean; source: string }>>`
    select 'lz4' = any(enumvals) as lz4, source from pg_settings where name = 'default_toast_compression'`;
  if (row?.lz4 && row.source === "default") {
    log.debug("long values are stored with lz4 (default_toast_compression is at its built-in default)");
    return "SET LOCAL default_toast_compression = lz4";
  }
  log.debug(row ? `long values are compressed as the server says (default_toast_compression from ${row.source}${row.lz4 ? "" : ", no lz4 in this build"})` : "this server has no default_toast_compression (before PostgreSQL 14)");
  return undefined;
}
