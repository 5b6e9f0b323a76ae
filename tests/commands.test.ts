// Every command has a case here: the Record type makes adding a command without a test a type error.
// Each case runs the compiled binary from an empty directory and checks exit status, stdout and stderr apart.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { CommandName } from "../src/commands/index.ts";
import { runBinary } from "./harness/binary.ts";
import { createTestDatabase } from "./harness/db.ts";
import { tempDir } from "./harness/cleanup.ts";

const cases: Record<CommandName, () => Promise<void>> = {
  async init() {
    const db = await createTestDatabase();
    const run = await runBinary(["init"], { env: db.env });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^netraven-db: Created schema "netraven"/);
  },
  async validate() {
    const db = await createTestDatabase();
    await runBinary(["init"], { env: db.env });
    const run = await runBinary(["validate"], { env: db.env });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("Schema matches definitions (13 tables checked).\n");
    expect(run.stderr).toBe("");
  },
  async backup() {
    const db = await createTestDatabase();
    await runBinary(["init"], { env: db.env });
    const dir = tempDir("cmd");
    const run = await runBinary(["backup", "--dir", dir, "--quiet"], { env: db.env });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("");
  },
  async verify() {
    const run = await runBinary(["verify", "/definitely/not/here.sql.gz"], {});
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("cannot read /definitely/not/here.sql.gz: does not exist");
  },
  async list() {
    const dir = tempDir("cmd");
    const run = await runBinary(["list", "--dir", dir, "--json"], {});
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ok: true, dir, backups: [] });
    expect(run.stderr).toBe("");
  },
  async restore() {
    const run = await runBinary(["restore"], { env: { DATABASE_URL: "postgresql://u@127.0.0.1:1/x" } });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("Missing required positional argument: FILE");
  },
};

describe("commands", () => {
  for (const [name, run] of Object.entries(cases)) {
    test(`${name}: runs from an empty directory`, run);
    test(`${name}: --help prints its usage and the exit codes on stdout, exit 0`, async () => {
      const help = await runBinary([name, "--help"], {});
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`netraven-db ${name}`);
      expect(help.stdout).toContain("EXIT CODES");
      expect(help.stderr).toBe("");
    });
  }
});

describe("the root command", () => {
  test("--version names the version, revision and schema version", async () => {
    const run = await runBinary(["--version"], {});
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^netraven-db \d+\.\d+\.\d+ \(revision [0-9a-f]{12}(-dirty)?, linux-(x64|arm64)\) schema version 1\n$/);
  });

  test("no command prints usage on stderr with the usage exit status; an unknown command is one line", async () => {
    const none = await runBinary([], {});
    expect(none.status).toBe(3);
    expect(none.stderr).toContain("COMMANDS");
    const unknown = await runBinary(["frobnicate"], {});
    expect(unknown.status).toBe(3);
    expect(unknown.stderr.split("\n")[0]).toBe('netraven-db: error: unknown command "frobnicate"');
  });

  test("a stray .env in the working directory is ignored", async () => {
    const dir = tempDir("env");
    await Bun.write(join(dir, ".env"), "DATABASE_URL=postgresql://evil:evil@127.0.0.1:1/evil\n");
    const run = await runBinary(["validate"], { cwd: dir, env: {} });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("no database connection settings");
  });
});
