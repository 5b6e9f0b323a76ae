import { columns, index, references, table, uniqueIndex } from "./define.ts";

export const tags = table("tags", {
  columns: columns`
    id           varchar(36)  not null
    name         varchar(50)  not null
    description  text
    color        varchar(7)
    created_at   timestamp
    updated_at   timestamp
  `,
  primaryKey: ["id"],
  indexes: [index("id"), uniqueIndex("name")],
});

export const tagRules = table("tag_rules", {
  columns: columns`
    id             varchar(36)   not null
    name           varchar(100)  not null
    description    text
    rule_criteria  text          not null
    is_active      boolean
    created_at     timestamp
    updated_at     timestamp
    tag_id         varchar(36)   not null
  `,
  primaryKey: ["id"],
  foreignKeys: [references("tag_id", "tags")],
  indexes: [index("id")],
});
