import { columns, index, table, uniqueIndex } from "./define.ts";

// The only table besides audit_logs with a native uuid id; key/value_type/category are varchar without length.
export const adminSettings = table("admin_settings", {
  columns: columns`
    id             uuid       not null
    key            varchar    not null
    value          json
    value_type     varchar    not null  -- Type of value (string, number, boolean, json)
    category       varchar    not null  -- Category of setting (security, system, notification)
    description    text
    is_required    boolean
    is_sensitive   boolean
    display_order  integer
    created_at     timestamp
    updated_at     timestamp
  `,
  primaryKey: ["id"],
  indexes: [index("id"), uniqueIndex("key"), index("category")],
});
