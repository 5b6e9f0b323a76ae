// SIGINT and SIGTERM in the middle of work: one line saying what was interrupted and what state it left, the
// shell's exit status (130 / 143), a JSON document with --json, and nothing lost. The test holds a lock the command
// needs, so the command is provably mid-work when the signal arrives (not before it started or after it finished):
//   restore and init wait for the schema lock; backup talks to the server through a proxy that stops forwarding
//   once part of the data has passed (no lock can stop it mid-file: even its catalog reads would wait).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { connect, createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, runBinary } from "../harness/binary.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { client, createTestDatabase, type TestDatabase } from "../harness/db.ts";

let db: TestDatabase;
let work: string;
let file: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "netraven-signals-"));
  db = await createTestDatabase();
  expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
  await fillRealisticData(db.sql, { devices: 300 });
  const backup = await runBinary(["backup", "--dir", work, "--json"], { env: db.env });
  expect(backup.status).toBe(0);
  file = JSON.parse(backup.stdout).path;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Stopped {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary, sends `signal` once stderr shows `ready` (or `ready` resolves), and collects the outcome. */
function runAndSignal(args: string[], ready: RegExp | Promise<unknown>, signal: NodeJS.Signals, env: Record<string, string> = db.env): Promise<Stopped> {
  const cwd = mkdtempSync(join(tmpdir(), "netraven-cwd-"));
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, args, { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let sent = false;
    const send = () => {
      if (sent) return;
      sent = true;
      child.kill(signal);
    };
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
      if (ready instanceof RegExp && ready.test(stderr)) send();
    });
    if (!(ready instanceof RegExp)) ready.then(send, reject);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(killer);
      rmSync(cwd, { recursive: true, force: true });
      if (!sent) reject(new Error(`never saw ${ready} on stderr: ${stderr}`));
      else resolve({ status, stdout, stderr });
    });
  });
}

/** Holds the schema lock init and restore take, until `release` is called. */
async function holdSchemaLock(): Promise<() => Promise<void>> {
  const sql = client(db.url, { max: 1 });
  const reserved = await sql.reserve();
  await reserved`select pg_advisory_lock(hashtext('netraven-db'), hashtext('netraven'))`;
  return async () => {
    reserved.release();
    await sql.end();
  };
}

/** A TCP proxy to the test server that stops forwarding the server's bytes after `bytes`; `stalled` resolves then. */
async function stallingProxy(bytes: number): Promise<{ url: string; stalled: Promise<void>; close(): Promise<void> }> {
  const target = new URL(db.url);
  const upstreamAt = { port: Number(target.port), host: target.hostname };
  const sockets: Socket[] = [];
  let passed = 0;
  let stall!: () => void;
  const stalled = new Promise<void>((resolve) => (stall = resolve));
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamAt.port, upstreamAt.host);
    sockets.push(client, upstream);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      passed += chunk.length;
      client.write(chunk);
      if (passed >= bytes) {
        upstream.pause();
        stall();
      }
    });
    for (const socket of [client, upstream]) socket.on("error", () => undefined).on("close", () => (client.destroy(), upstream.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: target.toString(),
    stalled,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("netraven-db: error:"));
}

describe("a signal stops a command cleanly", () => {
  for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    test(`restore waiting for the lock, ${signal}: one line, exit ${status}, the data unchanged`, async () => {
      const before = await tableChecksums(db.sql);
      const release = await holdSchemaLock();
      try {
        const run = await runAndSignal(["restore", file, "--yes"], /Waiting for another netraven-db run/, signal);
        expect({ status: run.status, errors: errorLines(run.stderr) }).toEqual({ status, errors: [`netraven-db: error: restore interrupted by ${signal}; nothing was changed`] });
        expect(run.stderr).not.toContain("    at ");
      } finally {
        await release();
      }
      expect(await tableChecksums(db.sql)).toEqual(before);
    });
  }

  test("restore of a large file restarts itself once (allocator.ts), and a signal then is handled the same: exit 143, the data unchanged", async () => {
    const before = await tableChecksums(db.sql);
    const release = await holdSchemaLock();
    try {
      // NETRAVEN_DB_BULK_BYTES=0: every file counts as large. The signal goes to the PID spawn returned, so it
      // reaching the restarted binary's handler shows the restart kept the process.
      const run = await runAndSignal(["restore", file, "--yes", "--verbose"], /Waiting for another netraven-db run/, "SIGTERM", { ...db.env, NETRAVEN_DB_BULK_BYTES: "0" });
      expect({ status: run.status, errors: errorLines(run.stderr) }).toEqual({ status: 143, errors: ["netraven-db: error: restore interrupted by SIGTERM; nothing was changed"] });
      expect(run.stderr.match(/restarting with MIMALLOC_PURGE_DELAY=-1/g)).toHaveLength(1);
    } finally {
      await release();
    }
    expect(await tableChecksums(db.sql)).toEqual(before);
  });

  test("restore --json stopped by SIGTERM prints its JSON document", async () => {
    const release = await holdSchemaLock();
    try {
      const run = await runAndSignal(["restore", file, "--yes", "--json"], /Waiting for another netraven-db run/, "SIGTERM");
      expect(run.status).toBe(143);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: "INTERRUPTED", message: "restore interrupted by SIGTERM; nothing was changed", exit_status: 143 } });
    } finally {
      await release();
    }
  });

  test("init --json waiting for the lock, SIGINT: its JSON document, exit 130", async () => {
    await db.sql`insert into netraven.admin_settings (id, key, value, category) values ('sig-test', 'test.signal', '1', 'test')`.catch(() => undefined);
    await db.sql`delete from netraven.admin_settings where key = 'security.password_policy.min_length'`; // init must take the lock to re-seed it
    const release = await holdSchemaLock();
    try {
      const run = await runAndSignal(["init", "--json"], /Waiting for another netraven-db run/, "SIGINT");
      expect(run.status).toBe(130);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: "INTERRUPTED", message: "init interrupted by SIGINT; nothing was changed", exit_status: 130 } });
    } finally {
      await release();
    }
    const [row] = await db.sql`select count(*)::int as n from netraven.admin_settings where key = 'security.password_policy.min_length'`;
    expect(row!.n).toBe(0);
  });

  test("backup stopped mid-file (the server's data stalls): exit 130, one line, no file of any kind left", async () => {
    const dir = mkdtempSync(join(work, "partial-"));
    // 200 KiB: past the catalog reads and into the data, far from the end of it.
    const proxy = await stallingProxy(200 * 1024);
    try {
      let partial: string[] = [];
      const stalledWithFile = proxy.stalled.then(() => (partial = readdirSync(dir)));
      const run = await runAndSignal(["backup", "--dir", dir], stalledWithFile, "SIGINT", { DATABASE_URL: proxy.url });
      expect(partial.some((name) => name.includes(".partial-"))).toBe(true);
      expect({ status: run.status, errors: errorLines(run.stderr) }).toEqual({ status: 130, errors: ["netraven-db: error: backup interrupted by SIGINT; removed the partial backup"] });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
