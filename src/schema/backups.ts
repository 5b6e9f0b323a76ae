import { columns, index, references, table } from "./define.ts";

// Device configuration backups taken by the app (not database backups). serial_number is varchar(50) here but
// varchar(100) in devices: that is how the ORM created it.
export const backups = table("backups", {
  columns: columns`
    id             varchar(36)   not null
    version        varchar(20)   not null
    file_path      varchar(512)  not null
    file_size      integer       not null
    status         varchar(20)   not null
    comment        text
    content_hash   varchar(128)
    is_automatic   boolean
    created_at     timestamp
    serial_number  varchar(50)
    device_id      varchar(36)   not null
  `,
  primaryKey: ["id"],
  foreignKeys: [references("device_id", "devices")],
  indexes: [index("id"), index("status"), index("created_at")],
});
