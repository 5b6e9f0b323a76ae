import { columns, index, table, uniqueIndex } from "./define.ts";

export const users = table("users", {
  columns: columns`
    id                        varchar(36)   not null
    username                  varchar(50)   not null
    email                     varchar(100)  not null
    full_name                 varchar(120)
    password_hash             varchar(100)  not null
    is_active                 boolean
    is_admin                  boolean
    created_at                timestamp
    updated_at                timestamp
    notification_preferences  jsonb
  `,
  primaryKey: ["id"],
  indexes: [index("id"), uniqueIndex("username"), uniqueIndex("email")],
});
