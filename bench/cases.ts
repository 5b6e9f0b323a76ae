// What is measured: every timed command (a "measurement") and the rows of the report, which pair one of ours with
// one of theirs and carry the target from issue 7 as a bound on the time ratio ours/theirs, and the table of issue 16
// (netraven-db against the parallel references pg_dump -j and pg_restore -j).

export type Side = "ours" | "theirs";

export interface MeasurementDef {
  id: string;
  side: Side;
  /** Short label for tables. */
  label: string;
  /**
   * A netraven-db flag this measurement needs (`--jobs`): when the binary's `COMMAND --help` does not list it, the
   * measurement is not run and the report marks its cells "not implemented yet".
   */
  needs?: { command: "backup" | "restore"; flag: string };
  /**
   * Needs the S3 server (a throwaway Ceph RGW from tests/harness/rgw.ts) and, for theirs, the AWS CLI: when a tool is
   * missing the measurement is not run and the report says why (`unavailable` in the result file).
   */
  s3?: true;
}

const JOBS = [1, 2, 4] as const;
const backupJobs = { command: "backup", flag: "--jobs" } as const;
const restoreJobs = { command: "restore", flag: "--jobs" } as const;

export const MEASUREMENTS = [
  { id: "ours.version", side: "ours", label: "netraven-db --version" },
  { id: "psql.version", side: "theirs", label: "psql --version" },
  { id: "ours.init.fresh", side: "ours", label: "netraven-db init (empty database)" },
  { id: "psql.init.fresh", side: "theirs", label: "psql -f bootstrap.sql -f netraven-orm.sql" },
  { id: "ours.init.uptodate", side: "ours", label: "netraven-db init (up to date)" },
  { id: "psql.select1", side: "theirs", label: "psql -c 'select 1'" },
  { id: "path.select1", side: "theirs", label: "psql from PATH -c 'select 1' (Debian: the pg_wrapper script)" },
  { id: "ours.backup.gzip", side: "ours", label: "netraven-db backup --compress gzip" },
  { id: "pgdump.gzip", side: "theirs", label: "pg_dump -Fp | gzip" },
  { id: "ours.backup.zstd", side: "ours", label: "netraven-db backup --compress zstd" },
  { id: "pgdump.zstd", side: "theirs", label: "pg_dump -Fp | zstd" },
  { id: "ours.backup.none", side: "ours", label: "netraven-db backup --compress none" },
  { id: "pgdump.plain", side: "theirs", label: "pg_dump -Fp -f" },
  { id: "psql.copy", side: "theirs", label: "psql \\copy per table (COPY ceiling)" },
  { id: "ours.verify.gzip", side: "ours", label: "netraven-db verify (.sql.gz)" },
  { id: "ref.verify.gzip", side: "theirs", label: "sha256sum + gzip -dc (reference)" },
  { id: "ours.verify.zstd", side: "ours", label: "netraven-db verify (.sql.zst)" },
  { id: "ref.verify.zstd", side: "theirs", label: "sha256sum + zstd -dc (reference)" },
  { id: "ours.verify.none", side: "ours", label: "netraven-db verify (.sql)" },
  { id: "ref.verify.none", side: "theirs", label: "sha256sum (reference)" },
  { id: "ours.restore.none", side: "ours", label: "netraven-db restore (.sql)" },
  { id: "psql.restore.plain", side: "theirs", label: "psql < pg_dump.sql" },
  { id: "ours.restore.gzip", side: "ours", label: "netraven-db restore (.sql.gz)" },
  { id: "psql.restore.gzip", side: "theirs", label: "gunzip -c pg_dump.sql.gz | psql" },
  // The parallel references (issue 16): a directory-format dump (gzip, pg_dump's default level 6 for -Fd) with N
  // jobs, and pg_restore of that dump with N jobs. Ours with --jobs N next to them.
  { id: "ours.backup.gzip.j1", side: "ours", label: "netraven-db backup --compress gzip --jobs 1", needs: backupJobs },
  { id: "ours.backup.gzip.j2", side: "ours", label: "netraven-db backup --compress gzip --jobs 2", needs: backupJobs },
  { id: "ours.backup.gzip.j4", side: "ours", label: "netraven-db backup --compress gzip --jobs 4", needs: backupJobs },
  { id: "pgdump.dir.j1", side: "theirs", label: "pg_dump -Fd -j 1" },
  { id: "pgdump.dir.j2", side: "theirs", label: "pg_dump -Fd -j 2" },
  { id: "pgdump.dir.j4", side: "theirs", label: "pg_dump -Fd -j 4" },
  { id: "ours.restore.gzip.j1", side: "ours", label: "netraven-db restore (.sql.gz) --jobs 1", needs: restoreJobs },
  { id: "ours.restore.gzip.j2", side: "ours", label: "netraven-db restore (.sql.gz) --jobs 2", needs: restoreJobs },
  { id: "ours.restore.gzip.j4", side: "ours", label: "netraven-db restore (.sql.gz) --jobs 4", needs: restoreJobs },
  { id: "pgrestore.j1", side: "theirs", label: "pg_restore -j 1 (of the -Fd dump)" },
  { id: "pgrestore.j2", side: "theirs", label: "pg_restore -j 2 (of the -Fd dump)" },
  { id: "pgrestore.j4", side: "theirs", label: "pg_restore -j 4 (of the -Fd dump)" },
  // Our restore stores long values with lz4 (src/backup/toast.ts); pg_restore can be told to as well.
  { id: "pgrestore.j2.lz4", side: "theirs", label: "pg_restore -j 2 with PGOPTIONS='-c default_toast_compression=lz4'" },
  // Object storage (issue 14): ours straight to and from the bucket, against a local backup or restore plus the
  // AWS CLI moving the same objects (the backup and its manifest).
  { id: "ours.s3.backup.gzip", side: "ours", label: "netraven-db backup --dir s3://BUCKET/bench/ (gzip)", s3: true },
  { id: "aws.backup.gzip", side: "theirs", label: "netraven-db backup --dir DIR (gzip) + aws s3 cp", s3: true },
  { id: "ours.s3.restore.gzip", side: "ours", label: "netraven-db restore s3://BUCKET/bench/FILE (.sql.gz)", s3: true },
  { id: "aws.restore.gzip", side: "theirs", label: "aws s3 cp + netraven-db restore FILE (.sql.gz)", s3: true },
] as const satisfies readonly MeasurementDef[];

