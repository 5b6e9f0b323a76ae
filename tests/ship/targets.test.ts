// The release binaries: with dist/SHA256SUMS (`npm run build:all`, which CI runs), every listed binary exists,
// matches its checksum, is an ELF file for its architecture and C library, and every one that can run here
// (natively or under qemu-user: tests/harness/targets.ts) prints `--version` with the package version, its own
// target and the git revision it was built from. Without SHA256SUMS
// only the host binary is checked, unless NETRAVEN_DB_EXPECT_ALL_TARGETS=1 (set by .ci/run) demands all targets.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { requireBinary } from "../harness/binary.ts";
import { runnerFor, type Variant } from "../harness/targets.ts";
import { EXPECT_ALL, useTool } from "../harness/tools.ts";

const TIMEOUT = 120_000;
const ROOT = resolve(import.meta.dir, "..", "..");
const DIST = join(ROOT, "dist");
const SUMS = join(DIST, "SHA256SUMS");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

/** What each variant must be, from its ELF header. */
const VARIANTS: Record<string, { machine: string; interpreter: string }> = {
  "linux-x64": { machine: "Advanced Micro Devices X86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" },
  "linux-x64-baseline": { machine: "Advanced Micro Devices X86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" },
  "linux-arm64": { machine: "AArch64", interpreter: "/lib/ld-linux-aarch64.so.1" },
  "linux-x64-musl": { machine: "Advanced Micro Devices X86-64", interpreter: "/lib/ld-musl-x86_64.so.1" },
  "linux-arm64-musl": { machine: "AArch64", interpreter: "/lib/ld-musl-aarch64.so.1" },
};

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function elf(path: string): { machine: string; interpreter?: string } {
  const header = spawnSync("readelf", ["-h", "-l", "-W", path], { encoding: "utf8" });
  if (header.status !== 0) throw new Error(`readelf ${path}: ${header.stderr}`);
  return {
    machine: header.stdout.match(/Machine:\s+(.+)/)?.[1]?.trim() ?? "?",
    interpreter: header.stdout.match(/Requesting program interpreter: ([^\]]+)\]/)?.[1],
  };
}

/** --version from an empty directory with an empty environment, as a container's first run would. */
function version(command: string[]): { status: number | null; stdout: string; stderr: string } {
  const cwd = mkdtempSync(join(tmpdir(), "netraven-version-"));
  try {
    const result = spawnSync(command[0]!, [...command.slice(1), "--version"], { cwd, env: {}, encoding: "utf8", timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The stamped revision is a commit of this repository that HEAD contains (HEAD itself in CI's fresh clone). */
function expectRevisionStamped(line: string, target: string): void {
  const match = line.match(/^netraven-db (\S+) \(revision ([0-9a-f]{12})(-dirty)?, (\S+)\) schema version \d+$/);
  expect(`${line} -> ${match ? "ok" : "does not match"}`).toBe(`${line} -> ok`);
  const [, stampedVersion, revision, , stampedTarget] = match!;
  expect(stampedVersion).toBe(pkg.version);
  expect(stampedTarget).toBe(target);
  const ancestor = spawnSync("git", ["merge-base", "--is-ancestor", revision!, "HEAD"], { cwd: ROOT });
  expect(`revision ${revision} in HEAD's history: ${ancestor.status === 0}`).toBe(`revision ${revision} in HEAD's history: true`);
  if (process.env.CI === "true") {
    const head = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    expect(revision).toBe(head);
  }
}

function readSums(): Array<{ hash: string; name: string }> {
  return readFileSync(SUMS, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const match = line.match(/^([0-9a-f]{64}) {2}(\S+)$/);
      if (!match) throw new Error(`malformed SHA256SUMS line: ${JSON.stringify(line)}`);
      return { hash: match[1]!, name: match[2]! };
    });
}

if (existsSync(SUMS)) {
  describe("all targets (dist/SHA256SUMS from npm run build:all)", () => {
    test("lists every target once, and `sha256sum -c` agrees", () => {
      const names = readSums().map((entry) => entry.name);
      expect(names.sort()).toEqual(Object.keys(VARIANTS).map((v) => `netraven-db-${v}`).sort());
      const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: DIST, encoding: "utf8" });
      expect(check.stdout.trim().split("\n").every((l) => l.endsWith(": OK"))).toBe(true);
      expect(check.status).toBe(0);
    });

    for (const [variant, want] of Object.entries(VARIANTS)) {
      const runner = runnerFor(variant as Variant);
      const runs = runner ? `, prints --version with the revision (${runner.how})${runner.tools.map((t) => t.note).join("")}` : " (cannot run here: header checked)";
      test(`netraven-db-${variant}: exists, matches its checksum, ELF for ${want.machine} with ${want.interpreter}${runs}`, () => {
        const path = join(DIST, `netraven-db-${variant}`);
        expect(`${path} exists: ${existsSync(path)}`).toBe(`${path} exists: true`);
        const listed = readSums().find((entry) => entry.name === `netraven-db-${variant}`);
        expect(sha256(path)).toBe(listed!.hash);
        const header = elf(path);
        expect(header.machine).toBe(want.machine);
        expect(header.interpreter).toBe(want.interpreter);
        if (runner && runner.tools.every(useTool)) {
          const run = version(runner.command);
          expect(run.stderr).toBe("");
          expect(run.status).toBe(0);
          expectRevisionStamped(run.stdout.trim(), variant);
        }
      }, TIMEOUT);
    }

    test("dist/netraven-db is the host's release binary (or, outside CI, a newer `npm run build`)", () => {
      const host = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
      const same = sha256(requireBinary()) === sha256(join(DIST, `netraven-db-${host}`));
      if (!same && !EXPECT_ALL && statSync(requireBinary()).mtimeMs > statSync(SUMS).mtimeMs + 5_000) {
        // A developer ran `npm run build` after `npm run build:all`: dist/netraven-db is newer than the release set.
        console.warn("dist/netraven-db was rebuilt after build:all; the release binaries in dist/ are older");
        return;
      }
      expect(same).toBe(true);
    });
  });
} else {
  describe("host binary only (no dist/SHA256SUMS: npm run build:all was not run)", () => {
    test(EXPECT_ALL ? "NETRAVEN_DB_EXPECT_ALL_TARGETS=1 but dist/SHA256SUMS is missing" : "dist/netraven-db prints --version with the revision", () => {
      if (EXPECT_ALL) {
        throw new Error(`${SUMS} is missing, so the release targets were not built; NETRAVEN_DB_EXPECT_ALL_TARGETS=1 (set by .ci/run) requires them: run \`npm run build:all\``);
      }
      console.warn("dist/SHA256SUMS missing: checking the host binary only (npm run build:all builds and checksums every target)");
      const run = version([requireBinary()]);
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expectRevisionStamped(run.stdout.trim(), process.arch === "arm64" ? "linux-arm64" : "linux-x64");
    });
  });
}
