// Builds the standalone binary: `bun build/compile.ts` -> dist/netraven-db for this machine;
// `bun build/compile.ts --all` -> every Linux target + dist/SHA256SUMS. Flags chosen from measurements
// (docs/benchmarks.md, ../shared/reference/findings.md):
//   --bytecode + --format=esm  fastest start (consola uses import.meta, so bytecode must be ESM)
//   --minify                   smaller bundle; nothing depends on class names
//   --splitting                the lazily imported commands become chunks evaluated only when that command runs:
//                              ~3 ms less start-up for every command (--version 17.2 -> 14.4 ms, init on an
//                              up-to-date database 36.3 -> 33.6 ms)
//   --compile-jit-policy=10    JavaScriptCore waits 10x longer before compiling a function: most of a command runs
//                              once (up-to-date init 96 -> 91 ms, 40 alternating runs; 100 and 1000 were no better);
//                              backup, restore, verify and the output thread set the normal policy (runtime.ts)
//   --no-compile-autoload-*    a database tool must not pick up a stray .env or bunfig.toml from the cwd
//   worker entry points        every file src/workers.ts names is bundled as an entry of its own
// Every built binary that can run here is smoke-tested (`--version`): a build that exits 0 can still produce a
// binary that dies at start. NETRAVEN_DB_DIST=DIR builds into DIR instead of dist/ (a benchmark may be running the
// binary in dist/; tests then take NETRAVEN_DB_BINARY=DIR/netraven-db).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { arch } from "node:os";
import { join, resolve } from "node:path";

const root = join(import.meta.dir, "..");
const dist = process.env.NETRAVEN_DB_DIST ? resolve(process.env.NETRAVEN_DB_DIST) : join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

const TARGETS = {
  "linux-x64": "bun-linux-x64-modern",
  "linux-x64-baseline": "bun-linux-x64-baseline",
  "linux-arm64": "bun-linux-arm64",
  "linux-x64-musl": "bun-linux-x64-musl",
  "linux-arm64-musl": "bun-linux-arm64-musl",
} as const;
type Variant = keyof typeof TARGETS;

/** The worker entry points src/workers.ts refers to, read from it so the two cannot disagree. */
const WORKER_ENTRIES = [...readFileSync(join(root, "src/workers.ts"), "utf8").matchAll(/new URL\("\.\/([^"]+)", import\.meta\.url\)/g)].map((m) => `src/${m[1]}`);

function gitRevision(): string {
  const result = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout.trim() !== "";
  return `${result.stdout.trim()}${dirty ? "-dirty" : ""}`;
}

function build(variant: Variant, outfile: string, revision: string): void {
  const stamp = { version: pkg.version, revision, builtAt: new Date().toISOString(), target: variant };
  const args = [
    "build", join(root, "src/main.ts"), ...WORKER_ENTRIES.map((entry) => join(root, entry)),
    "--compile", "--bytecode", "--format=esm", "--minify", "--splitting", "--compile-jit-policy=10",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    `--target=${TARGETS[variant]}`,
    "--define", `NETRAVEN_DB_BUILD=${JSON.stringify(stamp)}`,
    "--outfile", `${outfile}.partial-${process.pid}`,
  ];
  const started = Date.now();
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`bun build for ${variant} failed:\n${result.stderr || result.stdout}`);
  // rename, not overwrite: a binary that is running (a test, a demo) cannot be opened for writing (ETXTBSY).
  renameSync(`${outfile}.partial-${process.pid}`, outfile);
  console.log(`built ${outfile} (${variant}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs the binary from an empty directory with an empty environment, as a container would. */
export function smokeTest(binary: string): string {
  const empty = join(dist, ".smoke");
  rmSync(empty, { recursive: true, force: true });
  mkdirSync(empty, { recursive: true });
  const result = spawnSync(binary, ["--version"], { cwd: empty, env: {}, encoding: "utf8", timeout: 30_000 });
  rmSync(empty, { recursive: true, force: true });
  if (result.status !== 0 || !result.stdout.startsWith("netraven-db ")) {
    throw new Error(`smoke test of ${binary} failed (exit ${result.status}, signal ${result.signal}): ${result.stderr || result.stdout}`);
  }
  return result.stdout.trim();
}

function canRun(variant: Variant, binary: string): boolean {
  if (arch() !== "x64") return variant === "linux-arm64";
  // The musl build needs the musl loader AND a libstdc++ built for musl. Debian's `musl` package (which .ci/run
  // installs) has only the loader, so ask the loader whether every library resolves instead of testing it exists.
  if (variant.endsWith("-musl")) return variant === "linux-x64-musl" && spawnSync("/lib/ld-musl-x86_64.so.1", ["--list", binary], { stdio: "ignore" }).status === 0;
  return variant === "linux-x64" || variant === "linux-x64-baseline";
}

// The binary bundles node_modules/postgres: refuse to build it without the fixes build/patch-postgres.mjs applies.
const patched = spawnSync(process.execPath, [join(root, "build/patch-postgres.mjs"), "--check"], { encoding: "utf8" });
if (patched.status !== 0) {
  console.error(patched.stderr.trim() || patched.stdout.trim());
  process.exit(1);
}

const all = process.argv.includes("--all");
mkdirSync(dist, { recursive: true });
const revision = gitRevision();
const hostVariant: Variant = arch() === "arm64" ? "linux-arm64" : "linux-x64";

if (!all) {
  const out = join(dist, "netraven-db");
  build(hostVariant, out, revision);
  console.log(smokeTest(out));
} else {
  const sums: string[] = [];
  for (const variant of Object.keys(TARGETS) as Variant[]) {
    const out = join(dist, `netraven-db-${variant}`);
    build(variant, out, revision);
    if (canRun(variant, out)) console.log(`  smoke: ${smokeTest(out)}`);
    else console.log(`  smoke: skipped (cannot execute ${variant} on this machine)`);
    sums.push(`${createHash("sha256").update(readFileSync(out)).digest("hex")}  netraven-db-${variant}`);
  }
  writeFileSync(join(dist, "SHA256SUMS"), `${sums.join("\n")}\n`);
  copyFileSync(join(dist, `netraven-db-${hostVariant}`), join(dist, `netraven-db.partial-${process.pid}`));
  renameSync(join(dist, `netraven-db.partial-${process.pid}`), join(dist, "netraven-db"));
  console.log(`wrote ${join(dist, "SHA256SUMS")}`);
}
