// The last check of a test run: scripts/test.sh points TMPDIR at a directory of its own for the run, so everything
// the tests, the compiled binary and their children put in the temp dir lands there and nothing of other processes
// does. Whatever is still in it when the suites are done was left behind by a test: it is listed (with sizes) as
// one failed JUnit test case, so junit-summary.mjs counts it. A PostgreSQL a test forgot to stop is stopped here
// (only one whose data directory is inside the run's directory), so the caller can remove the directory.
// Usage: node scripts/leftovers.mjs RUN_TMPDIR REPORT.xml
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [runDir, report] = process.argv.slice(2);
if (!runDir || !report) {
  console.error("usage: node scripts/leftovers.mjs RUN_TMPDIR REPORT.xml");
  process.exit(2);
}

/** Bytes under `path`, not following symlinks; unreadable parts count as 0. */
function size(path) {
  try {
    const stat = lstatSync(path);
    if (!stat.isDirectory()) return stat.size;
    return readdirSync(path).reduce((sum, name) => sum + size(join(path, name)), 0);
  } catch {
    return 0;
  }
}

/** postmaster.pid files up to `depth` levels down: a throwaway cluster is RUN/netraven-pg-X/data/postmaster.pid. */
function pidFiles(dir, depth) {
  if (depth < 0) return [];
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return pidFiles(path, depth - 1);
    return entry.name === "postmaster.pid" ? [path] : [];
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops a server left running (immediate shutdown = SIGQUIT) if its command line names this data directory. */
async function stopServer(pidFile) {
  const dataDir = pidFile.slice(0, -"/postmaster.pid".length);
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return `${dataDir}: stale postmaster.pid (no process ${pid})`;
  }
  if (!cmdline.includes(dataDir)) return `${dataDir}: pid ${pid} is not its server any more; left alone`;
  process.kill(pid, "SIGQUIT");
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(100);
  return `${dataDir}: a PostgreSQL server (pid ${pid}) was still running; stopped it`;
}

const escape = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const left = existsSync(runDir) ? readdirSync(runDir).sort() : [];
const servers = [];
for (const pidFile of pidFiles(runDir, 3)) servers.push(await stopServer(pidFile));
const lines = left.map((name) => `${join(runDir, name)} (${size(join(runDir, name))} bytes)`);

const name = "the test run left nothing in its temp dir (scripts/test.sh: TMPDIR of its own, checked at the end)";
const failure = lines.length === 0
  ? ""
  : `<failure message="${escape(`${lines.length} entries left in ${runDir}`)}">${escape([...lines, ...servers].join("\n"))}</failure>`;
writeFileSync(
  report,
  `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="leftovers">\n  <testsuite name="scripts/leftovers.mjs" tests="1" failures="${lines.length === 0 ? 0 : 1}">\n` +
    `    <testcase name="${escape(name)}" classname="leftovers">${failure}</testcase>\n  </testsuite>\n</testsuites>\n`,
);
if (lines.length > 0) {
  console.log(`left in the run's temp dir ${runDir}:`);
  for (const line of [...lines, ...servers]) console.log(`  ${line}`);
} else {
  console.log(`nothing left in the run's temp dir ${runDir}`);
}
