// A network that stops answering mid-run (a cut link, a frozen VM: packets vanish, nothing resets the connection),
// made with a loopback proxy that stops forwarding without closing anything. A backup or restore must end on its
// own with one clear line and a non-zero exit, and a restore must leave the old data. The kernel's keepalive cannot
// see this (the proxy's kernel acknowledges everything), so what is proven here is netraven-db's own check; `ss`
// shows the kernel half (SO_KEEPALIVE with keepalives_idle) on the same socket.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { createTestDatabase, testServer, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData } from "../harness/data.ts";
import { startProxy, type Proxy } from "../harness/proxy.ts";

let db: TestDatabase;
let file: string;
const dirs: string[] = [];
const proxies: Proxy[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "netraven-silent-test-"));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  db = await createTestDatabase();
  expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
  await fillRealisticData(db.sql, { devices: 6000 });
  const dir = tempDir();
  expect((await runBinary(["backup", "--dir", dir], { env: db.env })).status).toBe(0);
  file = join(dir, readdirSync(dir).find((f) => f.endsWith(".sql.gz"))!);
});

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function proxied(silenceAfter: { up?: number; down?: number }): Promise<Proxy> {
  const server = testServer();
  const proxy = await startProxy({ host: server.host, port: server.port }, { silenceAfter });
  proxies.push(proxy);
  return proxy;
}

const urlVia = (proxy: Proxy, query: string) => `postgresql://${testServer().user}@${proxy.host}:${proxy.port}/${db.name}?${query}`;
const errorLines = (run: RunResult) => run.stderr.split("\n").filter((l) => l.includes("error:"));

/** The kernel's view of the binary's socket to the proxy (`ss -o` shows the keepalive timer). */
function socketTimer(pid: number, port: number): string {
  const out = spawnSync("ss", ["-tnpoH", "state", "established", `( dport = :${port} )`], { encoding: "utf8" }).stdout;
  return out.split("\n").find((l) => l.includes(`pid=${pid},`)) ?? "";
}

describe("a server that goes silent mid-run", () => {
  test("backup: ends on its own with one line naming the server, exit 7, no file left; the kernel keepalive is on", async () => {
    const proxy = await proxied({ down: 400_000 });
    const dir = tempDir();
    let pid = 0;
    let timer = "";
    const running = runBinary(["backup", "--dir", dir, "--url", urlVia(proxy, "keepalives_idle=2&keepalives_interval=1&keepalives_count=2")], {
      env: { PGPASSWORD: testServer().password },
      timeoutMs: 60_000,
      onSpawn: (p) => (pid = p),
    });
    while (!proxy.silent()) await Bun.sleep(50);
    await Bun.sleep(300);
    timer = socketTimer(pid, proxy.port);
    const run = await running;
    expect(run.signal).toBeNull();
    expect(run.status).toBe(7);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toMatch(
      new RegExp(`^netraven-db: error: .*: the server at 127\\.0\\.0\\.1:${proxy.port} stopped answering: nothing received for \\d+\\.\\d s while waiting for it, and it did not answer 2 checks over a new connection`),
    );
    expect(readdirSync(dir)).toEqual([]);
    // keepalives_idle=2 reached the kernel: SO_KEEPALIVE is on, its timer counts down from 2 s.
    const keepalive = timer.match(/timer:\(keepalive,([\d.]+)(ms|sec|min),\d+\)/);
    expect(keepalive).not.toBeNull();
    expect(Number(keepalive![1]) * (keepalive![2] === "ms" ? 0.001 : keepalive![2] === "min" ? 60 : 1)).toBeLessThanOrEqual(2);
  });

  test("restore: ends on its own with one line, exit 7, and the old data stays", async () => {
    const target = await createTestDatabase();
    expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
    await target.sql`insert into netraven.tags (id, name) values ('old-tag', 'Old data')`;
    const before = await target.sql`select id, name from netraven.tags order by id`;
    const proxy = await proxied({ up: 600_000 });
    const url = `postgresql://${testServer().user}@${proxy.host}:${proxy.port}/${target.name}?keepalives_idle=2&keepalives_interval=1&keepalives_count=2`;
    const run = await runBinary(["restore", file, "--yes", "--url", url], { env: { PGPASSWORD: testServer().password }, timeoutMs: 60_000 });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(7);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toMatch(new RegExp(`the server at 127\\.0\\.0\\.1:${proxy.port} stopped answering: .*; nothing was changed$`));
    // The link comes back (the proxy drops both sides): the server ends the half-done transaction, the old data is there.
    await proxy.close();
    expect(await target.sql`select id, name from netraven.tags order by id`).toEqual(before);
    const [devices] = await target.sql`select count(*)::int as n from netraven.devices`;
    expect(devices!.n).toBe(0);
  });

  test("tcp_user_timeout bounds the wait by itself (one unanswered check after that long)", async () => {
    const proxy = await proxied({ down: 400_000 });
    const run = await runBinary(["backup", "--dir", tempDir(), "--url", urlVia(proxy, "keepalives_idle=600&keepalives_interval=1&tcp_user_timeout=1500")], {
      env: { PGPASSWORD: testServer().password },
      timeoutMs: 60_000,
    });
    expect(run.status).toBe(7);
    expect(errorLines(run)[0]).toMatch(/stopped answering: nothing received for \d+\.\d s while waiting for it, and it did not answer 1 check over a new connection/);
  });

  test("keepalives=0 turns both halves off, as in libpq: no kernel keepalive, and nothing ends the wait", async () => {
    const proxy = await proxied({ down: 400_000 });
    let pid = 0;
    let timer = "";
    const running = runBinary(["backup", "--dir", tempDir(), "--url", urlVia(proxy, "keepalives=0")], {
      env: { PGPASSWORD: testServer().password },
      timeoutMs: 8000,
      onSpawn: (p) => (pid = p),
    });
    while (!proxy.silent()) await Bun.sleep(50);
    await Bun.sleep(300);
    timer = socketTimer(pid, proxy.port);
    const run = await running;
    expect(timer).toContain(`pid=${pid},`);
    expect(timer).not.toContain("keepalive");
    expect(run.signal).toBe("SIGKILL");
  });
});
