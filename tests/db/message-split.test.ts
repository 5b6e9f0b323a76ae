// Backups and restores stream hundreds of MB through postgres.js, whose parser must put protocol messages back
// together when a socket read cuts them (build/patch-postgres.mjs patches the same file, and a faster reassembly
// was tried and measured; bench/notes.md). These tests put a proxy between postgres.js and the real server that
// hands the server's bytes on in pieces of random size, so messages are cut at every kind of place: inside the
// 5-byte header, inside the body, several messages in one piece, one message over many pieces. Everything read
// through the proxy must equal what a direct connection reads. (A parser that miscounts the missing bytes by one
// makes these tests hang until their timeout; checked by hand.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { client, createTestDatabase, type TestDatabase } from "../harness/db.ts";

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Target {
  host?: string;
  port: number;
  path?: string;
}

function targetOf(url: string): Target {
  const parsed = new URL(url);
  const port = Number(parsed.port || 5432);
  const socketDir = parsed.searchParams.get("host") ?? (parsed.hostname.startsWith("%2F") ? decodeURIComponent(parsed.hostname) : undefined);
  return socketDir ? { path: `${socketDir}/.s.PGSQL.${port}`, port } : { host: parsed.hostname, port };
}

/** A TCP proxy that forwards the client's bytes as they come and the server's in pieces of 1..maxPiece bytes. */
async function chunkingProxy(target: Target, maxPiece: number, seed: number): Promise<{ port: number; server: Server; pieces: () => number }> {
  const next = random(seed);
  let pieces = 0;
  const server = createServer((downstream: Socket) => {
    downstream.setNoDelay(true);
    const upstream = target.path ? connect(target.path) : connect(target.port, target.host!);
    upstream.setNoDelay(true);
    downstream.pipe(upstream);
    const queue: Buffer[] = [];
    let pumping = false;
    const pump = async () => {
      pumping = true;
      while (queue.length > 0) {
        let chunk = queue.shift()!;
        while (chunk.length > 0) {
          const size = Math.min(chunk.length, 1 + Math.floor(next() * maxPiece));
          downstream.write(chunk.subarray(0, size));
          pieces++;
          chunk = chunk.subarray(size);
          // Give the client a turn, so pieces arrive as separate reads instead of being joined again.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      pumping = false;
    };
    upstream.on("data", (data: Buffer) => {
      queue.push(data);
      if (!pumping) void pump();
    });
    const close = () => {
      upstream.destroy();
      downstream.destroy();
    };
    upstream.on("close", close);
    downstream.on("close", close);
    upstream.on("error", close);
    downstream.on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");
  return { port: address.port, server, pieces: () => pieces };
}

function viaProxy(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(port);
  parsed.searchParams.delete("host");
  parsed.searchParams.set("sslmode", "disable");
  return parsed.toString();
}

async function copyDigest(sql: ReturnType<typeof client>, query: string): Promise<{ bytes: number; sha256: string }> {
  const readable = (await sql.unsafe(query).readable()) as Readable;
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  // Rows from 0 to ~6 KB (messages both smaller and larger than a piece), NULLs, multi-byte text, bytea.
  await db.sql`create table t as
    select g as id,
           case when g % 7 = 0 then null else repeat(chr(913 + g % 40) || 'x\t', (g * 37) % 2000) end as body,
           decode(md5(g::text), 'hex') as digest
    from generate_series(1, 600) g`;
});

afterAll(async () => {
  await db.sql.end({ timeout: 1 });
});

describe("postgres.js reassembles messages cut anywhere by a socket read", () => {
  for (const [maxPiece, seed] of [[3, 1], [9, 2], [700, 3], [20_000, 4]] as const) {
    test(`pieces of 1..${maxPiece} bytes: COPY TO STDOUT and a SELECT read exactly what a direct connection reads`, async () => {
      const direct = client(db.url, { max: 1 });
      const proxy = await chunkingProxy(targetOf(db.url), maxPiece, seed);
      const cut = client(viaProxy(db.url, proxy.port), { max: 1 });
      try {
        // The small-piece runs read a slice, so they stay quick; the larger ones read the whole table.
        const where = maxPiece < 100 ? "where id <= 120" : "";
        const copy = `copy (select * from t ${where} order by id) to stdout`;
        const expectedCopy = await copyDigest(direct, copy);
        expect(expectedCopy.bytes).toBeGreaterThan(maxPiece < 100 ? 50_000 : 1_000_000);
        expect(await copyDigest(cut, copy)).toEqual(expectedCopy);

        const select = `select id, body, digest from t ${where} order by id`;
        const expectedRows = await direct.unsafe(select);
        const rows = await cut.unsafe(select);
        expect(rows.length).toBe(expectedRows.length);
        expect(rows).toEqual(expectedRows);
        // And the connection is still in step with the server afterwards.
        const [row] = await cut`select count(*)::int as n from t`;
        expect(row!.n).toBe(600);
        // The proxy really cut the stream into many pieces.
        expect(proxy.pieces()).toBeGreaterThan(maxPiece < 100 ? 10_000 : 100);
      } finally {
        await cut.end({ timeout: 1 });
        await direct.end({ timeout: 1 });
        proxy.server.close();
      }
    }, 120_000);
  }
});
