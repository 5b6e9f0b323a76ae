import { columns, index, references, table } from "./define.ts";

// job_logs.job_data is jsonb but scheduled_jobs.job_data is json: kept as the ORM created them.
export const jobLogs = table("job_logs", {
  columns: columns`
    id              varchar(36)  not null
    session_id      varchar(36)  not null
    job_type        varchar(50)  not null
    status          varchar(20)  not null
    start_time      timestamp    not null
    end_time        timestamp
    result_message  text
    job_data        jsonb
    retention_days  integer
    device_id       varchar(36)
    created_by      varchar(36)  not null
  `,
  primaryKey: ["id"],
  foreignKeys: [references("device_id", "devices"), references("created_by", "users")],
  indexes: [index("session_id"), index("job_type"), index("status"), index("start_time")],
});

export const jobLogEntries = table("job_log_entries", {
  columns: columns`
    id                   varchar(36)   not null
    job_log_id           varchar(36)   not null
    timestamp            timestamp     not null
    level                varchar(20)   not null
    category             varchar(50)
    message              text          not null
    details              json
    session_log_path     varchar(255)
    session_log_content  text
    credential_username  varchar(255)
  `,
  primaryKey: ["id"],
  foreignKeys: [references("job_log_id", "job_logs", { onDelete: "cascade" })],
  indexes: [index("timestamp"), index("level"), index("category"), index("credential_username")],
});

export const scheduledJobs = table("scheduled_jobs", {
  columns: columns`
    id                 varchar(36)   not null
    name               varchar(255)  not null
    device_id          varchar(36)   not null
    schedule_type      varchar(50)   not null
    schedule_time      varchar(5)
    schedule_interval  integer
    schedule_day       varchar(10)
    enabled            boolean
    created_at         timestamp
    updated_at         timestamp
    last_run           timestamp
    next_run           timestamp
    created_by         varchar(36)   not null
    job_data           json
  `,
  primaryKey: ["id"],
  foreignKeys: [references("device_id", "devices"), references("created_by", "users")],
  indexes: [index("id")],
});
