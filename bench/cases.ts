// What is measured: every timed command (a "measurement") and the rows of the report, which pair one of ours with
// one of theirs and carry the target from issue 7 as a bound on the time ratio ours/theirs.

export type Side = "ours" | "theirs";

export interface MeasurementDef {
  id: string;
  side: Side;
  /** Short label for tables. */
  label: string;
}

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
  { id: "pgrestore.j1", side: "theirs", label: "pg_restore -j 1 (custom format)" },
  { id: "pgrestore.j2", side: "theirs", label: "pg_restore -j 2 (custom format)" },
] as const satisfies readonly MeasurementDef[];

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
  { id: "verify-gzip", title: "verify .sql.gz", ours: "ours.verify.gzip", theirs: "ref.verify.gzip", throughput: true },
  { id: "verify-zstd", title: "verify .sql.zst", ours: "ours.verify.zstd", theirs: "ref.verify.zstd", throughput: true },
  { id: "verify-none", title: "verify .sql", ours: "ours.verify.none", theirs: "ref.verify.none", throughput: true },
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
];
export const RSS_LIMIT_MB = 150;

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
