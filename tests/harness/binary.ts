// Runs the compiled binary the way users get it: dist/netraven-db (or $NETRAVEN_DB_BINARY), from an empty
// temporary directory with no node_modules, with only the environment the test passes (plus PATH, HOME = that
// directory, and TMPDIR when set, so whatever the binary leaves in the temp dir counts against the run:
// scripts/test.sh points TMPDIR at a private directory and fails the run when anything is left in it).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const BINARY = resolve(process.env.NETRAVEN_DB_BINARY ?? join(import.meta.dir, "..", "..", "dist", "netraven-db"));

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  pid: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Called once the process is running (e.g. to read /proc/<pid>/cmdline or to kill it). */
  onSpawn?: (pid: number) => void;
  /** Run this instead of dist/netraven-db: the binary, or an emulator's argv ending with the binary to emulate. */
  command?: string[];
}

export function requireBinary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} does not exist: build it first with \`npm run build\``);
  return BINARY;
}

export function runBinary(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...prefix] = options.command ?? [requireBinary()];
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), "netraven-cwd-"));
  const removeCwd = () => {
    if (!options.cwd) rmSync(cwd, { recursive: true, force: true });
  };
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file!, [...prefix, ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      removeCwd();
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      removeCwd();
      resolvePromise({ status, signal, stdout, stderr, durationMs: Date.now() - started, pid: child.pid ?? -1 });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    if (child.pid) options.onSpawn?.(child.pid);
  });
}

/** An onSpawn hook that kills the process after `ms` (if it is still running then). */
export function killAfter(ms: number, signal: NodeJS.Signals = "SIGKILL"): (pid: number) => void {
  return (pid) => {
    setTimeout(() => {
      try {
        process.kill(pid, signal);
      } catch {
        // already finished
      }
    }, ms);
  };
}
