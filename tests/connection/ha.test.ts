// A real primary and a hot standby (pg_basebackup -R, hot_standby=on) from the installed server binaries, and the
// compiled binary against them: multi-host strings with the standby listed first, commands that need the primary
// refusing a standby-only list in one line (exit 10), backup and validate working on the standby, prefer-standby.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary } from "../harness/binary.ts";
import type { Cluster } from "../harness/cluster.ts";
import { fillRealisticData } from "../harness/data.ts";
import { createPair, type Pair } from "../harness/ha.ts";
import { connectedSession } from "../harness/session.ts";

let pair: Pair;
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "netraven-ha-test-"));
  dirs.push(dir);
  return dir;
};
const DB = "app";

beforeAll(async () => {
  pair = await createPair();
  await pair.sql()`create database app`;
  const run = await runBinary(["init"], { env: { DATABASE_URL: pair.primary.url(DB) } });
  expect(run.status).toBe(0);
  await fillRealisticData(pair.sql(DB), { devices: 200 });
  await pair.waitForStandby();
});

afterAll(async () => {
  await pair?.destroy();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const hostList = (...clusters: Cluster[]) => clusters.map((c) => `127.0.0.1:${c.port}`).join(",");
const url = (clusters: Cluster[], query = "") => `postgresql://postgres@${hostList(...clusters)}/${DB}${query}`;
const run = (args: string[], env: Record<string, string> = {}) => runBinary(args, { env: { PGPASSWORD: pair.primary.password, ...env }, timeoutMs: 90_000 });
const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.includes("error:"));

async function deviceTagCount(): Promise<number> {
  const [row] = await pair.sql(DB)`select count(*)::int as n from netraven.device_tags`;
  return row!.n;
}

describe("the standby listed first", () => {
  test("init skips the standby and acts on the primary, as libpq's read-write would", async () => {
    const result = await run(["init", "--url", url([pair.standby, pair.primary]), "--verbose"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("up to date");
    expect(connectedSession(result)).toMatchObject({ port: String(pair.primary.port), in_recovery: "off", target_session_attrs: "read-write" });
    expect(result.stderr).toContain(`skipped 127.0.0.1:${pair.standby.port}: the server is a standby in recovery`);
  });

  test("backup with the default (any) reads from the first host, the standby; restore of that file acts on the primary", async () => {
    const dir = tempDir();
    const backup = await run(["backup", "--dir", dir, "--url", url([pair.standby, pair.primary]), "--verbose"]);
    expect(backup.status).toBe(0);
    expect(connectedSession(backup)).toMatchObject({ port: String(pair.standby.port), in_recovery: "on" });
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith(".sql.gz"))!);

    const before = await deviceTagCount();
    await pair.sql(DB)`delete from netraven.device_tags where device_id in (select device_id from netraven.device_tags order by device_id limit 10)`;
    expect(await deviceTagCount()).toBe(before - 10);
    const restore = await run(["restore", file, "--yes", "--url", url([pair.standby, pair.primary]), "--verbose"]);
    expect(restore.status).toBe(0);
    expect(connectedSession(restore)).toMatchObject({ port: String(pair.primary.port), in_recovery: "off" });
    expect(await deviceTagCount()).toBe(before);
  });
});

describe("commands that write refuse a standby-only list", () => {
  test("init: exit 10 at once, one line naming the standby and what to do, no waiting", async () => {
    const result = await run(["init", "--url", url([pair.standby])]);
    expect(result.status).toBe(10);
    expect(result.stderr).not.toContain("Waiting");
    expect(errorLines(result.stderr)).toEqual([
      `netraven-db: error: postgres@127.0.0.1:${pair.standby.port}/${DB} is a standby in recovery, and init needs the writable primary: list the primary in the connection string, or all hosts with target_session_attrs=read-write`,
    ]);
    expect(result.stderr + result.stdout).not.toContain(pair.primary.password);
  });

  test("--json names the code and every host tried", async () => {
    const result = await run(["init", "--json", "--url", url([pair.standby])]);
    expect(result.status).toBe(10);
    const doc = JSON.parse(result.stdout);
    expect(doc.error).toMatchObject({ code: "NOT_PRIMARY", exit_status: 10 });
    expect(doc.hosts_tried).toEqual([{ host: `127.0.0.1:${pair.standby.port}`, result: "standby" }]);
  });

  test("restore: exit 10, nothing changed on the standby or the primary", async () => {
    const dir = tempDir();
    expect((await run(["backup", "--dir", dir, "--url", url([pair.primary])])).status).toBe(0);
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith(".sql.gz"))!);
    const result = await run(["restore", file, "--yes", "--url", url([pair.standby])]);
    expect(result.status).toBe(10);
    expect(errorLines(result.stderr)).toEqual([
      `netraven-db: error: postgres@127.0.0.1:${pair.standby.port}/${DB} is a standby in recovery, and restore needs the writable primary: list the primary in the connection string, or all hosts with target_session_attrs=read-write`,
    ]);
  });

  test("verify --db writes a trial restore, so it needs the primary too (a checker: exit 2)", async () => {
    const dir = tempDir();
    expect((await run(["backup", "--dir", dir, "--url", url([pair.primary])])).status).toBe(0);
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith(".sql.gz"))!);
    const result = await run(["verify", file, "--db", "--url", url([pair.standby])]);
    expect(result.status).toBe(2);
    expect(errorLines(result.stderr)).toEqual([expect.stringContaining("is a standby in recovery, and verify --db needs the writable primary")]);
    expect((await run(["verify", file, "--db", "--url", url([pair.standby, pair.primary])])).status).toBe(0);
  });

  test("with --retry a standby is worth waiting for (a promotion may be under way): each attempt says so", async () => {
    const result = await run(["init", "--url", url([pair.standby]), "--retry", "3", "--retry-interval", "0.2"]);
    expect(result.status).toBe(10);
    const waits = result.stderr.split("\n").filter((l) => l.includes("Waiting for PostgreSQL"));
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBe(
      `netraven-db: Waiting for PostgreSQL at postgres@127.0.0.1:${pair.standby.port}/${DB} (attempt 1/3): the server is a standby in recovery (a promotion may be under way); retrying in ${waits[0]!.match(/retrying in (\d+\.\d) s/)![1]} s`,
    );
    expect(errorLines(result.stderr)[0]).toMatch(/is a standby in recovery, and init needs the writable primary: .*; gave up after 3 attempts over \d+\.\d s$/);
  });

  test("target_session_attrs=standby does not move a command that writes off the primary: it says so and uses the primary", async () => {
    const result = await run(["init", "--url", url([pair.standby, pair.primary], "?target_session_attrs=standby"), "--verbose"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("warning: init writes, so it connects to the writable primary; target_session_attrs=standby does not apply to it");
    expect(connectedSession(result).port).toBe(String(pair.primary.port));
  });

  test("a read-only primary (default_transaction_read_only) is not a writable primary either", async () => {
    const result = await run(["init", "--url", url([pair.primary], "?options=-c%20default_transaction_read_only%3Don")]);
    expect(result.status).toBe(10);
    expect(errorLines(result.stderr)[0]).toContain("is read-only (default_transaction_read_only is on), and init needs the writable primary");
  });
});