/** The values of --jobs measured, for both tools. */
export const JOBS_MEASURED: readonly number[] = JOBS;

export type MeasurementId = (typeof MEASUREMENTS)[number]["id"];

export interface RowDef {
  id: string;
  title: string;
  ours: MeasurementId;
  theirs: MeasurementId;
  /** Target as the largest acceptable time ratio ours/theirs; undefined: shown for context only. */
  maxRatio?: number;
  target?: string;
  /** Throughput is reported for rows that move the data (MB/s of COPY text). */
  throughput: boolean;
  /** The issue whose target this is, when not issue 7 (those rows get their own section in the report). */
  issue?: 14;
}

export const ROWS: readonly RowDef[] = [
  { id: "startup", title: "process start (--version)", ours: "ours.version", theirs: "psql.version", throughput: false },
  { id: "init-fresh", title: "init, empty database", ours: "ours.init.fresh", theirs: "psql.init.fresh", maxRatio: 1.2, target: "≤ 1.2x psql -f", throughput: false },
  { id: "init-uptodate", title: "init, up-to-date database", ours: "ours.init.uptodate", theirs: "psql.select1", maxRatio: 1.5, target: "≤ 1.5x select 1", throughput: false },
  { id: "init-uptodate-path", title: "init, up-to-date vs psql as Debian users call it", ours: "ours.init.uptodate", theirs: "path.select1", throughput: false },
  { id: "backup-gzip", title: "backup gzip", ours: "ours.backup.gzip", theirs: "pgdump.gzip", maxRatio: 1.0, target: "≥ pg_dump | gzip", throughput: true },
  { id: "backup-zstd", title: "backup zstd", ours: "ours.backup.zstd", theirs: "pgdump.zstd", maxRatio: 1.0, target: "≥ pg_dump | zstd", throughput: true },
  { id: "backup-none-pgdump", title: "backup none vs pg_dump", ours: "ours.backup.none", theirs: "pgdump.plain", throughput: true },
  { id: "backup-none-ceiling", title: "backup none vs COPY ceiling", ours: "ours.backup.none", theirs: "psql.copy", maxRatio: 1.25, target: "≥ 0.8x COPY ceiling", throughput: true },
  { id: "restore-psql", title: "restore .sql vs psql", ours: "ours.restore.none", theirs: "psql.restore.plain", maxRatio: 1.0, target: "≥ psql < dump", throughput: true },
  { id: "restore-gzip-psql", title: "restore .sql.gz vs gunzip | psql", ours: "ours.restore.gzip", theirs: "psql.restore.gzip", maxRatio: 1.0, target: "≥ gunzip | psql", throughput: true },
  { id: "restore-pgrestore-j1", title: "restore .sql vs pg_restore -j 1", ours: "ours.restore.none", theirs: "pgrestore.j1", throughput: true },
  { id: "restore-pgrestore-j2", title: "restore .sql vs pg_restore -j 2", ours: "ours.restore.none", theirs: "pgrestore.j2", throughput: true },
  ...JOBS.map((n): RowDef => ({ id: `backup-gzip-j${n}`, title: `backup gzip --jobs ${n} vs pg_dump -Fd -j ${n}`, ours: `ours.backup.gzip.j${n}`, theirs: `pgdump.dir.j${n}`, throughput: true })),
  { id: "restore-gzip-pgrestore-lz4", title: "restore .sql.gz vs pg_restore -j 2 storing long values with lz4 too", ours: "ours.restore.gzip", theirs: "pgrestore.j2.lz4", throughput: true },
  ...JOBS.map((n): RowDef => ({ id: `restore-gzip-j${n}`, title: `restore .sql.gz --jobs ${n} vs pg_restore -j ${n}`, ours: `ours.restore.gzip.j${n}`, theirs: `pgrestore.j${n}`, throughput: true })),
  { id: "verify-gzip", title: "verify .sql.gz", ours: "ours.verify.gzip", theirs: "ref.verify.gzip", throughput: true },
  { id: "verify-zstd", title: "verify .sql.zst", ours: "ours.verify.zstd", theirs: "ref.verify.zstd", throughput: true },
  { id: "verify-none", title: "verify .sql", ours: "ours.verify.none", theirs: "ref.verify.none", throughput: true },
  { id: "s3-backup", title: "backup to S3 (gzip) vs local backup + aws s3 cp", ours: "ours.s3.backup.gzip", theirs: "aws.backup.gzip", maxRatio: 1.1, target: "≤ 1.1x backup + aws s3 cp", throughput: true, issue: 14 },
  { id: "s3-restore", title: "restore from S3 (.sql.gz) vs aws s3 cp + local restore", ours: "ours.s3.restore.gzip", theirs: "aws.restore.gzip", maxRatio: 1.1, target: "≤ 1.1x aws s3 cp + restore", throughput: true, issue: 14 },
];

