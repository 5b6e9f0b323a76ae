// The benchmark script must not rot: its smallest size, one repetition, against the built binary, and every row of
// the report has both sides measured. Only that it runs and what it records is checked, never how fast anything was
// (timings on a shared CI machine are not test material).
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MEASUREMENTS, ROWS, RSS_MEASUREMENTS } from "../../bench/cases.ts";
import type { Results } from "../../bench/run.ts";
import { requireBinary } from "../harness/binary.ts";
import { missingTools as rgwMissingTools } from "../harness/rgw.ts";

const ROOT = resolve(import.meta.dir, "..", "..");

test("bun bench/run.ts --smoke measures every row and writes a complete result file", () => {
  const binary = requireBinary();
  const dir = mkdtempSync(join(tmpdir(), "netraven-bench-smoke-"));
  try {
    const out = join(dir, "smoke.json");
    const doc = join(dir, "report.md");
    const run = spawnSync(process.execPath, ["bench/run.ts", "--smoke", "--binary", binary, "--out", out, "--doc", doc], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 230_000,
    });
    expect({ status: run.status, stderr: run.status === 0 ? "" : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: "" });

    const results = JSON.parse(readFileSync(out, "utf8")) as Results;
    expect(results.kind).toBe("netraven-db benchmark");
    expect(results.smoke).toBe(true);
    expect(results.sizes.map((s) => s.name)).toEqual(["small"]);
    const [small] = results.sizes;
    expect(small!.copyBytes).toBeGreaterThan(5_000_000);
    expect(small!.tables.length).toBe(14);
    // Ours that need a flag (--jobs) are left out exactly when the binary's help does not list it: asked here
    // independently of the script, so a harness that skipped a measurement it could run fails.
    const helpOf = (command: string) => spawnSync(binary, [command, "--help"], { encoding: "utf8" }).stdout;
    const expectedSkipped = MEASUREMENTS.filter((m) => "needs" in m && !helpOf(m.needs.command).includes(m.needs.flag)).map((m) => m.id);
    expect(Object.keys(results.notImplemented ?? {}).sort()).toEqual([...expectedSkipped].sort());
    for (const id of expectedSkipped) expect(results.notImplemented![id]).toContain("--jobs");
    // The S3 rows (issue 14) need the Ceph packages and /usr/bin/aws, which CI installs: there a missing one fails
    // here; elsewhere the rows are left out with the reason, exactly when a tool is missing.
    const s3ToolsMissing = [...rgwMissingTools(), ...(existsSync("/usr/bin/aws") ? [] : ["/usr/bin/aws"])];
    if (process.env.NETRAVEN_DB_EXPECT_ALL_TARGETS === "1") expect(s3ToolsMissing).toEqual([]);
    const expectedUnavailable: string[] = s3ToolsMissing.length ? MEASUREMENTS.filter((m) => "s3" in m).map((m) => m.id) : [];
    expect(Object.keys(results.unavailable ?? {}).sort()).toEqual([...expectedUnavailable].sort());
    const measured = MEASUREMENTS.filter((m) => !expectedSkipped.includes(m.id) && !expectedUnavailable.includes(m.id));
    if (s3ToolsMissing.length === 0) {
      expect(measured.map((m) => m.id)).toEqual(expect.arrayContaining(["ours.s3.backup.gzip", "aws.backup.gzip", "ours.s3.restore.gzip", "aws.restore.gzip"]));
      expect(small!.measurements["aws.backup.gzip"]!.display).toContain("aws --endpoint-url ENDPOINT s3 cp");
      // What theirs downloaded is the object our backup to S3 wrote: a real gzip backup, not an empty file.
      expect(small!.fileBytes["S3 object (ours.s3.gzip, as downloaded)"]).toBeGreaterThan(500_000);
      expect(results.versions.aws).toStartWith("aws-cli/");
    }
    // The parallel references run in smoke too (the small size takes a second): a broken pg_dump -j or pg_restore -j
    // invocation must fail here, not 25 minutes into a full run.
    expect(measured.map((m) => m.id)).toEqual(expect.arrayContaining(["pgdump.dir.j1", "pgdump.dir.j2", "pgdump.dir.j4", "pgrestore.j1", "pgrestore.j2", "pgrestore.j4", "pgdump.zstd"]));
    for (const measurement of measured) {
      const recorded = small!.measurements[measurement.id];
      expect({ id: measurement.id, runs: recorded?.runs.length ?? 0 }).toEqual({ id: measurement.id, runs: 1 });
      expect(recorded!.display.length).toBeGreaterThan(0);
      expect(recorded!.runs[0]!.wallMs).toBeGreaterThan(0);
      expect(recorded!.runs[0]!.rssKb).toBeGreaterThan(0);
    }
    for (const id of expectedSkipped) expect(small!.measurements[id]).toBeUndefined();
    for (const id of expectedUnavailable) expect(small!.measurements[id]).toBeUndefined();
    const notRun = [...expectedSkipped, ...expectedUnavailable] as string[];
    for (const row of ROWS) {
      if (!notRun.includes(row.ours)) expect(small!.measurements[row.ours]?.runs[0]?.wallMs).toBeGreaterThan(0);
      if (!notRun.includes(row.theirs)) expect(small!.measurements[row.theirs]?.runs[0]?.wallMs).toBeGreaterThan(0);
    }
    for (const id of RSS_MEASUREMENTS.filter((m) => !notRun.includes(m))) expect(small!.measurements[id]!.runs[0]!.rssKb).toBeGreaterThan(0);
    // The -Fd dump that pg_restore -j read is a directory: its size is the sum of its files.
    expect(small!.fileBytes["pg_dump -Fd (directory, gzip 6)"]).toBeGreaterThan(500_000);
    expect(results.load!.start).toBeGreaterThanOrEqual(0);
    expect(results.versions["netraven-db"]).toStartWith("netraven-db ");
    // The report renders from it, with the issue 16 table and an honest mark in every cell that could not be measured.
    const report = readFileSync(doc, "utf8");
    expect(report).toContain("## Against the parallel references (issue 16)");
    expect(report).toContain("pg_dump -Fd -j 2");
    expect(report).toContain("## Object storage (issue 14)");
    expect(report.includes("*not run*")).toBe(expectedUnavailable.length > 0);
    expect(report.includes("*not implemented yet*")).toBe(expectedSkipped.length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 240_000);
