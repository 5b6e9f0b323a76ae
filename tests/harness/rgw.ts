// A real S3 server for the tests: a throwaway single-node Ceph RADOS Gateway from Debian's packages (one ceph-mon,
// one ceph-osd on memstore, one radosgw with the beast frontend on 127.0.0.1:<free port>), all in a private temp dir
// with its own ceph.conf (nothing in /etc/ceph). It verifies AWS Signature V4 like the real thing, which is the point.
// Started lazily, once per process (`rgw()`), stopped by the bun preload's afterAll and signal handlers; Deno tests
// call startRgw()/stop() themselves. Plain node: APIs, so it runs under Bun and Deno.
//
// Traps handled (measured, see the recipe this was built from):
// - radosgw defaults ms_mon_client_mode to "secure", impossible with auth off: it hangs (-13). Set crc.
// - the first start creates ~7 pools, one paxos round each: paxos_propose_interval 0.1 cuts ~16 s to ~4 s.
// - deleted multipart parts stay 2 h (RAM on memstore): rgw_gc_obj_min_wait 30, and buckets are removed with
//   radosgw-admin --purge-objects --bypass-gc.
// - memstore past its cap hangs instead of failing: tests keep their data small (tens of MiB).
// - daemons are stopped one at a time, rgw, osd, mon, by the PIDs we started (an OSD whose mon is gone waits 5 s),
//   and only when /proc/PID/cmdline still names our ceph.conf (a recycled PID is never hit).
// Root is fine: the daemons run as whoever starts them (CI runs as root); nothing needs a dedicated user.
import { execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash, createHmac } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./cluster.ts";

export interface Rgw {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  dir: string;
  /** Environment an S3 tool needs to reach this server (AWS_* conventions). */
  env: Record<string, string>;
  /** A fresh bucket, removed by deleteBucket (or with the whole server at the end). */
  createBucket(options?: { objectLock?: boolean; prefix?: string }): Promise<string>;
  /** Removes the bucket and everything in it, Object Lock included (admin tool, bypasses retention). */
  deleteBucket(name: string): Promise<void>;
  /** radosgw-admin with our ceph.conf. */
  admin(args: string[]): Promise<string>;
  stop(): Promise<void>;
  /** Last resort when nothing can be awaited (a process 'unload' handler): SIGKILL our daemons, remove the dir. */
  kill(): void;
}

const REQUIRED = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool", "ceph-authtool"];
const TIMEOUT_MS = 120_000;
const MEM_BYTES = 1024 * 1024 * 1024; // memstore cap; RAM is used only as data is written

function run(file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${(stderr || stdout || error.message).trim().split("\n").slice(-3).join(" | ")}`));
      else resolve(stdout);
    });
  });
}

/** Starts a daemon: it forks and its parent exits once it is running; stdio goes to a log file, never to ours. */
function startDaemon(dir: string, file: string, args: string[]): Promise<void> {
  const fd = openSync(join(dir, "log", "daemon-stdio.log"), "a");
  return new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", fd, fd], timeout: TIMEOUT_MS });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} exited with ${code ?? signal}: ${readFileSync(join(dir, "log", "daemon-stdio.log"), "utf8").trim().split("\n").slice(-3).join(" | ")}`));
    });
  }).finally(() => closeSync(fd));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Ceph programs the server needs that are not installed (the benchmark asks before it starts one). */
export function missingTools(): string[] {
  return REQUIRED.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

function readPid(dir: string, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, "run", `${name}.pid`), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function stopDaemon(pid: number, conf: string): Promise<void> {
  const ours = () => cmdline(pid).includes(conf);
  if (!ours()) return;
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (let i = 0; i < 50; i++) {
      if (!ours()) return;
      await sleep(100);
    }
  }
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number, memBytes: number): string {
  return `[global]
fsid = ${fsid}
mon_host = v2:127.0.0.1:${monPort}
public_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_msgr1 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw defaults ms_mon_client_mode to "secure", impossible without cephx: it hangs with -13
ms_mon_client_mode = crc
keyring = ${dir}/keyring
run_dir = ${dir}/run
pid_file = ${dir}/run/$name.pid
admin_socket = ${dir}/run/$name.asok
log_file = ${dir}/log/$name.log
crash_dir = ${dir}/crash
tmp_dir = ${dir}/tmp
log_to_stderr = false
err_to_stderr = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 1
mon_data_avail_crit = 0
mon_allow_pool_delete = true
mon_mgr_mkfs_grace = 31536000
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
mon_data = ${dir}/mon.$id
mon_cluster_log_file = ${dir}/log/cluster.log
# commit map changes every 0.1 s instead of 1 s: radosgw creates its pools one at a time on first start
paxos_propose_interval = 0.1

[osd]
osd_data = ${dir}/osd.$id
osd_objectstore = memstore
memstore_device_bytes = ${memBytes}
osd_class_dir = /usr/lib/x86_64-linux-gnu/rados-classes

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw_data = ${dir}/rgw
rgw_thread_pool_size = 64
# deleted multipart parts and tails would stay 2 h in memstore RAM
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 30
rgw_gc_processor_max_time = 30
`;
}

