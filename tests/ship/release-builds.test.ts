// Every release build runs, not only the host's: dist/netraven-db runs in every other test, and here each other
// glibc build from `npm run build:all` runs --version, init, validate, backup, verify, restore and validate again
// against the real test server, as a user would run it: natively when it is this machine's CPU (linux-x64-baseline
// on x64), under qemu-user otherwise (linux-arm64 on x64: Debian's qemu-user-static with the arm64 loader and C
// library from libc6-arm64-cross; tests/harness/targets.ts). The data restored by the other build must be the
// source's, row for row. The musl builds cannot run here (no musl libstdc++ in Debian): rootfs.test.ts checks
// their ELF headers and says so in its test names. CI (NETRAVEN_DB_EXPECT_ALL_TARGETS=1) fails when a build or
// the emulator is missing; elsewhere the test's name says what was missing.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runBinary, type RunOptions } from "../harness/binary.ts";
import { tempDir } from "../harness/cleanup.ts";
import { createTestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { DIST, runnerFor, type Variant } from "../harness/targets.ts";
import { fileExists, optionalTool, useTool } from "../harness/tools.ts";

const TIMEOUT = 900_000; // qemu runs the arm64 build about ten times slower than native
const pkg = JSON.parse(readFileSync(join(DIST, "..", "package.json"), "utf8")) as { version: string };
const HOST_VARIANT: Variant = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
const GLIBC_BUILDS: Variant[] = ["linux-x64", "linux-x64-baseline", "linux-arm64"];

describe("the other release builds against the real server", () => {
  for (const variant of GLIBC_BUILDS.filter((v) => v !== HOST_VARIANT)) {
    const runner = runnerFor(variant);
    if (!runner) throw new Error(`no way to run ${variant} on ${process.arch} is known (tests/harness/targets.ts)`);
    const needs = [optionalTool(`dist/netraven-db-${variant}`, fileExists(runner.binary), "npm run build:all", "not built"), ...runner.tools];

    test(`${variant} (${runner.how}): --version, init, validate, backup, verify, restore, validate${needs.map((n) => n.note).join("")}`, async () => {
      for (const need of needs) if (!useTool(need)) return; // named [WITHOUT ...] above; throws under CI
      const steps: string[] = [];
      const run = async (args: string[], options: RunOptions = {}) => {
        const result = await runBinary(args, { timeoutMs: 300_000, ...options, command: runner.command });
        steps.push(`${args[0]} ${(result.durationMs / 1000).toFixed(1)} s`);
        return result;
      };

      const version = await run(["--version"]);
      expect(version.stderr).toBe("");
      expect(version.stdout).toMatch(new RegExp(`^netraven-db ${pkg.version.replace(/\./g, "\\.")} \\(revision [0-9a-f]{12}(-dirty)?, ${variant}\\) schema version \\d+\\n$`));
      expect(version.status).toBe(0);

      const source = await createTestDatabase("nrt_build");
      const init = await run(["init"], { env: source.env });
      expect(init.stderr).toContain(`Created schema "netraven" in database "${source.name}"`);
      expect(init.status).toBe(0);
      const validate = await run(["validate"], { env: source.env });
      expect(validate.stdout).toContain("Schema matches definitions");
      expect(validate.status).toBe(0);

      await fillRealisticData(source.sql, { devices: 300 });
      const dir = tempDir("build");
      const backup = await run(["backup", "--dir", dir, "--json"], { env: source.env });
      expect(backup.stderr).not.toContain("error");
      expect(backup.status).toBe(0);
      const file = JSON.parse(backup.stdout).path as string;
      expect(file.startsWith(dir)).toBe(true);

      const verify = await run(["verify", file]);
      expect(verify.status).toBe(0);

      const target = await createTestDatabase("nrt_build_restored");
      const restore = await run(["restore", file, "--yes", "--json"], { env: target.env });
      expect(restore.status).toBe(0);
      const report = JSON.parse(restore.stdout);
      expect(report.ok).toBe(true);
      expect(report.validation.ok).toBe(true);
      for (const table of report.tables) expect({ table: table.name, rows: table.restored }).toEqual({ table: table.name, rows: table.expected });
      expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));

      const validateRestored = await run(["validate"], { env: target.env });
      expect(validateRestored.stdout).toContain("Schema matches definitions");
      expect(validateRestored.status).toBe(0);
      console.log(`${variant} (${runner.how}): ${steps.join(", ")}`); // what emulation costs CI, per command
    }, TIMEOUT);
  }
});
