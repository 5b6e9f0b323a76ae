// The three postgres.js 3.4.9 bugs that build/patch-postgres.mjs fixes: two COPY bugs fixed upstream but unreleased
// (findings.md; PR #1016 and issue #1173 / PR #1183), whose tests hang until their timeout without the patch, and a
// write to a socket the server closed, whose test sees the child process die of a TypeError without it.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import type { Readable, Writable } from "node:stream";
import { createCluster } from "../harness/cluster.ts";
import { client, createTestDatabase } from "../harness/db.ts";

const SERVER_DIES_MID_COPY = join(import.meta.dir, "fixtures", "server-dies-mid-copy.ts");

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

  test("a server that dies mid-COPY rejects the transaction and nothing writes to the closed socket (netraven-db fix)", async () => {
    // When the socket closes, begin() rejects at once and, a few promise turns later, sends ROLLBACK for the failed
    // COPY. postgres.js queues that small write with setImmediate; closed() has already set the socket to null, so
    // without the fix the write throws a TypeError from the timer and the process dies. The server is stopped the
    // way tests/reliability/crashes.test.ts stops it mid-backup, so it needs a cluster of its own.
    const cluster = await createCluster();
    const child = spawn(process.execPath, [SERVER_DIES_MID_COPY, cluster.url()], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let stdout = "";
      let stderr = "";
      const copying = new Promise<void>((resolve) =>
        child.stdout.on("data", (data) => {
          stdout += data;
          if (stdout.includes("copying\n")) resolve();
        }),
      );
      child.stderr.on("data", (data) => (stderr += data));
      const exited = new Promise<number | string | null>((resolve) => child.on("close", (code, signal) => resolve(code ?? signal)));
      await withTimeout(Promise.race([copying, exited]), 30_000, "waiting for the COPY to start");
      cluster.stop("immediate");
      const status = await withTimeout(exited, 30_000, "waiting for the child to exit");
      expect({ status, stdout, stderr }).toEqual({ status: 0, stdout: "copying\nrejected: CONNECTION_CLOSED\nended\n", stderr: "" });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      cluster.destroy();
    }
  });
});
