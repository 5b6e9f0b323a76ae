// A flag that is present must carry a value, and a variable that is set must not be empty: neither may fall back
// to the environment or a default (issue 17, items 1, 2 and 5). Once, `restore F --url "" --yes` with DATABASE_URL
// set restored into DATABASE_URL's database, and `backup --dir` created /backups at the filesystem root. Every case
// runs the compiled binary against a listener that counts connections: "before any connection" is observed, not
// assumed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { createTestDatabase, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { commands } from "../../src/commands/index.ts";

let listener: Server;
let connections = 0;
let trapUrl: string;
const work = mkdtempSync(join(tmpdir(), "netraven-empty-"));

beforeAll(async () => {
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as { port: number }).port;
  trapUrl = `postgresql://nobody@127.0.0.1:${port}/trap`;
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

function expectUsage(run: RunResult, message: string): void {
  const errors = run.stderr.split("\n").filter((line) => line.startsWith("netraven-db: error:"));
  expect({ status: run.status, errors }).toEqual({ status: 3, errors: [`netraven-db: error: ${message}`] });
}

/** Every string flag of every command, read from the commands themselves, so a new flag is covered too. */
async function stringFlags(): Promise<Array<{ command: string; flag: string; positional?: string }>> {
  const flags: Array<{ command: string; flag: string; positional?: string }> = [];
  for (const [command, load] of Object.entries(commands)) {
    const args = ((await load()).args ?? {}) as Record<string, { type?: string; required?: boolean }>;
    const positional = Object.values(args).some((def) => def.type === "positional" && def.required) ? join(work, "x.sql.gz") : undefined;
    for (const [name, def] of Object.entries(args)) if ((def.type ?? "string") === "string") flags.push({ command, flag: name, positional });
  }
  return flags;
}

const flags = await stringFlags();

describe("a flag given without a value is refused before any connection (exit 3)", () => {
  test("the commands do have string flags to check", () => {
    expect(flags.length).toBeGreaterThan(20);
  });
  for (const { command, flag, positional } of flags) {
    test(`${command} --${flag} "" and ${command} --${flag} (last)`, async () => {
      const before = connections;
      const base = positional ? [command, positional] : [command];
      for (const args of [[...base, `--${flag}`, ""], [...base, `--${flag}=`], [...base, `--${flag}`]]) {
        const run = await runBinary(args, { env: { DATABASE_URL: trapUrl } });
        expectUsage(run, `option --${flag} requires a value`);
      }
      expect(connections).toBe(before);
    });
  }

  test("a flag followed by another flag does not swallow it: --target-db --yes", async () => {
    const run = await runBinary(["restore", join(work, "x.sql.gz"), "--target-db", "--yes"], { env: { DATABASE_URL: trapUrl } });
    expectUsage(run, "option --target-db requires a value (found the option --yes where its value belongs)");
  });
});

describe("a variable that is set but empty is refused, naming it (exit 3)", () => {
  const CASES: Array<[string[], string]> = [
    [["backup"], "NETRAVEN_DB_DIR"],
    [["list"], "NETRAVEN_DB_DIR"],
    [["backup", "--dir", "/tmp"], "NETRAVEN_DB_COMPRESS"],
    [["backup", "--dir", "/tmp"], "NETRAVEN_DB_PREFIX"],
    [["backup", "--dir", "/tmp"], "NETRAVEN_DB_KEEP_DAYS"],
    [["init"], "NETRAVEN_DB_RETRY"],
    [["init"], "NETRAVEN_DB_SCHEMA"],
    [["init"], "NETRAVEN_DB_LOCK_TIMEOUT"],
    [["validate"], "NETRAVEN_DB_URL"],
    [["init"], "NETRAVEN_DB_ADMIN_PASSWORD"],
  ];
  for (const [args, variable] of CASES) {
    test(`${variable}= with ${args.join(" ")}`, async () => {
      const before = connections;
      const run = await runBinary(args, { env: { DATABASE_URL: trapUrl, [variable]: "" } });
      expectUsage(run, `${variable} is set but empty; give it a value or unset it`);
      expect(connections).toBe(before);
    });
  }

  test("DATABASE_URL= is refused, not replaced by the PG* variables", async () => {
    const run = await runBinary(["validate"], { env: { DATABASE_URL: "", PGHOST: "127.0.0.1", PGPORT: "1" } });
    expectUsage(run, "DATABASE_URL is set but empty; give it a value or unset it");
  });
});

describe("restore --url \"\" never reaches DATABASE_URL's database", () => {
  let source: TestDatabase;
  let live: TestDatabase;
  test("the DATABASE_URL database keeps its rows", async () => {
    source = await createTestDatabase();
    live = await createTestDatabase();
    for (const db of [source, live]) expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await fillRealisticData(source.sql, { devices: 20 });
    await fillRealisticData(live.sql, { devices: 35 });
    const backup = await runBinary(["backup", "--dir", work, "--json"], { env: source.env });
    expect(backup.status).toBe(0);
    const file = JSON.parse(backup.stdout).path as string;
    const before = await tableChecksums(live.sql);
    const run = await runBinary(["restore", file, "--url", "", "--yes"], { env: live.env });
    expectUsage(run, "option --url requires a value");
    expect(await tableChecksums(live.sql)).toEqual(before);
  });
});

describe("backup never creates its directory", () => {
  test("a --dir that does not exist: exit 3, one line, nothing created", async () => {
    const missing = join(work, "not-mounted", "backups");
    const run = await runBinary(["backup", "--dir", missing], { env: { DATABASE_URL: trapUrl } });
    expectUsage(run, `--dir ${missing}: does not exist (is the backup volume mounted?)`);
    expect(existsSync(join(work, "not-mounted"))).toBe(false);
  });

  test("the default /backups is not created either when it is missing", async () => {
    if (existsSync("/backups")) throw new Error("/backups exists on this machine: this test cannot tell whether backup created it");
    const run = await runBinary(["backup"], { env: { DATABASE_URL: trapUrl } });
    expectUsage(run, "--dir /backups: does not exist (is the backup volume mounted?)");
    expect(existsSync("/backups")).toBe(false);
  });

  test("NETRAVEN_DB_DIR naming a missing directory is refused the same way", async () => {
    const missing = join(work, "typo");
    const run = await runBinary(["backup"], { env: { DATABASE_URL: trapUrl, NETRAVEN_DB_DIR: missing } });
    expectUsage(run, `--dir ${missing}: does not exist (is the backup volume mounted?)`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe("file errors say what is wrong in words, never the errno name", () => {
  const ERRNO = /\bE[A-Z]{3,}\b/;
  const CASES: Array<[string, string[], Record<string, string | undefined>, string]> = [
    ["a *_FILE that does not exist", ["init"], { DATABASE_URL: undefined, DATABASE_URL_FILE: "/no/such/secret" }, "DATABASE_URL_FILE: cannot read /no/such/secret: does not exist"],
    ["a *_FILE that is a directory", ["init"], { DATABASE_URL: undefined, DATABASE_URL_FILE: "/tmp" }, "DATABASE_URL_FILE: cannot read /tmp: is a directory, not a file"],
    ["a --dir under a file", ["backup", "--dir", "/etc/hostname/sub"], {}, "--dir /etc/hostname/sub: not a directory (or a part of the path is not one)"],
    ["a --dir that is a file", ["backup", "--dir", "/etc/hostname"], {}, "--dir /etc/hostname: not a directory (or a part of the path is not one)"],
    ["a restore file that does not exist", ["restore", "/no/such/file.sql.gz", "--yes"], {}, "FILE /no/such/file.sql.gz: does not exist"],
  ];
  for (const [what, args, env, message] of CASES) {
    test(what, async () => {
      const run = await runBinary(args, { env: { DATABASE_URL: trapUrl, ...env } });
      expectUsage(run, message);
      expect(run.stderr).not.toMatch(ERRNO);
    });
  }
});
