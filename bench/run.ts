// netraven-db side by side with psql, pg_dump and pg_restore, on one throwaway PostgreSQL, in one run.
// Usage and flags: bench/README.md. `bun bench/run.ts --smoke` is the quick check CI runs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { createCluster, findPgBin, type Cluster } from "../tests/harness/cluster.ts";
import { missingTools as rgwMissingTools, startRgw, type Rgw } from "../tests/harness/rgw.ts";
import { JOBS_MEASURED, MEASUREMENTS, ROWS, SIZES, type MeasurementId, type SizeDef } from "./cases.ts";
import { generationSql, rowCounts } from "./generate.ts";
import { checkTools, CommandFailed, measure, median, type Command, type Run } from "./measure.ts";
import { renderReport } from "./report.ts";

const ROOT = resolve(import.meta.dir, "..");

// The PostgreSQL client programs themselves, not what PATH finds first: on Debian /usr/bin/psql, pg_dump and
// pg_restore are links to pg_wrapper, a Perl script that adds ~20 ms to every call (psql -c 'select 1' takes 15 ms
// with the binary, 38 ms through the wrapper). Measuring the wrapper would flatter every short command of ours.
const PG_BIN = findPgBin();
const PSQL = join(PG_BIN, "psql");
const PG_DUMP = join(PG_BIN, "pg_dump");
const PG_RESTORE = join(PG_BIN, "pg_restore");
/** The AWS CLI from Debian (package awscli), the independent S3 client of issue 14's reference rows. */
const AWS = "/usr/bin/aws";
/** memstore cap of the bench's S3 server: the large size's backup is ~360 MB, ours and theirs live side by side. */
const RGW_MEM_BYTES = 3 * 1024 ** 3;

export interface Options {
  sizes: SizeDef["name"][];
  reps: number;
  repsLarge: number;
  initReps: number;
  seed: number;
  binary: string;
  out: string;
  doc: string | undefined;
  quietWaitS: number;
  keepWork: boolean;
  smoke: boolean;
  render: string | undefined;
}

const HELP = `bun bench/run.ts [flags]
  --smoke              smallest size, 1 repetition, no idle wait, no doc (CI); aims at < 60 s
  --sizes LIST         comma-separated: small,medium,large (default: all three)
  --reps N             repetitions for small and medium (default 3)
  --reps-large N       repetitions for large (default 2)
  --init-reps N        repetitions of the two init rows per size (default 10; they take ~50 ms each)
  --seed N             data generator seed (default 42)
  --binary PATH        netraven-db binary (default dist/netraven-db; build it first: bun build/compile.ts)
  --out FILE           result JSON (default bench/results/<timestamp>.json)
  --doc FILE           Markdown report (default docs/benchmarks.md; --no-doc to skip; --smoke skips unless given)
  --quiet-wait S       before each timed command wait up to S seconds for >= 90% idle CPU (default 60, smoke 0)
  --keep-work          keep the work directory (dumps, backups) for inspection
  --render FILE        do not measure: render the report (--doc) from an existing result file`;

