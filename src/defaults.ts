// Every default in one place, as postgres.js keeps its defaults in one literal. Flags and their NETRAVEN_DB_*
// twins fall back to these (config.ts), and `--help` quotes them, so the help text cannot drift from the code.
export const DEFAULTS = {
  schema: "netraven",
  /** Connection attempts while the server is not up yet; the wait grows 1.5x per attempt up to the max. */
  retry: 3,
  retryIntervalSeconds: 1,
  retryMaxIntervalSeconds: 10,
  /** libpq's connect_timeout, per host; libpq itself waits as long as the network does. */
  connectTimeoutSeconds: 10,
  /**
   * libpq leaves keepalives_idle/interval/count to the system (2 h of silence before the first probe); a job that
   * must end needs less. With these, a server that goes silent is given up on about a minute after its last byte.
   */
  keepalives: { idleSeconds: 30, intervalSeconds: 10, count: 3 },
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
