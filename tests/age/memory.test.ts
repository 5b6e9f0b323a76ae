// Bounded memory: 512 MiB encrypted and decrypted in one streaming pipeline in a child process, whose RSS is
// sampled every 32 MiB. Holding the data (or a growing part of it) would show as hundreds of MiB; the stages hold a
// few 64 KiB chunks. Numbers are printed for the record; time is not checked.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ageKeygen, requireAgeCli } from "../harness/age-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-age-rss-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ChildReport {
  bytes: number;
  cipherBytes: number;
  inputSha256: string;
  outputSha256: string;
  startRssMiB: number;
  peakRssMiB: number;
  samples: Array<{ mib: number; rssMiB: number }>;
  seconds: number;
}

test("512 MiB through encrypt + decrypt: identical bytes, peak RSS under 150 MiB and flat after the first 64 MiB", () => {
  requireAgeCli();
  const key = ageKeygen(dir);
  const mib = 512;
  const child = spawnSync(process.execPath, [join(import.meta.dir, "rss-child.ts"), String(mib), key.identityFile, key.publicKey], {
    encoding: "utf8",
    timeout: 300_000,
  });
  expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: "" });
  const report = JSON.parse(child.stdout) as ChildReport;
  console.log(`age stream memory (bun): start ${report.startRssMiB} MiB, peak ${report.peakRssMiB} MiB; RSS per 32 MiB: ${report.samples.map((s) => s.rssMiB).join(" ")}`);

  expect(report.bytes).toBe(mib * 1024 * 1024);
  expect(report.outputSha256).toBe(report.inputSha256);
  // One X25519 stanza header (~200 bytes), the nonce, and a 16-byte tag for each of the 8,192 chunks.
  const overhead = report.cipherBytes - report.bytes - 16 - 16 * ((mib * 1024 * 1024) / (64 * 1024));
  expect(overhead).toBeGreaterThan(100);
  expect(overhead).toBeLessThan(300);

  expect(report.peakRssMiB).toBeLessThan(150);
  const at64 = report.samples.find((s) => s.mib === 64)!.rssMiB;
  const last = report.samples.at(-1)!;
  expect(last.mib).toBe(mib);
  expect(Math.max(...report.samples.map((s) => s.rssMiB)) - at64).toBeLessThan(40);
}, 300_000);