/** Our commands whose peak RSS is reported (target: flat with size, < 150 MB at 2 GB). */
export const RSS_MEASUREMENTS: readonly MeasurementId[] = [
  "ours.init.fresh",
  "ours.init.uptodate",
  "ours.backup.gzip",
  "ours.backup.zstd",
  "ours.backup.none",
  "ours.verify.gzip",
  "ours.verify.zstd",
  "ours.verify.none",
  "ours.restore.none",
  "ours.restore.gzip",
  ...JOBS.map((n) => `ours.backup.gzip.j${n}` as const),
  ...JOBS.map((n) => `ours.restore.gzip.j${n}` as const),
  "ours.s3.backup.gzip",
  "ours.s3.restore.gzip",
];
export const RSS_LIMIT_MB = 150;

/**
 * The table of issue 16 ("what | netraven-db | reference | ratio"), re-measured: our default command against the
 * reference users pick when they care about speed. `targetSizes`: the sizes at which issue 16 asks for ≤ maxRatio
 * (elsewhere the row is context).
 */
export interface Issue16Row {
  title: string;
  ours: MeasurementId;
  theirs: MeasurementId;
  maxRatio: number;
  targetSizes: readonly SizeDef["name"][];
}

export const ISSUE16_ROWS: readonly Issue16Row[] = [
  { title: "backup, gzip 6", ours: "ours.backup.gzip", theirs: "pgdump.dir.j2", maxRatio: 1.0, targetSizes: ["medium", "large"] },
  { title: "backup, zstd 3", ours: "ours.backup.zstd", theirs: "pgdump.zstd", maxRatio: 1.0, targetSizes: ["medium", "large"] },
  { title: "restore into a new database (.sql.gz)", ours: "ours.restore.gzip", theirs: "pgrestore.j2", maxRatio: 1.0, targetSizes: ["medium", "large"] },
  { title: "backup, gzip (small database)", ours: "ours.backup.gzip", theirs: "pgdump.gzip", maxRatio: 1.0, targetSizes: ["small"] },
  { title: "init, up to date", ours: "ours.init.uptodate", theirs: "psql.select1", maxRatio: 2.0, targetSizes: ["small", "medium", "large"] },
];

export interface SizeDef {
  name: "small" | "medium" | "large";
  scale: number;
  label: string;
}

/** Scale 1 is about 9.4 MB of COPY text (see generate.ts). */
export const SIZES: readonly SizeDef[] = [
  { name: "small", scale: 1, label: "~10 MB" },
  { name: "medium", scale: 55, label: "~500 MB" },
  { name: "large", scale: 220, label: "~2 GB" },
];
