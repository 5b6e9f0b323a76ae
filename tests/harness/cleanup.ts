// What a test makes outside its database (temp directories, extra PostgreSQL clusters) is removed when that test
// ends, passed or failed: the preload marks each test's start and end, and everything registered while a test runs
// is undone right after it, newest first. What is made outside a test (module scope, beforeAll) is undone at the end
// of the run. scripts/test.sh then fails the run if anything is left in its private temp dir, so a forgotten
// cleanup shows up as a failed test instead of as megabytes in /tmp.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCluster, type Cluster, type ClusterOptions } from "./cluster.ts";

type Undo = () => unknown;

let inTest = false;
const afterThisTest: Undo[] = [];
const afterTheRun: Undo[] = [];

/** Registers `undo` to run when the current test ends (or at the end of the run, when called outside a test). */
export function onCleanup(undo: Undo): void {
  (inTest ? afterThisTest : afterTheRun).push(undo);
}

/** A fresh directory `netraven-NAME-XXXXXX` under the temp dir, removed with everything in it by onCleanup. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `netraven-${name}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A throwaway cluster (cluster.ts), stopped and removed by onCleanup even when the test fails half-way. */
export async function testCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await createCluster(options);
  onCleanup(() => cluster.destroy());
  return cluster;
}

async function undoAll(undos: Undo[]): Promise<void> {
  for (const undo of undos.splice(0).reverse()) {
    try {
      await undo();
    } catch (error) {
      // Keep undoing the rest; whatever stays behind is reported by scripts/test.sh's leftover check.
      console.error(`cleanup failed: ${(error as Error).message}`);
    }
  }
}

/** Preload hooks (tests/harness/preload.ts). */
export function testStarted(): void {
  inTest = true;
}

export async function testEnded(): Promise<void> {
  inTest = false;
  await undoAll(afterThisTest);
}

export async function runEnded(): Promise<void> {
  await undoAll(afterThisTest);
  await undoAll(afterTheRun);
}
