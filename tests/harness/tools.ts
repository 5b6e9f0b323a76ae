// Optional checkers: tools that make a test stronger but that a developer's machine may lack (the system gunzip
// and zstd, shellcheck, a Compose validator, the musl loader, qemu for the arm64 build). CI installs every one of
// them and sets NETRAVEN_DB_EXPECT_ALL_TARGETS=1, the one switch for "everything must be here": then a missing tool
// FAILS the test that needs it. Elsewhere the test does what it can without the tool, and its name says so
// ("... [WITHOUT shellcheck: not installed]") in the output and the JUnit report: never a silent skip.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Set by .ci/run: every release target is built and every optional tool is installed. */
export const EXPECT_ALL = process.env.NETRAVEN_DB_EXPECT_ALL_TARGETS === "1";

export interface OptionalTool {
  name: string;
  /** How to get it; .ci/run does exactly this. */
  install: string;
  found: boolean;
  /** What "missing" means for it: "not installed", "not built". */
  absent: string;
  /** "" when found, else " [WITHOUT name: not installed]": append it to the name of a test that uses the tool. */
  note: string;
}

/** A command counts as installed when `argv` runs and exits 0 (e.g. ["zstd", "--version"]). */
export const commandWorks = (argv: string[]): boolean => spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore", timeout: 30_000 }).status === 0;

/** A file counts as installed when it exists (a loader, a library directory). */
export const fileExists = (path: string): boolean => existsSync(path);

export function optionalTool(name: string, found: boolean, install: string, absent = "not installed"): OptionalTool {
  return { name, install, found, absent, note: found ? "" : ` [WITHOUT ${name}: ${absent}]` };
}

/**
 * Call inside the test, before the part that needs the tool. Returns true when it is there. When it is not: throws
 * under NETRAVEN_DB_EXPECT_ALL_TARGETS=1 (the test fails), otherwise warns and returns false, and the test goes on
 * with what it can check without the tool.
 */
export function useTool(tool: OptionalTool): boolean {
  if (tool.found) return true;
  if (EXPECT_ALL) {
    throw new Error(`${tool.name}: ${tool.absent}, and NETRAVEN_DB_EXPECT_ALL_TARGETS=1 (set by .ci/run) requires it: ${tool.install}`);
  }
  console.warn(`${tool.name}: ${tool.absent} (${tool.install}); this test ran without it`);
  return false;
}
