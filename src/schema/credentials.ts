import { columns, index, references, table } from "./define.ts";

export const credentials = table("credentials", {
  columns: columns`
    id             varchar(36)    not null
    name           varchar(255)   not null
    description    text
    username       varchar(255)   not null
    password       varchar(1024)
    use_keys       boolean
    key_file       varchar(1024)
    success_count  integer
    failure_count  integer
    last_used      timestamp
    last_success   timestamp
    last_failure   timestamp
    created_at     timestamp
    updated_at     timestamp
  `,
  primaryKey: ["id"],
  indexes: [index("id"), index("name")],
});

// No unique constraint on (credential_id, tag_id): the ORM never declared one.
export const credentialTags = table("credential_tags", {
  columns: columns`
    id             varchar(36)       not null
    credential_id  varchar(36)       not null
    tag_id         varchar(36)       not null
    priority       double precision
    success_count  integer
    failure_count  integer
    last_used      timestamp
    last_success   timestamp
    last_failure   timestamp
    created_at     timestamp
    updated_at     timestamp
  `,
  primaryKey: ["id"],
  foreignKeys: [references("credential_id", "credentials", { onDelete: "cascade" }), references("tag_id", "tags", { onDelete: "cascade" })],
  indexes: [index("id")],
});
