// Reads JUnit XML reports (bun test, deno test) and prints the one line CI ends with: "N passed, N failed".
// Computed from the reports, never typed by hand. A skipped or todo test counts as failed: nothing here may skip.
// Arguments are REPORT=STATUS, the runner's exit status: a runner that failed although its report lists no failed
// test (bun does not report an error thrown outside a test, e.g. while a file loads) adds one failure.
// Exit status: 0 when nothing failed and at least one test ran.
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
const failures = [];
for (const argument of process.argv.slice(2)) {
  const [file, status] = argument.split("=");
  const failedBefore = failed;
  if (!existsSync(file)) {
    failures.push(`${file}: report missing (the test run crashed before writing it)`);
    failed += 1;
    continue;
  }
  const xml = readFileSync(file, "utf8");
  const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
  for (const block of cases) {
    if (/^<testcase\b[^>]*\/>$/.test(block.trim()) || !/<(failure|error|skipped)\b/.test(block)) passed += 1;
    else {
      failed += 1;
      failures.push(`${file}: ${(block.match(/name="([^"]*)"/) ?? [])[1] ?? "?"}`);
    }
  }
  if (status !== undefined && status !== "0" && failed === failedBefore) {
    failed += 1;
    failures.push(`${file}: the runner exited with status ${status} without a failed test in its report (an error outside any test: see the log above)`);
  }
}
for (const line of failures) console.log(`FAILED ${line}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
