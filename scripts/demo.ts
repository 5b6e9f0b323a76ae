// The README's first command: the whole life of a NetRaven database, on a throwaway server, with the real binary.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCluster } from "../tests/harness/cluster.ts";

const binary = join(import.meta.dir, "..", "dist", "netraven-db");
const bold = (text: string) => (process.stdout.isTTY ? `\u001B[1m${text}\u001B[0m` : text);

const cluster = await createCluster();
const backups = mkdtempSync(join(tmpdir(), "netraven-demo-backups-"));
const cleanup = () => {
  cluster.destroy();
  rmSync(backups, { recursive: true, force: true });
};
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

function step(title: string, args: string[], env: Record<string, string>): number {
  console.log(`\n${bold(`$ netraven-db ${args.join(" ")}`)}   # ${title}`);
  const result = spawnSync(binary, args, { stdio: "inherit", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
  console.log(`  -> exit ${result.status}`);
  return result.status ?? -1;
}

let failed = 0;
try {
  spawnSync("psql", ["-X", "-q", cluster.url(), "-c", "create database netraven"], { stdio: "inherit" });
  // The password travels in PGPASSWORD, never on the command line.
  const env = { PGHOST: "127.0.0.1", PGPORT: String(cluster.port), PGUSER: "postgres", PGPASSWORD: cluster.password, PGDATABASE: "netraven" };
  console.log(`Throwaway PostgreSQL on 127.0.0.1:${cluster.port} (data in ${cluster.dataDir}); backups go to ${backups}`);
  const expectZero = (status: number) => (failed += status === 0 ? 0 : 1);
  expectZero(step("creates the schema, tables, indexes, seed rows, version", ["init", "--retry", "5"], env));
  expectZero(step("second run: nothing to do", ["init"], env));
  expectZero(step("compares the live catalog with the definitions", ["validate"], env));
  spawnSync("psql", ["-X", "-q", cluster.url("netraven"), "-c",
    "insert into netraven.users (id, username, email, password_hash) values ('u1', 'alice', 'alice@example.net', 'x');" +
    "insert into netraven.devices (id, hostname, ip_address, device_type, owner_id) values ('d1', 'core-1', '10.0.0.1', 'cisco_ios', 'u1')"], { stdio: "inherit" });
  expectZero(step("consistent, compressed, checksummed backup", ["backup", "--dir", backups], env));
  const file = spawnSync("sh", ["-c", `ls ${backups}/*.sql.gz`], { encoding: "utf8" }).stdout.trim();
  expectZero(step("checks the file without a database", ["verify", file], env));
  expectZero(step("what is on the backup volume", ["list", "--dir", backups], env));
  spawnSync("psql", ["-X", "-q", cluster.url("netraven"), "-c", "delete from netraven.devices"], { stdio: "inherit" });
  console.log("\n(deleted every device: time to restore)");
  expectZero(step("replaces the data in one transaction, then validates", ["restore", file, "--yes"], env));
  const devices = spawnSync("psql", ["-X", "-At", cluster.url("netraven"), "-c", "select count(*) from netraven.devices"], { encoding: "utf8" }).stdout.trim();
  console.log(`devices after restore: ${devices}`);
  expectZero(step("still matches the definitions", ["validate"], env));
  step("drift is reported with exit 1 (we change a column type first)", ["validate"], (spawnSync("psql", ["-X", "-q", cluster.url("netraven"), "-c", "alter table netraven.devices alter column hostname type text"]), env));
} finally {
  cleanup();
}
console.log(failed === 0 ? "\nDemo finished: every step did what it should." : `\nDemo finished with ${failed} unexpected exit status(es).`);
process.exit(failed === 0 ? 0 : 1);
