import { columns, index, references, table } from "./define.ts";

export const devices = table("devices", {
  columns: columns`
    id                       varchar(36)   not null
    hostname                 varchar(255)  not null
    ip_address               varchar(45)   not null
    device_type              varchar(50)   not null
    port                     integer
    username                 varchar(64)
    password                 varchar(128)
    description              text
    last_backup_at           timestamp
    last_backup_status       varchar(20)
    enabled                  boolean
    created_at               timestamp
    updated_at               timestamp
    serial_number            varchar(100)
    is_reachable             boolean
    last_reachability_check  timestamp
    owner_id                 varchar(36)   not null
  `,
  primaryKey: ["id"],
  foreignKeys: [references("owner_id", "users")],
  indexes: [index("id"), index("hostname"), index("ip_address"), index("device_type")],
});

// Association table (a Core `Table` in the ORM): composite key, no id, no ix_ index.
export const deviceTags = table("device_tags", {
  columns: columns`
    device_id   varchar(36)  not null
    tag_id      varchar(36)  not null
    created_at  timestamp
  `,
  primaryKey: ["device_id", "tag_id"],
  foreignKeys: [references("device_id", "devices", { onDelete: "cascade" }), references("tag_id", "tags", { onDelete: "cascade" })],
});
