import { columns, index, table } from "./define.ts";

export const auditLogs = table("audit_logs", {
  columns: columns`
    id              uuid          not null
    event_type      varchar(32)   not null  -- Type of event (auth, admin, key, data)
    event_name      varchar(64)   not null  -- Specific event name (login, update, etc.)
    actor_id        varchar(255)            -- ID of the user or system component that initiated the action
    actor_type      varchar(32)             -- Type of actor (user, system, service)
    target_id       varchar(255)            -- ID of the resource being acted upon
    target_type     varchar(32)             -- Type of target resource (user, device, backup, etc.)
    ip_address      varchar(45)             -- IP address of the client
    user_agent      text                    -- User agent of the client
    session_id      varchar(64)             -- Session ID for the request
    description     text          not null  -- Human-readable description of the event
    status          varchar(16)   not null  -- Outcome status (success, failure, error, warning)
    event_metadata  json                    -- Additional structured data about the event
    created_at      timestamp     not null  -- Timestamp when the event was logged
  `,
  primaryKey: ["id"],
  indexes: [
    index(["event_type", "event_name"], "ix_audit_logs_event_type_name"),
    index(["actor_id", "target_id"], "ix_audit_logs_actor_target"),
    index(["status", "created_at"], "ix_audit_logs_status_created"),
  ],
});
