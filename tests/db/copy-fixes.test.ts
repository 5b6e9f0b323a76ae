// The two postgres.js 3.4.9 COPY bugs that build/patch-postgres.mjs fixes (findings.md; upstream PR #1016 and
// issue #1173 / PR #1183). Without the patch, both of these tests hang until their timeout.
import { describe, expect, test } from "bun:test";
import { finished } from "node:stream/promises";
import type { Readable, Writable } from "node:stream";
import { client, createTestDatabase } from "../harness/db.ts";

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: hung for ${ms} ms`)), ms))]);

describe("postgres.js COPY fixes", () => {
  test("a query after COPY TO STDOUT with a slow consumer does not hang (PR #1016)", async () => {
    const db = await createTestDatabase();
    const sql = client(db.url, { max: 1 });
    try {
      await sql`create table big as select g as id, repeat('x', 200) as pad from generate_series(1, 20000) g`;
      for (let round = 0; round < 5; round++) {
        const readable = (await sql`copy big to stdout`.readable()) as Readable;
        let bytes = 0;
        // A consumer slower than the socket fills the stream's buffer, which pauses the socket; CopyDone then
        // arrives while it is paused.
        for await (const chunk of readable) {
          bytes += (chunk as Buffer).length;
          if (bytes % 50 === 0) await Bun.sleep(0);
        }
        expect(bytes).toBeGreaterThan(4_000_000);
        const [row] = await withTimeout(sql`select count(*)::int as n from big`, 5000, "query after COPY");
        expect(row!.n).toBe(20000);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  test("a server error at the end of COPY FROM STDIN rejects and rolls back (issue #1173)", async () => {
    const db = await createTestDatabase();
    const sql = client(db.url, { max: 1 });
    try {
      await sql`create table target (id int primary key, note text not null)`;
      const attempt = sql.begin(async (tx) => {
        const writable = (await tx`copy target (id, note) from stdin`.writable()) as Writable;
        writable.write("1\tfine\n");
        writable.write("2\t\\N\n"); // NOT NULL violation, reported when the COPY completes
        writable.end();
        await finished(writable);
      });
      const error = await withTimeout(attempt.then(() => undefined, (e) => e), 5000, "COPY FROM with a bad row");
      expect(error).toBeDefined();
      expect((error as { code?: string }).code).toBe("23502");
      // The connection is usable and not stuck "idle in transaction (aborted)".
      const [row] = await withTimeout(sql`select count(*)::int as n from target`, 5000, "query after failed COPY");
      expect(row!.n).toBe(0);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