/** SigV4 for the harness's own few bucket calls, written out so the harness does not depend on the code under test. */
function signedHeaders(method: string, url: URL, accessKeyId: string, secret: string, region: string, extra: Record<string, string> = {}): Record<string, string> {
  const now = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const date = now.slice(0, 8);
  const payload = createHash("sha256").update("").digest("hex");
  const headers: Record<string, string> = { host: url.host, "x-amz-content-sha256": payload, "x-amz-date": now, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k.toLowerCase(), v])) };
  const names = Object.keys(headers).sort();
  const query = [...url.searchParams].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort().join("&");
  const canonical = [method, url.pathname, query, names.map((n) => `${n}:${headers[n]}`).join("\n") + "\n", names.join(";"), payload].join("\n");
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", now, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  for (const part of [region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const { host: _host, ...rest } = headers;
  return { ...rest, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}` };
}

let bucketCounter = 0;

/** Starts a fresh server. Always call stop(). Throws (never skips) when the Ceph packages are missing. */
export async function startRgw(options: { memBytes?: number } = {}): Promise<Rgw> {
  // The benchmark's largest size holds a few hundred MB per object: it asks for a larger memstore cap.
  const memBytes = options.memBytes ?? MEM_BYTES;
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(`the S3 test server needs ${missing.join(", ")}: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common (.ci/run does this)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "netraven-rgw-"));
  const conf = join(dir, "ceph.conf");
  const pids: number[] = [];
  const stop = async () => {
    // rgw first, then osd, then mon: each waits for the next one down the chain otherwise.
    for (const name of ["client.rgw.a", "osd.0", "mon.a"]) {
      const pid = readPid(dir, name);
      if (pid) await stopDaemon(pid, conf);
    }
    for (const pid of pids) await stopDaemon(pid, conf);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const sub of ["run", "log", "mon.a", "osd.0", "rgw", "crash", "tmp"]) mkdirSync(join(dir, sub));
    const monPort = await freePort();
    let rgwPort = await freePort();
    const fsid = crypto.randomUUID();
    writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort, memBytes));
    const C = ["-c", conf];

    await run("ceph-authtool", ["--create-keyring", join(dir, "keyring"), "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"]);
    await run("monmaptool", ["--create", "--fsid", fsid, "--addv", "a", `[v2:127.0.0.1:${monPort}]`, join(dir, "monmap")]);
    await run("ceph-mon", [...C, "--mkfs", "-i", "a", "--monmap", join(dir, "monmap"), "--keyring", join(dir, "keyring")]);
    await startDaemon(dir, "ceph-mon", [...C, "-i", "a"]);
    await waitFor("mon quorum", dir, "mon.a", conf, async () => {
      await run("ceph", [...C, "--connect-timeout", "5", "mon", "stat"], 10_000);
      return true;
    });

    const osdUuid = crypto.randomUUID();
    const osdId = (await run("ceph", [...C, "osd", "new", osdUuid], 30_000)).trim();
    if (osdId !== "0") throw new Error(`unexpected osd id ${JSON.stringify(osdId)}`);
    await run("ceph-osd", [...C, "-i", "0", "--mkfs", "--osd-uuid", osdUuid]);
    await startDaemon(dir, "ceph-osd", [...C, "-i", "0"]);
    await waitFor("osd.0 up", dir, "osd.0", conf, async () => /^osd\.0 up/m.test(await run("ceph", [...C, "osd", "dump"], 10_000)));

    for (let attempt = 1; ; attempt++) {
      rmSync(join(dir, "run", "client.rgw.a.pid"), { force: true });
      await startDaemon(dir, "radosgw", [...C, "-n", "client.rgw.a"]);
      const up = await waitFor("radosgw", dir, "client.rgw.a", conf, async () => {
        const response = await fetch(`http://127.0.0.1:${rgwPort}/`).catch(() => undefined);
        await response?.body?.cancel();
        return response !== undefined;
      }).then(
        () => true,
        (error) => {
          const logText = existsSync(join(dir, "log", "client.rgw.a.log")) ? readFileSync(join(dir, "log", "client.rgw.a.log"), "utf8") : "";
          if (attempt < 3 && logText.includes("failed to bind")) return false; // lost the race for the free port
          throw error;
        },
      );
      if (up) break;
      rgwPort = await freePort();
      writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort, memBytes));
    }
    for (const name of ["mon.a", "osd.0", "client.rgw.a"]) {
      const pid = readPid(dir, name);
      if (pid) pids.push(pid);
    }

    const accessKeyId = `NRTEST${randomBytes(7).toString("hex").toUpperCase()}`;
    const secretAccessKey = `nrtest-secret-${randomBytes(16).toString("hex")}`;
    await run("radosgw-admin", [...C, "user", "create", "--uid=netraven-test", "--display-name=netraven test", `--access-key=${accessKeyId}`, `--secret-key=${secretAccessKey}`]);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const region = "us-east-1";

    const bucketCall = async (method: string, name: string, extra: Record<string, string> = {}) => {
      const url = new URL(`${endpoint}/${name}`);
      const response = await fetch(url, { method, headers: signedHeaders(method, url, accessKeyId, secretAccessKey, region, extra) });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} bucket ${name}: HTTP ${response.status} ${text}`);
    };
    const rgw: Rgw = {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region,
      dir,
      env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region, AWS_ENDPOINT_URL_S3: endpoint },
      async createBucket(options = {}) {
        const name = `${options.prefix ?? "nrt"}-${process.pid}-${++bucketCounter}-${randomBytes(3).toString("hex")}`;
        await bucketCall("PUT", name, options.objectLock ? { "x-amz-bucket-object-lock-enabled": "true" } : {});
        return name;
      },
      async deleteBucket(name) {
        await run("radosgw-admin", [...C, "bucket", "rm", `--bucket=${name}`, "--purge-objects", "--bypass-gc"]);
      },
      admin: (args) => run("radosgw-admin", [...C, ...args]),
      stop,
      kill: () => {
        for (const pid of pids) {
          if (cmdline(pid).includes(conf)) {
            try {
              process.kill(pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return rgw;
  } catch (error) {
    const tail = ["client.rgw.a", "osd.0", "mon.a"]
      .map((name) => join(dir, "log", `${name}.log`))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file, "utf8").split("\n").filter((l) => / -1 |ERROR|failed|error/i.test(l)).slice(-3).join(" | "))
      .filter(Boolean)
      .join(" | ");
    if (process.env.NETRAVEN_RGW_KEEP_ON_FAIL === "1") {
      console.error(`keeping ${dir} for inspection`);
      throw new Error(`the S3 test server did not start: ${(error as Error).message}`);
    }
    await stop();
    throw new Error(`the S3 test server did not start: ${(error as Error).message}${tail ? ` (${tail})` : ""}`);
  }
}

async function waitFor(what: string, dir: string, daemon: string, conf: string, ready: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  const end = started + TIMEOUT_MS;
  while (true) {
    if (await ready().catch(() => false)) return;
    // The forked daemon writes its pid file a moment after its parent exits: no pid file yet is not "exited".
    const pid = readPid(dir, daemon);
    if (pid ? !cmdline(pid).includes(conf) : Date.now() - started > 30_000) throw new Error(`${daemon} exited while waiting for ${what}`);
    if (Date.now() > end) throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

// One server per test process, started by the first test that asks for it.
let shared: Promise<Rgw> | undefined;

export function rgw(): Promise<Rgw> {
  shared ??= startRgw();
  return shared;
}

let stopping: Promise<void> | undefined;

/**
 * Stops the shared server if a test started it (the preload calls this in afterAll and on signals). A second call
 * while the first is stopping returns the same promise: a SIGTERM's stop and the afterAll that follows must both
 * wait for the daemons, or the run ends with the OSD and monitor still running.
 */
export function stopSharedRgw(): Promise<void> {
  const started = shared;
  if (!started) return stopping ?? Promise.resolve();
  shared = undefined;
  stopping = started.then(
    (server) => server.stop(),
    () => undefined,
  );
  return stopping;
}