function parseArgs(argv: string[]): Options {
  const smoke = argv.includes("--smoke");
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "_");
  const options: Options = {
    sizes: smoke ? ["small"] : ["small", "medium", "large"],
    reps: smoke ? 1 : 3,
    repsLarge: smoke ? 1 : 2,
    initReps: smoke ? 1 : 10,
    seed: 42,
    binary: join(ROOT, "dist", "netraven-db"),
    out: join(ROOT, "bench", "results", `${smoke ? "smoke" : "bench"}_${stamp}.json`),
    doc: smoke ? undefined : join(ROOT, "docs", "benchmarks.md"),
    quietWaitS: smoke ? 0 : 60,
    keepWork: false,
    smoke,
    render: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${flag}: expected a whole number >= ${min}, got ${v}`);
      return Number(v);
    };
    switch (flag) {
      case "--smoke":
        break;
      case "--sizes": {
        const names = value().split(",");
        for (const n of names) if (!SIZES.some((s) => s.name === n)) throw new Error(`--sizes: unknown size ${n} (small, medium, large)`);
        options.sizes = names as Options["sizes"];
        break;
      }
      case "--reps":
        options.reps = int(1);
        break;
      case "--reps-large":
        options.repsLarge = int(1);
        break;
      case "--init-reps":
        options.initReps = int(1);
        break;
      case "--seed":
        options.seed = int(0);
        break;
      case "--binary":
        options.binary = resolve(value());
        break;
      case "--out":
        options.out = resolve(value());
        break;
      case "--doc":
        options.doc = resolve(value());
        break;
      case "--no-doc":
        options.doc = undefined;
        break;
      case "--quiet-wait":
        options.quietWaitS = int(0);
        break;
      case "--keep-work":
        options.keepWork = true;
        break;
      case "--render":
        options.render = resolve(value());
        break;
      case "--help":
      case "-h":
        console.log(HELP);
        process.exit(0);
      default:
        throw new Error(`unknown flag ${flag}\n${HELP}`);
    }
  }
  return options;
}

// ---- Result file -------------------------------------------------------------------------------------------------

export interface StoredRun extends Omit<Run, "stdout"> {}

export interface SizeResult {
  name: SizeDef["name"];
  label: string;
  scale: number;
  reps: number;
  /** Bytes of COPY text in a backup (the script's data_bytes) and the tables' size on disk (heap + TOAST). */
  copyBytes: number;
  diskBytes: number;
  tables: Array<{ name: string; rows: number; diskBytes: number }>;
  /** Output sizes of one run of each backup command. */
  fileBytes: Record<string, number>;
  measurements: Record<string, { display: string; runs: StoredRun[] }>;
  generateMs: number;
}

export interface Results {
  kind: "netraven-db benchmark";
  formatVersion: 1;
  /**
   * Our measurements that were not run because the binary lacks a flag they need (`--jobs` before issue 16), with
   * the reason ("no --jobs in `netraven-db backup --help`"). Absent in result files older than issue 16.
   */
  notImplemented?: Partial<Record<MeasurementId, string>>;
  /**
   * Measurements not run because a tool they need is not installed (the S3 server's Ceph packages, /usr/bin/aws),
   * with the reason. Absent in result files older than issue 14.
   */
  unavailable?: Partial<Record<MeasurementId, string>>;
  /** The 1-minute load average when the run started and when it ended (2 cores: above 2 means waiting for CPU). */
  load?: { start: number; end: number };
  smoke: boolean;
  startedAt: string;
  finishedAt: string;
  seed: number;
  options: { reps: number; repsLarge: number; initReps: number; quietWaitS: number };
  machine: Record<string, string>;
  versions: Record<string, string>;
  connection: string;
  sizes: SizeResult[];
}

// ---- Helpers -----------------------------------------------------------------------------------------------------

function firstLine(argv: string[]): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  return `${result.stdout}${result.stderr}`.trim().split("\n")[0] ?? "?";
}

function machine(): Record<string, string> {
  const os = existsSync("/etc/os-release") ? (readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]+)/m)?.[1] ?? "?") : "?";
  const cpu = cpus();
  const flags = readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "";
  const disk = spawnSync("df", ["-h", "--output=source,size", tmpdir()], { encoding: "utf8" }).stdout.trim().split("\n").pop() ?? "?";
  return {
    os,
    kernel: release(),
    cpu: `${cpu[0]?.model ?? "?"} (${cpu.length} cores${/\bsha_ni\b/.test(flags) ? ", SHA-NI" : ""}${/\bavx2\b/.test(flags) ? ", AVX2" : ""})`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    virtualisation: spawnSync("systemd-detect-virt", [], { encoding: "utf8" }).stdout?.trim() || (/hypervisor/.test(flags) ? "virtual machine" : "unknown"),
    workDisk: disk.replace(/\s+/g, " "),
  };
}

function psqlAt(url: string, sqlText: string, env: Record<string, string>): string {
  const result = spawnSync(PSQL, ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sqlText], { encoding: "utf8", env });
  if (result.status !== 0) throw new Error(`psql -c ${sqlText.slice(0, 80)} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Bytes of a file, or of all files in a directory (pg_dump -Fd). */
function fileSize(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  return readdirSync(path).reduce((n, name) => n + fileSize(join(path, name)), 0);
}

/**
 * Which of our measurements the binary cannot run yet: those whose flag its `COMMAND --help` does not list. Asked
 * of the binary itself, so the report's empty cells fill in by themselves once the flag ships.
 */
function notImplemented(binary: string): Partial<Record<MeasurementId, string>> {
  const help = new Map<string, string>();
  const missing: Partial<Record<MeasurementId, string>> = {};
  for (const m of MEASUREMENTS) {
    if (!("needs" in m)) continue;
    const { command, flag } = m.needs;
    if (!help.has(command)) help.set(command, spawnSync(binary, [command, "--help"], { encoding: "utf8" }).stdout ?? "");
    if (!new RegExp(`(^|\\s)${flag}(\\s|=|$)`, "m").test(help.get(command)!)) missing[m.id] = `no ${flag} in \`netraven-db ${command} --help\``;
  }
  return missing;
}

/** Why the S3 rows cannot run on this machine, or undefined when they can. */
function s3Unavailable(): string | undefined {
  const ceph = rgwMissingTools();
  if (ceph.length) return `the S3 server needs ${ceph.join(", ")} (apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common)`;
  if (!existsSync(AWS)) return `${AWS} is not installed (apt-get install -y awscli)`;
  return undefined;
}

function newestBackup(dir: string): string {
  const file = readdirSync(dir).find((f) => /\.sql(\.gz|\.zst)?$/.test(f));
  if (!file) throw new Error(`no backup in ${dir}`);
  return join(dir, file);
}

const log = (text: string) => process.stderr.write(`${text}\n`);

// ---- The run -----------------------------------------------------------------------------------------------------

export async function run(options: Options): Promise<Results> {
  const missing = [...checkTools(), ...[PSQL, PG_DUMP, PG_RESTORE].filter((tool) => !existsSync(tool))];
  if (missing.length) throw new Error(`missing tools: ${missing.join(", ")}`);
  if (!existsSync(options.binary)) throw new Error(`${options.binary} does not exist: build it first with \`bun build/compile.ts\``);

  const startedAt = new Date();
  const work = mkdtempSync(join(tmpdir(), "nrbench-"));
  let cluster: Cluster | undefined;
  let s3: Rgw | undefined;
  const s3Reason = s3Unavailable();
  const results: Results = {
    kind: "netraven-db benchmark",
    formatVersion: 1,
    smoke: options.smoke,
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    seed: options.seed,
    options: { reps: options.reps, repsLarge: options.repsLarge, initReps: options.initReps, quietWaitS: options.quietWaitS },
    notImplemented: notImplemented(options.binary),
    unavailable: Object.fromEntries(s3Reason ? MEASUREMENTS.filter((m) => "s3" in m).map((m) => [m.id, s3Reason]) : []),
    load: { start: loadavg()[0]!, end: 0 },
    machine: machine(),
    versions: {},
    connection: "",
    sizes: [],
  };
  const skipped = results.notImplemented!;
  for (const [id, reason] of Object.entries(skipped)) log(`${id}: not implemented yet (${reason}): its cells stay empty`);
  const unavailable = results.unavailable!;
  for (const [id, reason] of Object.entries(unavailable)) log(`${id}: not run: ${reason}`);
  // Ctrl-C or a kill never reaches the finally below: the S3 server's daemons and the cluster would outlive the run.
  const onSignal = (signal: NodeJS.Signals) => {
    s3?.kill();
    cluster?.destroy();
    if (!options.keepWork) rmSync(work, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    log(`starting a throwaway PostgreSQL cluster (work directory ${work})`);
    cluster = await createCluster();
    const c = cluster;
    // Every tool connects the same way: TCP to 127.0.0.1 with SCRAM, the password in PGPASSWORD, the same URL.
    const url = (db: string) => `postgresql://${c.user}@127.0.0.1:${c.port}/${db}`;
    const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, LANG: "C.UTF-8", PGPASSWORD: c.password };
    results.connection = `TCP 127.0.0.1:${c.port}, SCRAM-SHA-256, password in PGPASSWORD, URL postgresql://postgres@127.0.0.1:PORT/DB for every tool (default sslmode=prefer; the server has no TLS)`;
    const ours = (display: string, args: string[], db: string): Command => ({
      display: `netraven-db ${display}`,
      argv: [options.binary, ...args],
      env: { ...baseEnv, DATABASE_URL: url(db) },
    });
    const theirs = (display: string, argv: string[], stdinFile?: string): Command => ({ display, argv, env: baseEnv, stdinFile });
    const shell = (display: string, script: string): Command => ({ display, argv: ["bash", "-o", "pipefail", "-c", script], env: baseEnv });

    // One S3 server for the whole run (the harness the tests use); every repetition gets its own bucket.
    if (!s3Reason) {
      log("starting a throwaway S3 server (Ceph RGW, tests/harness/rgw.ts)");
      s3 = await startRgw({ memBytes: RGW_MEM_BYTES });
    }
    /** The same AWS_* settings for both sides: keys, region and the endpoint; the AWS CLI also gets --endpoint-url. */
    const withS3 = (command: Command): Command => ({ ...command, env: { ...command.env, ...s3!.env } });

    results.versions = {
      "netraven-db": firstLine([options.binary, "--version"]),
      postgresql: psqlAt(url("postgres"), "select version()", baseEnv),
      psql: `${firstLine([PSQL, "--version"])} (${PSQL})`,
      pg_dump: `${firstLine([PG_DUMP, "--version"])} (${PG_DUMP})`,
      pg_restore: `${firstLine([PG_RESTORE, "--version"])} (${PG_RESTORE})`,
      gzip: firstLine(["gzip", "--version"]),
      zstd: firstLine(["zstd", "--version"]),
      ...(s3 ? { aws: `${firstLine([AWS, "--version"])} (${AWS})`, "S3 server": `${firstLine(["radosgw", "--version"])}: one mon, one OSD on memstore, radosgw (beast) on 127.0.0.1, plain HTTP` } : {}),
      "bench runner": `bun ${process.versions.bun ?? "?"}`,
    };

    const bootstrapSql = join(ROOT, "tests", "fixtures", "netraven-bootstrap.sql");
    const ormSql = join(ROOT, "tests", "fixtures", "netraven-orm.sql");
    let dbCounter = 0;
    const freshDatabase = () => {
      const name = `nrbench_fresh_${++dbCounter}`;
      psqlAt(url("postgres"), `create database ${name}`, baseEnv);
      return name;
    };
    const dropDatabase = (name: string) => psqlAt(url("postgres"), `drop database if exists ${name} with (force)`, baseEnv);

    for (const sizeName of options.sizes) {
      const size = SIZES.find((s) => s.name === sizeName)!;
      const reps = size.name === "large" ? options.repsLarge : options.reps;
      const db = `nrbench_${size.name}`;
      const dir = join(work, size.name);
      mkdirSync(dir, { recursive: true });
      log(`\n== ${size.name} (${size.label}, scale ${size.scale}, ${reps} repetition${reps === 1 ? "" : "s"})`);

      // Data: schema by `netraven-db init`, rows by SQL on the server, then frozen and analysed so no run pays for
      // hint bits or statistics of rows the one before it loaded.
      psqlAt(url("postgres"), `create database ${db}`, baseEnv);
      const init = spawnSync(options.binary, ["init", "-q"], { env: { ...baseEnv, DATABASE_URL: url(db) }, encoding: "utf8" });
      if (init.status !== 0) throw new Error(`netraven-db init failed: ${init.stderr}`);
      const generateStarted = Date.now();
      const script = `\\set ON_ERROR_STOP on\n${generationSql({ schema: "netraven", scale: size.scale, seed: options.seed }).map((s) => `${s};\n`).join("")}VACUUM (FREEZE, ANALYZE);\n`;
      const gen = spawnSync(PSQL, ["-X", "-q", "-d", url(db)], { input: script, encoding: "utf8", env: baseEnv, maxBuffer: 16 * 1024 * 1024 });
      if (gen.status !== 0) throw new Error(`data generation failed: ${gen.stderr}`);
      const generateMs = Date.now() - generateStarted;
      const tableRows = psqlAt(
        url(db),
        `select c.relname || ' ' || pg_table_size(c.oid) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'netraven' and c.relkind = 'r' order by c.relname`,
        baseEnv,
      )
        .split("\n")
        .map((line) => line.split(" "));
      const tables = tableRows.map(([name, bytes]) => ({ name: name!, rows: Number(psqlAt(url(db), `select count(*) from netraven.${name}`, baseEnv)), diskBytes: Number(bytes) }));
      log(`generated in ${(generateMs / 1000).toFixed(1)} s: ${tables.map((t) => `${t.name}=${t.rows}`).join(" ")}`);
      // init's seed rows (admin settings, the Default tag) come on top of the generated ones.
      for (const [name, rows] of Object.entries(rowCounts(size.scale))) {
        const found = tables.find((t) => t.name === name)?.rows ?? 0;
        if (found < rows) throw new Error(`generator: ${name} has ${found} rows, expected at least ${rows}`);
      }

      const result: SizeResult = {
        name: size.name,
        label: size.label,
        scale: size.scale,
        reps,
        copyBytes: 0,
        diskBytes: tables.reduce((n, t) => n + t.diskBytes, 0),
        tables,
        fileBytes: {},
        measurements: {},
        generateMs,
      };
      results.sizes.push(result);
      const record = (id: MeasurementId, command: Command, runResult: Run) => {
        const { stdout: _stdout, ...stored } = runResult;
        (result.measurements[id] ??= { display: command.display, runs: [] }).runs.push(stored);
        log(`  ${id.padEnd(20)} ${(runResult.wallMs / 1000).toFixed(3).padStart(8)} s  ${String(Math.round(runResult.rssKb / 1024)).padStart(4)} MB  idle before ${Math.round(runResult.idleBefore * 100)}%`);
        return runResult;
      };
      const checkpoint = () => psqlAt(url("postgres"), "CHECKPOINT", baseEnv);
      const timed = (id: MeasurementId, command: Command) => record(id, command, measure(command, { quietWaitS: options.quietWaitS, prepare: checkpoint }));
      /** Ours that need a flag the binary lacks are not run (the report says so in their cells). */
      const unlessMissing = (id: MeasurementId, run: () => void) => () => {
        if (!skipped[id] && !unavailable[id]) run();
      };
      /** Ours and theirs back to back, in alternating order, so slow drift on the machine hits both alike. */
      const pair = (rep: number, a: () => void, b: () => void) => (rep % 2 === 0 ? (a(), b()) : (b(), a()));

      // init rows: cheap, so more repetitions. Each fresh run gets its own empty database. Process start-up alone
      // (--version) is measured alongside: at the small size it is a visible share of every command.
      for (let rep = 0; rep < options.initReps; rep++) {
        pair(
          rep,
          () => timed("ours.version", ours("--version", ["--version"], db)),
          () => timed("psql.version", theirs("psql --version", [PSQL, "--version"])),
        );
        pair(
          rep,
          () => {
            const fresh = freshDatabase();
            timed("ours.init.fresh", ours("init -q", ["init", "-q"], fresh));
            dropDatabase(fresh);
          },
          () => {
            const fresh = freshDatabase();
            timed("psql.init.fresh", theirs(`psql -X -q -v ON_ERROR_STOP=1 -d URL -f ${"tests/fixtures/netraven-bootstrap.sql"} -f tests/fixtures/netraven-orm.sql`, [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url(fresh), "-f", bootstrapSql, "-f", ormSql]));
            dropDatabase(fresh);
          },
        );
        pair(
          rep,
          () => timed("ours.init.uptodate", ours("init -q", ["init", "-q"], db)),
          () => timed("psql.select1", theirs("psql -X -q -d URL -c 'select 1'", [PSQL, "-X", "-q", "-d", url(db), "-c", "select 1"])),
        );
        timed("path.select1", theirs("psql -X -q -d URL -c 'select 1' (psql as found on PATH)", ["psql", "-X", "-q", "-d", url(db), "-c", "select 1"]));
      }

      const files: Record<string, string> = {};
      for (let rep = 0; rep < reps; rep++) {
        log(` repetition ${rep + 1}/${reps}`);
        // Backups. Ours write into a fresh directory each time (retention off); theirs to a file.
        for (const compression of ["gzip", "zstd", "none"] as const) {
          const level = compression === "gzip" ? 6 : compression === "zstd" ? 3 : undefined;
          const oursId = `ours.backup.${compression}` as MeasurementId;
          pair(
            rep,
            () => {
              const out = join(dir, `ours-${compression}`);
              rmSync(out, { recursive: true, force: true });
              mkdirSync(out);
              const args = ["backup", "--dir", out, "--compress", compression, ...(level ? ["--level", String(level)] : []), "--keep-days", "0", "--json"];
              const runResult = timed(oursId, ours(args.join(" ").replace(out, `DIR`), args, db));
              files[`ours.${compression}`] = newestBackup(out);
              result.copyBytes = JSON.parse(runResult.stdout).data_bytes;
            },
            () => {
              const ext = compression === "none" ? "sql" : compression === "gzip" ? "sql.gz" : "sql.zst";
              const file = join(dir, `pg_dump.${ext}`);
              rmSync(file, { force: true });
              if (compression === "none") {
                timed("pgdump.plain", theirs("pg_dump -Fp -n netraven -d URL -f FILE", [PG_DUMP, "-Fp", "-n", "netraven", "-d", url(db), "-f", file]));
              } else {
                const compress = compression === "gzip" ? `gzip -${level}` : `zstd -${level} -q`;
                timed(compression === "gzip" ? "pgdump.gzip" : "pgdump.zstd", shell(`pg_dump -Fp -n netraven -d URL | ${compress} > FILE`, `${PG_DUMP} -Fp -n netraven -d '${url(db)}' | ${compress} > '${file}'`));
              }
              files[`pg_dump.${compression}`] = file;
            },
          );
        }
        // The COPY ceiling: one psql, one \copy per table into its own file, no snapshot, no compression, no fsync.
        const copyDir = join(dir, "copy");
        rmSync(copyDir, { recursive: true, force: true });
        mkdirSync(copyDir);
        const copyArgs = tables.flatMap((t) => ["-c", `\\copy netraven.${t.name} to '${join(copyDir, `${t.name}.copy`)}'`]);
        timed("psql.copy", theirs(`psql -X -q -d URL -c "\\copy netraven.TABLE to 'FILE'" (one -c per table, ${tables.length} tables)`, [PSQL, "-X", "-q", "-d", url(db), ...copyArgs]));
        rmSync(copyDir, { recursive: true, force: true });

        // The parallel references (issue 16): pg_dump's directory format, the only one it can write with -j (one
        // gzip file per table, level 6 by default), against our gzip backup with --jobs N. The last directory dump
        // is what pg_restore -j restores below (every -j writes the same data).
        for (const jobs of JOBS_MEASURED) {
          const oursId = `ours.backup.gzip.j${jobs}` as MeasurementId;
          pair(
            rep,
            unlessMissing(oursId, () => {
              const out = join(dir, `ours-gzip-j${jobs}`);
              rmSync(out, { recursive: true, force: true });
              mkdirSync(out);
              const args = ["backup", "--dir", out, "--compress", "gzip", "--level", "6", "--jobs", String(jobs), "--keep-days", "0", "--json"];
              timed(oursId, ours(args.join(" ").replace(out, "DIR"), args, db));
              files[`ours.gzip.j${jobs}`] = newestBackup(out);
            }),
            () => {
              const out = join(dir, "pg_dump.dir");
              rmSync(out, { recursive: true, force: true });
              timed(`pgdump.dir.j${jobs}` as MeasurementId, theirs(`pg_dump -Fd -j ${jobs} -n netraven -d URL -f DIR`, [PG_DUMP, "-Fd", "-j", String(jobs), "-n", "netraven", "-d", url(db), "-f", out]));
              files["pg_dump -Fd (directory, gzip 6)"] = out;
            },
          );
        }

        // verify: ours against a reference of what a script would do to check a file (checksum + decompress).
        for (const compression of ["gzip", "zstd", "none"] as const) {
          const file = files[`ours.${compression}`]!;
          const decompress = compression === "gzip" ? "gzip -dc" : compression === "zstd" ? "zstd -dcq" : undefined;
          const reference = (path: string) => `sha256sum ${path} > /dev/null${decompress ? ` && ${decompress} ${path} > /dev/null` : ""}`;
          pair(
            rep,
            () => timed(`ours.verify.${compression}` as MeasurementId, ours("verify -q FILE", ["verify", "-q", file], "postgres")),
            () => timed(`ref.verify.${compression}` as MeasurementId, shell(reference("FILE"), reference(`'${file}'`))),
          );
        }

        // Restores, each into a new empty database (created and dropped outside the timing).
        const restoreInto = (id: MeasurementId, make: (target: string) => Command) => {
          const target = freshDatabase();
          try {
            timed(id, make(target));
          } finally {
            dropDatabase(target);
          }
        };
        pair(
          rep,
          () => restoreInto("ours.restore.none", (t) => ours(`restore FILE.sql --yes --target-db NEW -q`, ["restore", files["ours.none"]!, "--yes", "--target-db", t, "-q"], "postgres")),
          () => restoreInto("psql.restore.plain", (t) => theirs("psql -X -q -v ON_ERROR_STOP=1 -d URL < pg_dump.sql", [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url(t)], files["pg_dump.none"])),
        );
        pair(
          rep,
          () => restoreInto("ours.restore.gzip", (t) => ours(`restore FILE.sql.gz --yes --target-db NEW -q`, ["restore", files["ours.gzip"]!, "--yes", "--target-db", t, "-q"], "postgres")),
          () =>
            restoreInto("psql.restore.gzip", (t) =>
              shell("gunzip -c pg_dump.sql.gz | psql -X -q -v ON_ERROR_STOP=1 -d URL", `gunzip -c '${files["pg_dump.gzip"]}' | ${PSQL} -X -q -v ON_ERROR_STOP=1 -d '${url(t)}' > /dev/null`),
            ),
        );
        // pg_restore -j N of the directory dump (it cannot be one transaction with -j), against ours with --jobs N.
        for (const jobs of JOBS_MEASURED) {
          const oursId = `ours.restore.gzip.j${jobs}` as MeasurementId;
          pair(
            rep,
            unlessMissing(oursId, () => restoreInto(oursId, (t) => ours(`restore FILE.sql.gz --jobs ${jobs} --yes --target-db NEW -q`, ["restore", files["ours.gzip"]!, "--jobs", String(jobs), "--yes", "--target-db", t, "-q"], "postgres"))),
            () =>
              restoreInto(`pgrestore.j${jobs}` as MeasurementId, (t) =>
                theirs(`pg_restore -j ${jobs} --exit-on-error -d URL DIR (the pg_dump -Fd directory)`, [PG_RESTORE, "-j", String(jobs), "--exit-on-error", "-d", url(t), files["pg_dump -Fd (directory, gzip 6)"]!]),
              ),
          );
        }

        // pg_restore -j 2 given the same TOAST compression as our restore uses (context for the lz4 choice).
        pair(
          rep,
          () => undefined,
          () =>
            restoreInto("pgrestore.j2.lz4", (t) => ({
              ...theirs(`PGOPTIONS='-c default_toast_compression=lz4' pg_restore -j 2 --exit-on-error -d URL DIR`, [PG_RESTORE, "-j", "2", "--exit-on-error", "-d", url(t), files["pg_dump -Fd (directory, gzip 6)"]!]),
              env: { ...baseEnv, PGOPTIONS: "-c default_toast_compression=lz4" },
            })),
        );

        // Object storage (issue 14): ours straight to and from a bucket, against a local backup (restore) plus the
        // AWS CLI moving the same objects, the backup and its manifest (`--recursive` over a directory or prefix
        // that holds just those two). Both restores read the object our S3 backup wrote. A bucket per repetition,
        // removed (with --bypass-gc, so memstore frees it at once) after it.
        if (s3) {
          const server = s3;
          const bucket = await server.createBucket({ prefix: "nrbench" });
          try {
            const prefix = `s3://${bucket}/bench/rep${rep + 1}/`;
            const aws = `${AWS} --endpoint-url ${server.endpoint} s3 cp --recursive --only-show-errors`;
            let object: string | undefined;
            pair(
              rep,
              () => {
                const args = ["backup", "--dir", prefix, "--compress", "gzip", "--level", "6", "--no-encrypt", "--keep-days", "0", "--json"];
                const runResult = timed("ours.s3.backup.gzip", withS3(ours(args.join(" ").replace(prefix, "s3://BUCKET/bench/"), args, db)));
                object = JSON.parse(runResult.stdout).path as string;
              },
              () => {
                const out = join(dir, "aws-upload");
                rmSync(out, { recursive: true, force: true });
                mkdirSync(out);
                const backup = `${options.binary} backup --dir '${out}' --compress gzip --level 6 --keep-days 0 -q`;
                timed(
                  "aws.backup.gzip",
                  withS3({
                    ...shell(
                      "netraven-db backup --dir DIR --compress gzip --level 6 --keep-days 0 -q && aws --endpoint-url ENDPOINT s3 cp --recursive --only-show-errors DIR s3://BUCKET/theirs/ (the backup and its manifest)",
                      `${backup} && ${aws} '${out}' 's3://${bucket}/theirs/rep${rep + 1}/'`,
                    ),
                    env: { ...baseEnv, DATABASE_URL: url(db) },
                  }),
                );
                rmSync(out, { recursive: true, force: true });
              },
            );
            if (!object?.startsWith(prefix)) throw new Error(`backup to S3: --json path ${object} is not under ${prefix}`);
            const s3Object = object;
            pair(
              rep,
              () => restoreInto("ours.s3.restore.gzip", (t) => withS3(ours("restore s3://BUCKET/bench/FILE.sql.gz --yes --target-db NEW -q", ["restore", s3Object, "--yes", "--target-db", t, "-q"], "postgres"))),
              () => {
                const down = join(dir, "aws-download");
                rmSync(down, { recursive: true, force: true });
                mkdirSync(down);
                const file = join(down, s3Object.slice(prefix.length));
                restoreInto("aws.restore.gzip", (t) =>
                  withS3({
                    ...shell(
                      "aws --endpoint-url ENDPOINT s3 cp --recursive --only-show-errors s3://BUCKET/bench/ DIR (the backup and its manifest) && netraven-db restore DIR/FILE.sql.gz --yes --target-db NEW -q",
                      `${aws} '${prefix}' '${down}' && ${options.binary} restore '${file}' --yes --target-db ${t} -q`,
                    ),
                    env: { ...baseEnv, DATABASE_URL: url("postgres") },
                  }),
                );
                files["S3 object (ours.s3.gzip, as downloaded)"] = file;
              },
            );
          } finally {
            await server.deleteBucket(bucket);
          }
        }
      }
      for (const [key, path] of Object.entries(files)) result.fileBytes[key] = fileSize(path);
      if (!options.keepWork) rmSync(dir, { recursive: true, force: true });
      dropDatabase(db);
    }
  } finally {
    try {
      await s3?.stop();
    } finally {
      cluster?.destroy();
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    if (!options.keepWork) rmSync(work, { recursive: true, force: true });
    else log(`work directory kept: ${work}`);
  }
  results.finishedAt = new Date().toISOString();
  results.load!.end = loadavg()[0]!;
  return results;
}

/** Median wall time of a measurement in one size, or undefined when it did not run. */
export function medianMs(size: SizeResult, id: MeasurementId): number | undefined {
  const runs = size.measurements[id]?.runs;
  return runs?.length ? median(runs.map((r) => r.wallMs)) : undefined;
}

if (import.meta.main) {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(3);
  }
  const started = Date.now();
  try {
    let results: Results;
    if (options.render) {
      results = JSON.parse(readFileSync(options.render, "utf8")) as Results;
      options.out = options.render;
      options.doc ??= join(ROOT, "docs", "benchmarks.md");
    } else {
      results = await run(options);
      mkdirSync(resolve(options.out, ".."), { recursive: true });
      writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
      log(`\nresults: ${options.out}`);
    }
    if (options.doc) {
      const notesFile = join(ROOT, "bench", "notes.md");
      const notes = existsSync(notesFile) ? readFileSync(notesFile, "utf8") : "";
      writeFileSync(options.doc, renderReport(results, { notes, resultFile: options.out.replace(`${ROOT}/`, "") }));
      log(`report: ${options.doc}`);
    }
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Rows that did not run at all would be a bug in this script: say so loudly.
    // Ours that the binary cannot run yet are expected to be empty, and nothing else.
    const skipped = results.notImplemented ?? {};
    const unavailable = results.unavailable ?? {};
    for (const size of results.sizes) {
      for (const row of ROWS) {
        const oursMissing = medianMs(size, row.ours) === undefined && !skipped[row.ours] && !unavailable[row.ours];
        const theirsMissing = medianMs(size, row.theirs) === undefined && !unavailable[row.theirs];
        if (oursMissing || theirsMissing) throw new Error(`${size.name}: row ${row.id} has no measurements`);
      }
      for (const id of Object.keys(skipped)) if (size.measurements[id]) throw new Error(`${size.name}: ${id} was measured although marked not implemented`);
      for (const id of Object.keys(unavailable)) if (size.measurements[id]) throw new Error(`${size.name}: ${id} was measured although marked unavailable`);
    }
  } catch (error) {
    console.error(error instanceof CommandFailed ? error.message : error);
    process.exit(1);
  }
}