describe("reading from a standby", () => {
  test("backup and validate work on a standby-only list; validate keeps its temporary tables on a writable host when one is listed", async () => {
    const dir = tempDir();
    const backup = await run(["backup", "--dir", dir, "--url", url([pair.standby]), "--verbose"]);
    expect(backup.status).toBe(0);
    expect(connectedSession(backup)).toMatchObject({ port: String(pair.standby.port), in_recovery: "on", transaction_read_only: "on" });

    const validate = await run(["validate", "--url", url([pair.standby, pair.primary], "?target_session_attrs=standby"), "--verbose"]);
    expect(validate.stdout).toContain("Schema matches definitions");
    expect(validate.status).toBe(0);
    expect(validate.stderr).not.toContain("warning:");
    expect(connectedSession(validate)).toMatchObject({ port: String(pair.standby.port), in_recovery: "on" });

    // A standby alone cannot hold temporary tables: validate says so (checker: could not check).
    const alone = await run(["validate", "--url", url([pair.standby])]);
    expect(alone.status).toBe(2);
    expect(errorLines(alone.stderr)).toEqual([expect.stringContaining(`postgres@127.0.0.1:${pair.standby.port}/${DB} is a standby in recovery, and validate on a standby (for the temporary tables it compares with) needs the writable primary`)]);
  });

  test("prefer-standby: backup reads from the standby even when the primary is listed first, and the file restores on the primary", async () => {
    const dir = tempDir();
    const backup = await run(["backup", "--dir", dir, "--url", url([pair.primary, pair.standby], "?target_session_attrs=prefer-standby"), "--verbose"]);
    expect(backup.status).toBe(0);
    expect(connectedSession(backup)).toMatchObject({ port: String(pair.standby.port), in_recovery: "on" });
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith(".sql.gz"))!);
    const restore = await run(["restore", file, "--yes", "--url", url([pair.primary, pair.standby], "?target_session_attrs=prefer-standby"), "--verbose"]);
    expect(restore.status).toBe(0);
    expect(connectedSession(restore).port).toBe(String(pair.primary.port));
  });

  test("a backup from a standby says so in the manifest, with the commit time its data is as of", async () => {
    // A commit on the primary, replayed by the standby: the backup's data is as of that commit (or a later one).
    const [committed] = await pair.sql(DB)`update netraven.devices set description = 'replayed' where id = (select min(id) from netraven.devices) returning clock_timestamp() as at`;
    await pair.waitForStandby();
    const dir = tempDir();
    const backup = await run(["backup", "--dir", dir, "--json", "--url", url([pair.standby])]);
    expect(backup.status).toBe(0);
    const doc = JSON.parse(backup.stdout);
    expect(doc.taken_from).toBe("standby");
    const replayed = Date.parse(doc.standby_replay_timestamp);
    expect(replayed).toBeGreaterThanOrEqual(Math.floor((committed!.at as Date).getTime()) - 1);
    expect(replayed).toBeLessThanOrEqual(Date.parse(doc.started_at));
    const manifest = JSON.parse(readFileSync(join(dir, `${doc.file}.json`), "utf8"));
    expect({ taken_from: manifest.taken_from, standby_replay_timestamp: manifest.standby_replay_timestamp }).toEqual({ taken_from: "standby", standby_replay_timestamp: doc.standby_replay_timestamp });

    const text = await run(["backup", "--dir", dir, "--keep-days", "0", "--url", url([pair.standby])]);
    expect(text.status).toBe(0);
    expect(text.stderr).toMatch(/taken from a standby: its data is as of the last commit it had replayed, \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+\.\d s before the backup started\)/);

    const primary = await run(["backup", "--dir", dir, "--keep-days", "0", "--json", "--url", url([pair.primary])]);
    expect(primary.status).toBe(0);
    expect(JSON.parse(primary.stdout)).toMatchObject({ taken_from: "primary", standby_replay_timestamp: null });
    expect((await run(["backup", "--dir", dir, "--keep-days", "0", "--url", url([pair.primary])])).stderr).not.toContain("standby");
  });

  test("prefer-standby falls back to the primary when no standby answers", async () => {
    const result = await run(["backup", "--dir", tempDir(), "--url", url([pair.primary], "?target_session_attrs=prefer-standby"), "--verbose"]);
    expect(result.status).toBe(0);
    expect(connectedSession(result)).toMatchObject({ port: String(pair.primary.port), in_recovery: "off" });
  });

  test("target_session_attrs=standby with only the primary listed: NOT_STANDBY, exit 10", async () => {
    const result = await run(["backup", "--dir", tempDir(), "--json", "--url", url([pair.primary], "?target_session_attrs=standby")]);
    expect(result.status).toBe(10);
    expect(JSON.parse(result.stdout).error.code).toBe("NOT_STANDBY");
    expect(errorLines(result.stderr)[0]).toContain(`postgres@127.0.0.1:${pair.primary.port}/${DB} is a primary, not a standby, and target_session_attrs=standby asks for a standby`);
  });

  test("load_balance_hosts=random spreads the first choice over the hosts", async () => {
    const ports = new Set<string>();
    for (let i = 0; i < 20 && ports.size < 2; i++) {
      const result = await run(["backup", "--dir", tempDir(), "--url", url([pair.primary, pair.standby], "?load_balance_hosts=random"), "--verbose"]);
      expect(result.status).toBe(0);
      ports.add(connectedSession(result).port!);
    }
    expect([...ports].sort()).toEqual([String(pair.primary.port), String(pair.standby.port)].sort());
  });
});
