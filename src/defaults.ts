// Every default in one place, as postgres.js keeps its defaults in one literal. Flags and their NETRAVEN_DB_*
// twins fall back to these (config.ts), and `--help` quotes them, so the help text cannot drift from the code.
export const DEFAULTS = {
  schema: "netraven",
  /** Connection attempts while the server is not up yet; the wait grows 1.5x per attempt up to the max. */
  retry: 3,
  retryIntervalSeconds: 1,
  retryMaxIntervalSeconds: 10,
  /** How long init/restore wait for another netraven-db holding the schema lock. */
  lockTimeoutSeconds: 60,
  /** The backup volume in the container images. */
  dir: "/backups",
  compression: "gzip",
  /** gzip's and zstd's own command-line defaults. */
  level: { gzip: 6, zstd: 3 },
  prefix: "netraven",
  keepDays: 7,
  keep: 0,
  /**
   * Connections a backup or restore uses at once. 1: measured on 2 cores, more jobs were not faster (the server's
   * COPY and the compression already use both); see docs/benchmarks.md. MAX_JOBS bounds what may be asked for.
   */
  jobs: 1,
  maxJobs: 16,
} as const;
