// The benchmark script must not rot: its smallest size, one repetition, against the built binary, and every row of
// the report has both sides measured. Only that it runs and what it records is checked, never how fast anything was
// (timings on a shared CI machine are not test material).
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MEASUREMENTS, ROWS, RSS_MEASUREMENTS } from "../../bench/cases.ts";
import type { Results } from "../../bench/run.ts";
import { requireBinary } from "../harness/binary.ts";

const ROOT = resolve(import.meta.dir, "..", "..");

test("bun bench/run.ts --smoke measures every row and writes a complete result file", () => {
  const binary = requireBinary();
  const dir = mkdtempSync(join(tmpdir(), "netraven-bench-smoke-"));
  try {
    const out = join(dir, "smoke.json");
    const run = spawnSync(process.execPath, ["bench/run.ts", "--smoke", "--binary", binary, "--out", out, "--no-doc"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 170_000,
    });
    expect({ status: run.status, stderr: run.status === 0 ? "" : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: "" });

    const results = JSON.parse(readFileSync(out, "utf8")) as Results;
    expect(results.kind).toBe("netraven-db benchmark");
    expect(results.smoke).toBe(true);
    expect(results.sizes.map((s) => s.name)).toEqual(["small"]);
    const [small] = results.sizes;
    expect(small!.copyBytes).toBeGreaterThan(5_000_000);
    expect(small!.tables.length).toBe(14);
    for (const measurement of MEASUREMENTS) {
      const recorded = small!.measurements[measurement.id];
      expect({ id: measurement.id, runs: recorded?.runs.length ?? 0 }).toEqual({ id: measurement.id, runs: 1 });
      expect(recorded!.display.length).toBeGreaterThan(0);
      expect(recorded!.runs[0]!.wallMs).toBeGreaterThan(0);
    }
    for (const row of ROWS) {
      expect(small!.measurements[row.ours]?.runs[0]?.wallMs).toBeGreaterThan(0);
      expect(small!.measurements[row.theirs]?.runs[0]?.wallMs).toBeGreaterThan(0);
    }
    for (const id of RSS_MEASUREMENTS) expect(small!.measurements[id]!.runs[0]!.rssKb).toBeGreaterThan(0);
    expect(results.versions["netraven-db"]).toStartWith("netraven-db ");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
