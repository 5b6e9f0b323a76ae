// Running and timing one command the same way for every tool: wall time around the process (hrtime), peak RSS and
// CPU from /usr/bin/time, after `sync` and (optionally) a wait until the machine is idle, so that one command's
// dirty pages or another process on the machine do not land in the next command's time.
import { spawnSync, type StdioOptions } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Run {
  wallMs: number;
  /** Peak RSS of the command (for a shell pipeline: of its largest process). */
  rssKb: number;
  userS: number;
  sysS: number;
  /** Share of the machine's CPU that was idle in the second before the run. */
  idleBefore: number;
  stdout: string;
}

export interface Command {
  /** Shown in the report exactly as run (secrets are never part of it: the password travels in PGPASSWORD). */
  display: string;
  argv: string[];
  env: Record<string, string>;
  /** A file to feed on stdin (`psql < dump`). */
  stdinFile?: string;
}

const TIME = "/usr/bin/time";

export function checkTools(): string[] {
  const missing: string[] = [];
  if (!existsSync(TIME)) missing.push("/usr/bin/time (apt-get install -y time)");
  for (const tool of ["gzip", "zstd", "bash", "sync"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) missing.push(tool);
  }
  return missing;
}

function cpuTimes(): { idle: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { idle, total: values.slice(0, 8).reduce((a, b) => a + b, 0) };
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Idle share of all CPUs over `ms`. */
export function idleShare(ms = 500): number {
  const a = cpuTimes();
  sleep(ms);
  const b = cpuTimes();
  return b.total === a.total ? 1 : (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (up to maxWaitS) until at least `threshold` of the CPU is idle: other work on the machine (a test suite,
 * another benchmark) would otherwise be measured as ours or theirs. Returns the idle share last seen.
 */
export function waitForQuiet(maxWaitS: number, threshold = 0.9): number {
  const deadline = Date.now() + maxWaitS * 1000;
  let idle = idleShare(maxWaitS > 0 ? 500 : 100);
  while (idle < threshold && Date.now() < deadline) idle = idleShare(1000);
  return idle;
}

export class CommandFailed extends Error {}

/**
 * Runs a command once and measures it. Throws CommandFailed with its stderr when it exits non-zero. `prepare` runs
 * first, untimed (the benchmark issues a CHECKPOINT there, so no command pays for the previous one's dirty buffers).
 */
export function measure(command: Command, options: { quietWaitS: number; prepare?: () => void }): Run {
  options.prepare?.();
  spawnSync("sync");
  const idleBefore = waitForQuiet(options.quietWaitS);
  const dir = mkdtempSync(join(tmpdir(), "nrbench-time-"));
  const timeFile = join(dir, "time");
  const stdin = command.stdinFile ? openSync(command.stdinFile, "r") : "ignore";
  try {
    const stdio: StdioOptions = [stdin, "pipe", "pipe"];
    const started = process.hrtime.bigint();
    const result = spawnSync(TIME, ["-f", "%M %U %S", "-o", timeFile, ...command.argv], {
      env: command.env,
      stdio,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
      throw new CommandFailed(`${command.display} failed (exit ${result.status}${result.signal ? `, ${result.signal}` : ""}):\n${(result.stderr ?? "").slice(-4000)}`);
    }
    const [rss, user, sys] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
    return { wallMs, rssKb: rss ?? 0, userS: user ?? 0, sysS: sys ?? 0, idleBefore, stdout: result.stdout };
  } finally {
    if (typeof stdin === "number") closeSync(stdin);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
