// Waiting for the server, refusing what cannot heal, and many inits at once: real processes, real servers.
import { describe, expect, test } from "bun:test";
import { runBinary } from "../harness/binary.ts";
import { createCluster, freePort } from "../harness/cluster.ts";
import { createTestDatabase, testServer } from "../harness/db.ts";

describe("waiting for the server", () => {
  test("--retry waits for a server that starts 3 s after the binary", async () => {
    const port = await freePort();
    const cluster = await createCluster({ port, start: false });
    try {
      const running = runBinary(["init", "--retry", "40", "--retry-interval", "0.5", "--retry-max-interval", "1"], {
        env: { DATABASE_URL: cluster.url("postgres") },
      });
      await Bun.sleep(3000);
      cluster.start();
      const run = await running;
      expect(run.stderr).toContain("(attempt 1/40)");
      expect(run.stderr).toContain("connection refused");
      expect(run.stderr).toContain("Created schema");
      expect(run.status).toBe(0);
      expect(run.durationMs).toBeGreaterThan(2500);
      expect(run.stderr + run.stdout).not.toContain(cluster.password);
    } finally {
      cluster.destroy();
    }
  });

  test("gives up with exit 4 and says how long it waited", async () => {
    const port = await freePort();
    const run = await runBinary(["init", "--retry", "3", "--retry-interval", "0.2"], {
      env: { DATABASE_URL: `postgresql://postgres:secret-pw@127.0.0.1:${port}/postgres` },
    });
    expect(run.status).toBe(4);
    const lines = run.stderr.trim().split("\n");
    expect(lines.filter((l) => l.includes("Waiting for PostgreSQL"))).toHaveLength(2);
    expect(lines.find((l) => l.includes("error:"))).toMatch(/gave up after 3 attempts over \d+\.\d s/);
    expect(run.stderr).not.toContain("secret-pw");
  });

  test("a missing unix socket is waited for, then reported", async () => {
    const run = await runBinary(["init", "--retry", "2", "--retry-interval", "0.1"], {
      env: { PGHOST: "/nonexistent-socket-dir", PGUSER: "postgres", PGDATABASE: "postgres" },
    });
    expect(run.status).toBe(4);
    expect(run.stderr).toContain("no unix socket there yet");
  });
});

describe("refusing what cannot heal", () => {
  test("a wrong password fails at once with exit 5, no retries, no password in the output", async () => {
    const db = await createTestDatabase();
    const server = testServer();
    const wrong = "definitely-Wrong-pw";
    const url = `postgresql://${server.user}:${wrong}@127.0.0.1:${server.port}/${db.name}`;
    const run = await runBinary(["init", "--retry", "30", "--retry-interval", "10"], { env: { DATABASE_URL: url } });
    expect(run.status).toBe(5);
    expect(run.stderr).not.toContain("Waiting");
    expect(run.stderr).toContain("password authentication failed");
    expect(run.stderr).not.toContain(wrong);
    expect(run.stdout).not.toContain(wrong);
  });

  test("no password at all: 'no password supplied' and where one is looked for, exit 5 at once, nothing sent to the server", async () => {
    const db = await createTestDatabase();
    const server = testServer();
    const url = `postgresql://${server.user}@${server.host}:${server.port}/${db.name}`;
    const run = await runBinary(["init", "--retry", "30", "--retry-interval", "2"], { env: { DATABASE_URL: url } });
    expect(run.status).toBe(5);
    expect(run.stderr).not.toContain("Waiting");
    expect(run.stderr).not.toContain("password authentication failed");
    const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^netraven-db: error: no password supplied for user "${server.user}" at ${server.host.replace(/\./g, "\\.")}:${server.port}; netraven-db looks in the connection string \\(--url, NETRAVEN_DB_URL, DATABASE_URL\\), PGPASSWORD, PGPASSWORD_FILE and the password file /\\S+/\\.pgpass \\(passfile / PGPASSFILE\\)$`,
      ),
    );
    const json = await runBinary(["validate", "--json"], { env: { DATABASE_URL: url } });
    expect(json.status).toBe(2); // validate: could not check
    expect(JSON.parse(json.stdout).error.code).toBe("NO_PASSWORD");
  });

  test("an unknown database fails at once with exit 5", async () => {
    const server = testServer();
    const run = await runBinary(["validate", "--retry", "30"], { env: { DATABASE_URL: server.url("no_such_database_here") } });
    expect(run.status).toBe(2); // validate: could not check
    const init = await runBinary(["init", "--retry", "30"], { env: { DATABASE_URL: server.url("no_such_database_here") } });
    expect(init.status).toBe(5);
    expect(init.stderr).toContain('database "no_such_database_here" does not exist');
  });
});

describe("TLS that cannot work", () => {
  test("sslmode=require against a server without TLS fails at once with exit 5, not as a retried reset", async () => {
    const cluster = await createCluster({ tls: false });
    try {
      const run = await runBinary(["init", "--retry", "20", "--retry-interval", "1"], { env: { DATABASE_URL: `${cluster.url("postgres")}?sslmode=require` } });
      expect(run.status).toBe(5);
      expect(run.stderr).toContain("the server does not accept TLS connections");
      expect(run.stderr).not.toContain("Waiting");
    } finally {
      cluster.destroy();
    }
  });
});

describe("concurrent starts", () => {
  test("8 inits at once on an empty database: all exit 0, one creates, the schema is whole", async () => {
    const db = await createTestDatabase();
    const runs = await Promise.all(Array.from({ length: 8 }, () => runBinary(["init", "--json", "--retry", "5"], { env: db.env })));
    for (const run of runs) expect(run.status).toBe(0);
    const actions = runs.map((r) => JSON.parse(r.stdout).action).sort();
    expect(actions.filter((a) => a === "created")).toHaveLength(1);
    expect(actions.filter((a) => a === "up-to-date")).toHaveLength(7);
    const versions = await db.sql`select version from netraven.netraven_db_version`;
    expect(versions).toHaveLength(1);
    const validate = await runBinary(["validate"], { env: db.env });
    expect(validate.stdout).toContain("Schema matches definitions");
    expect(validate.status).toBe(0);
  });
});
