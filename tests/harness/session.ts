// What a run of the binary connected to, read from its --verbose output ("connected: host=... port=..."), and what
// psql connects to for the same connection string and environment. The libpq comparison and HA tests hold the two
// side by side.
import { spawn } from "node:child_process";
import type { RunResult } from "./binary.ts";

export type Session = Record<string, string>;

/** key=value pairs, values possibly quoted libpq-style ('it\'s'). */
function pairs(text: string): Session {
  const out: Session = {};
  for (const match of text.matchAll(/(\w+)=('(?:[^'\\]|\\.)*'|\S*)/g)) {
    const raw = match[2]!;
    out[match[1]!] = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
  }
  return out;
}

/** The session the binary reported with --verbose; throws when it never connected. */
export function connectedSession(run: RunResult): Session {
  const line = run.stderr.split("\n").find((l) => l.includes("debug: connected: "));
  if (!line) throw new Error(`the run never connected (exit ${run.status}):\n${run.stderr}`);
  return pairs(line.slice(line.indexOf("connected: ") + "connected: ".length));
}

/** The resolved settings the binary reported with --verbose. */
export function resolvedSettings(run: RunResult): Session {
  const line = run.stderr.split("\n").find((l) => l.includes("debug: connection settings"));
  if (!line) throw new Error(`no settings line (exit ${run.status}):\n${run.stderr}`);
  return pairs(line.slice(line.indexOf("): ") + 3));
}

export interface PsqlSession {
  status: number | null;
  stderr: string;
  /** From \conninfo: the host name (or socket directory) and, with hostaddr, the address. */
  host?: string;
  hostaddr?: string;
  port?: string;
  user?: string;
  dbname?: string;
  in_recovery?: string;
  transaction_read_only?: string;
  application_name?: string;
  client_encoding?: string;
  statement_timeout?: string;
  ssl?: string;
}

/** Runs psql without blocking: a proxy in the test process must keep forwarding meanwhile. */
function runPsql(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** psql (libpq itself) for the same connection string and environment, asked the same questions. */
export async function psqlSession(conninfo: string, env: Record<string, string | undefined>): Promise<PsqlSession> {
  const query =
    "select inet_server_port(), current_user, current_database(), case when pg_is_in_recovery() then 'on' else 'off' end, " +
    "current_setting('transaction_read_only'), current_setting('application_name'), current_setting('client_encoding'), " +
    "current_setting('statement_timeout'), coalesce((select version from pg_stat_ssl where pid = pg_backend_pid() and ssl), 'off')";
  const clean: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) clean[key] = value;
  const result = await runPsql(["-X", "-A", "-t", "-F", "|", "-c", "\\conninfo", "-c", query, conninfo], clean);
  if (result.status !== 0) return { status: result.status, stderr: result.stderr };
  // \conninfo adds an "SSL connection (...)" line for TLS sessions; the query's row is always the last line.
  const lines = result.stdout.trim().split("\n");
  const info = lines.find((l) => l.startsWith("You are connected")) ?? "";
  const row = lines[lines.length - 1];
  const tcp = info.match(/on host "([^"]*)"(?: \(address "([^"]*)"\))? at port "(\d+)"/);
  const addressOnly = info.match(/on address "([^"]*)" at port "(\d+)"/);
  const socket = info.match(/via socket in "([^"]*)" at port "(\d+)"/);
  const [port, user, dbname, inRecovery, readOnly, applicationName, clientEncoding, statementTimeout, ssl] = row!.split("|");
  return {
    status: 0,
    stderr: result.stderr,
    host: tcp?.[1] ?? socket?.[1],
    hostaddr: tcp?.[2] ?? addressOnly?.[1],
    port: tcp?.[3] ?? socket?.[2] ?? addressOnly?.[2] ?? port,
    user,
    dbname,
    in_recovery: inRecovery,
    transaction_read_only: readOnly,
    application_name: applicationName,
    client_encoding: clientEncoding,
    statement_timeout: statementTimeout,
    ssl,
  };
}
