// The connection code under Deno (`deno run -A src/main.ts`), where node:net and node:tls differ from Bun's
// (runtime.ts): a primary with TLS and a hot standby, a host list with the standby first, a standby-only list
// refused, prefer-standby, verify-full over our own TLS upgrade, sslcrl refused (Deno's TLS ignores revocation
// lists), no password, and a server that goes silent behind a proxy. Real servers, real subprocesses.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { fillRealisticData } from "../harness/data.ts";
import { createPair, type Pair } from "../harness/ha.ts";
import { startProxy } from "../harness/proxy.ts";

declare const Deno: { execPath(): string; test: (name: string, fn: () => void | Promise<void>) => void };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
let pair: Pair | undefined;
let dir: string | undefined;
let backups = "";
(globalThis as unknown as { addEventListener(type: string, listener: () => void): void }).addEventListener("unload", () => {
  void pair?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function setup(): Promise<Pair> {
  if (!pair) {
    pair = await createPair();
    await pair.sql()`create database app`;
    await pair.waitForStandby();
    dir = mkdtempSync(join(tmpdir(), "netraven-deno-connection-"));
    backups = join(dir, "backups");
    mkdirSync(backups);
  }
  return pair;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Asynchronous, so a proxy in this process keeps forwarding while the subprocess runs. */
function netravenDb(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(Deno.execPath(), ["run", "-A", "src/main.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir!, NO_COLOR: "1", PGPASSWORD: pair!.primary.password, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", fail);
    child.on("close", (status) => {
      clearTimeout(timer);
      assert.ok(!`${stdout}${stderr}`.includes(pair!.primary.password), "the password must never be printed");
      done({ status, stdout, stderr });
    });
  });
}

const hosts = (...ports: number[]) => ports.map((p) => `127.0.0.1:${p}`).join(",");
const connectedPort = (run: Run) => run.stderr.match(/debug: connected: .*\bport=(\d+)/)?.[1];

Deno.test("deno: init with the standby listed first acts on the primary", async () => {
  const { primary, standby } = await setup();
  const run = await netravenDb(["init", "--verbose", "--url", `postgresql://postgres@${hosts(standby.port, primary.port)}/app`]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(connectedPort(run), String(primary.port));
});

Deno.test("deno: a standby-only list is refused for init with exit 10", async () => {
  const { standby } = await setup();
  const run = await netravenDb(["init", "--url", `postgresql://postgres@${hosts(standby.port)}/app`]);
  assert.equal(run.status, 10, run.stderr);
  assert.match(run.stderr, /is a standby in recovery, and init needs the writable primary/);
});

Deno.test("deno: backup with prefer-standby reads from the standby", async () => {
  const { primary, standby } = await setup();
  const run = await netravenDb(["backup", "--verbose", "--dir", backups, "--url", `postgresql://postgres@${hosts(primary.port, standby.port)}/app?target_session_attrs=prefer-standby`]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(connectedPort(run), String(standby.port));
});

Deno.test("deno: verify-full over netraven-db's own TLS upgrade; a name mismatch fails; sslcrl is refused", async () => {
  const { primary } = await setup();
  const ok = await netravenDb(["validate", "--verbose", "--url", `postgresql://postgres@localhost:${primary.port}/app?sslmode=verify-full&sslrootcert=${primary.certFile}`]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /connected: .*ssl=TLSv1\.[23]/);
  const mismatch = await netravenDb(["init", "--url", `postgresql://postgres@127.0.0.1:${primary.port}/app?sslmode=verify-full&sslrootcert=${primary.certFile}`]);
  assert.equal(mismatch.status, 5, mismatch.stderr);
  assert.match(mismatch.stderr, /TLS failed with postgres@127\.0\.0\.1:\d+\/app \(sslmode=verify-full\)/);
  const crl = await netravenDb(["init", "--url", `postgresql://postgres@localhost:${primary.port}/app?sslmode=verify-full&sslrootcert=${primary.certFile}&sslcrl=/x.crl`]);
  assert.equal(crl.status, 3, crl.stderr);
  assert.match(crl.stderr, /sslcrl=\/x\.crl is not supported: Deno's TLS does not check certificate revocation lists/);
});

Deno.test("deno: no password at all is 'no password supplied', exit 5", async () => {
  const { primary } = await setup();
  const run = await netravenDb(["init", "--url", `postgresql://postgres@127.0.0.1:${primary.port}/app`], { PGPASSWORD: "" });
  assert.equal(run.status, 5, run.stderr);
  assert.match(run.stderr, /no password supplied for user "postgres" at 127\.0\.0\.1:\d+; netraven-db looks in /);
});

Deno.test("deno: a server that goes silent mid-backup ends the run (exit 7, one line)", async () => {
  const { primary } = await setup();
  await fillRealisticData(pair!.sql("app"), { devices: 3000 });
  const proxy = await startProxy({ host: "127.0.0.1", port: primary.port }, { silenceAfter: { down: 200_000 } });
  try {
    const run = await netravenDb(["backup", "--dir", backups, "--url", `postgresql://postgres@127.0.0.1:${proxy.port}/app?keepalives_idle=2&keepalives_interval=1&keepalives_count=2`]);
    assert.equal(run.status, 7, run.stderr);
    const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
    assert.equal(errors.length, 1, run.stderr);
    assert.match(errors[0]!, /the server at 127\.0\.0\.1:\d+ stopped answering: nothing received for \d+\.\d s while waiting for it, and it did not answer 2 checks/);
    assert.deepEqual(readdirSync(backups).filter((f) => f.startsWith(".")), []);
  } finally {
    await proxy.close();
  }
});
