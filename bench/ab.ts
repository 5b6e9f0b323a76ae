// A/B of netraven-db binaries (e.g. two revisions) on one generated database, alternating, medians printed:
//   bun bench/ab.ts SCALE REPS CASES BINARY...
// SCALE as bench/generate.ts (55 is the medium size, ~500 MB of COPY text); CASES a comma list of zstd, gzip, none
// (backup with that compression), jN (gzip backup with --jobs N), verify and restore[N] (of the binary's own last
// backup, restore with --jobs N), pgzstd and pggzip (pg_dump piped to zstd -3 / gzip -6). Build an old revision's
// binary in a worktree (`git worktree add DIR REV`, then `bun build/compile.ts` there). Wall time only: quick
// answers to "did this change help"; bench/run.ts is the full, documented comparison.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCluster, findPgBin } from "../tests/harness/cluster.ts";
import { generationSql } from "./generate.ts";

const [scaleArg, repsArg, casesArg, ...bins] = process.argv.slice(2);
const scale = Number(scaleArg);
const reps = Number(repsArg);
if (!scale || !reps || !casesArg || bins.length === 0) {
  console.error("usage: bun bench/ab.ts SCALE REPS CASES BINARY...  (see the comment at the top of bench/ab.ts)");
  process.exit(3);
}
const cases = casesArg.split(",");
/** Each binary by its revision (from --version), which is what the results are about. */
const tags = new Map<string, string>();
bins.forEach((bin, i) => {
  const revision = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.match(/revision (\S+?)[,)]/)?.[1] ?? "unknown";
  tags.set(bin, [...tags.values()].includes(revision) ? `${revision}#${i + 1}` : revision);
});
const PSQL = join(findPgBin(), "psql");
const PG_DUMP = join(findPgBin(), "pg_dump");
const cluster = await createCluster({ settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off" } });
const work = mkdtempSync(join(tmpdir(), "nrab-"));
try {
  const url = (db: string) => cluster.url(db);
  const psql = (db: string, sql: string) => {
    const r = spawnSync(PSQL, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url(db)], { input: sql, encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  psql("postgres", "create database ab");
  const env = { PATH: process.env.PATH!, HOME: work, DATABASE_URL: url("ab") };
  const init = spawnSync(bins[0]!, ["init", "-q"], { env, encoding: "utf8" });
  if (init.status !== 0) throw new Error(init.stderr);
  const t0 = Date.now();
  psql("ab", `${generationSql({ schema: "netraven", scale, seed: 42 }).map((s) => `${s};\n`).join("")}VACUUM (FREEZE, ANALYZE);\n`);
  console.error(`generated in ${Date.now() - t0} ms`);
  const results: Record<string, number[]> = {};
  const time = (label: string, argv: string[], e: Record<string, string> = env, shell = false) => {
    psql("postgres", "CHECKPOINT");
    spawnSync("sync");
    const start = performance.now();
    const r = shell ? spawnSync("/bin/sh", ["-c", argv[0]!], { env: e, encoding: "utf8" }) : spawnSync(argv[0]!, argv.slice(1), { env: e, encoding: "utf8", maxBuffer: 1 << 26 });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${label}: ${r.stderr}`);
    (results[label] ??= []).push(ms);
    console.error(`${label.padEnd(40)} ${(ms / 1000).toFixed(3)} s`);
  };
  let n = 0;
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? bins : [...bins].reverse();
    for (const c of cases) {
      if (c === "pgzstd") {
        time("pg_dump | zstd -3", [`${PG_DUMP} -Fp -n netraven -d '${url("ab")}' | zstd -3 -q > ${work}/pg.sql.zst`], env, true);
        continue;
      }
      if (c === "pggzip") {
        time("pg_dump | gzip -6", [`${PG_DUMP} -Fp -n netraven -d '${url("ab")}' | gzip -6 > ${work}/pg.sql.gz`], env, true);
        continue;
      }
      for (const bin of order) {
        const tag = tags.get(bin)!;
        const dir = join(work, `${tag}-out`);
        if (["zstd", "gzip", "none"].includes(c) || c.startsWith("j")) {
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir);
          const [compress, jobs] = c.startsWith("j") ? ["gzip", c.slice(1)] : [c, undefined];
          time(`${tag} backup ${c}`, [bin, "backup", "--dir", dir, "--compress", compress!, "--keep-days", "0", "-q", ...(jobs ? ["--jobs", jobs] : [])]);
        } else if (c === "verify") {
          const f = readdirSync(dir).find((x) => /\.sql(\.gz|\.zst)?$/.test(x))!;
          time(`${tag} verify ${f.replace(/.*\.sql/, ".sql")}`, [bin, "verify", "-q", join(dir, f)]);
        } else if (c.startsWith("restore")) {
          const f = readdirSync(dir).find((x) => /\.sql(\.gz|\.zst)?$/.test(x))!;
          const db = `r${++n}`;
          psql("postgres", `create database ${db}`);
          const jobs = c.slice("restore".length);
          time(`${tag} restore${jobs ? ` --jobs ${jobs}` : ""} ${f.replace(/.*\.sql/, ".sql")}`, [bin, "restore", join(dir, f), "--yes", "-q", ...(jobs ? ["--jobs", jobs] : [])], { ...env, DATABASE_URL: url(db) });
          psql("postgres", `drop database ${db}`);
        }
      }
    }
  }
  console.log("\nmedians (ms):");
  for (const [label, ms] of Object.entries(results)) {
    const s = [...ms].sort((a, b) => a - b);
    console.log(`${label.padEnd(40)} ${Math.round(s[Math.floor((s.length - 1) / 2)]!)}  [${ms.map((x) => Math.round(x)).join(", ")}]`);
  }
} finally {
  cluster.destroy();
  rmSync(work, { recursive: true, force: true });
}
