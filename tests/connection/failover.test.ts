// Failover while a command waits: the primary stops, the standby is promoted a few seconds later, and
// `init --retry 30` started in between reaches the new primary and succeeds, each retry line naming every host
// tried and why it was skipped. Real servers, the compiled binary; each test gets its own pair (promotion is final).
import { afterEach, describe, expect, test } from "bun:test";
import { runBinary } from "../harness/binary.ts";
import { createPair, type Pair } from "../harness/ha.ts";
import { connectedSession } from "../harness/session.ts";

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.destroy();
  pair = undefined;
});

async function pairWithDatabase(): Promise<Pair> {
  pair = await createPair();
  await pair.sql()`create database app`;
  await pair.waitForStandby();
  return pair;
}

describe("failover while init waits", () => {
  test("init --retry 30: primary down, standby promoted 3 s later, init lands on the new primary", async () => {
    const { primary, standby } = await pairWithDatabase();
    primary.stop("fast");
    const url = `postgresql://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/app`;
    const running = runBinary(["init", "--url", url, "--retry", "30", "--retry-interval", "0.5", "--retry-max-interval", "1", "--verbose"], {
      env: { PGPASSWORD: primary.password },
      timeoutMs: 90_000,
    });
    await Bun.sleep(3000);
    standby.promote();
    const run = await running;
    // The run as an admin sees it (without --verbose's debug lines), in the test log.
    console.log(`failover run (exit ${run.status}):\n${run.stderr.split("\n").filter((l) => !l.includes("debug")).join("\n")}`);
    expect(run.status).toBe(0);
    const waits = run.stderr.split("\n").filter((l) => l.includes("Waiting for PostgreSQL"));
    expect(waits.length).toBeGreaterThanOrEqual(2);
    for (const line of waits) {
      expect(line).toMatch(new RegExp(`^netraven-db: Waiting for PostgreSQL \\(attempt \\d+/30\\): 127\\.0\\.0\\.1:${primary.port} refused, 127\\.0\\.0\\.1:${standby.port} standby; retrying in \\d+\\.\\d s$`));
    }
    expect(run.stderr).toMatch(new RegExp(`Connected to postgres@127\\.0\\.0\\.1:${standby.port}/app after \\d+ attempts`));
    expect(run.stderr).toContain('Created schema "netraven" in database "app"');
    expect(connectedSession(run)).toMatchObject({ port: String(standby.port), in_recovery: "off" });
    expect(run.stderr + run.stdout).not.toContain(primary.password);

    // The schema is on the promoted server, and a second run with the same list finds it there.
    const again = await runBinary(["init", "--url", url], { env: { PGPASSWORD: primary.password } });
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("up to date");
  });

  test("without --retry, the same situation fails at once with every host and why, exit 4", async () => {
    const { primary, standby } = await pairWithDatabase();
    primary.stop("fast");
    const url = `postgresql://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/app`;
    const run = await runBinary(["init", "--json", "--url", url, "--retry", "1"], { env: { PGPASSWORD: primary.password } });
    expect(run.status).toBe(4);
    const doc = JSON.parse(run.stdout);
    expect(doc.error.code).toBe("CONNECT_FAILED");
    expect(doc.error.message).toBe(`cannot connect to postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/app: 127.0.0.1:${primary.port} refused, 127.0.0.1:${standby.port} standby; gave up after 1 attempt over ${doc.error.message.match(/over (\d+\.\d) s/)[1]} s`);
    expect(doc.hosts_tried).toEqual([
      { host: `127.0.0.1:${primary.port}`, result: "refused" },
      { host: `127.0.0.1:${standby.port}`, result: "standby" },
    ]);
  });

  test("a standby-only list with --retry waits for the promotion", async () => {
    const { primary, standby } = await pairWithDatabase();
    const running = runBinary(["init", "--url", `postgresql://postgres@127.0.0.1:${standby.port}/app`, "--retry", "30", "--retry-interval", "0.5", "--retry-max-interval", "1"], {
      env: { PGPASSWORD: primary.password },
      timeoutMs: 90_000,
    });
    await Bun.sleep(2000);
    primary.stop("fast");
    standby.promote();
    const run = await running;
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`Waiting for PostgreSQL at postgres@127.0.0.1:${standby.port}/app (attempt 1/30): the server is a standby in recovery (a promotion may be under way)`);
    expect(run.stderr).toContain("Created schema");
  });
});
