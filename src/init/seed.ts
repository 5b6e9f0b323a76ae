// Default rows: statements that insert only what is missing. Values travel as one JSON literal, so --dry-run
// prints exactly the SQL that runs. Timestamps are naive UTC, as the app's datetime.utcnow() writes them.
import type { Queryable } from "../db.ts";
import { quoteIdent, quoteLiteral, textArray } from "../quote.ts";
import type { Statement } from "../schema/render.ts";
import { adminSettingSeeds, bootstrapAdmin, defaultNotificationPreferences, defaultTag } from "../schema/seeds.ts";

const NOW_UTC = "(now() at time zone 'utc')";

export function renderSettingSeeds(schema: string): Statement {
  const table = `${quoteIdent(schema)}.${quoteIdent("admin_settings")}`;
  return {
    object: `seed admin_settings (${adminSettingSeeds.length} keys, missing ones only)`,
    sql: `INSERT INTO ${table} (id, key, value, value_type, category, description, is_required, is_sensitive, display_order, created_at, updated_at)
SELECT gen_random_uuid(), x.key, x.value, x.value_type, x.category, x.description, x.is_required, x.is_sensitive, x.display_order, ${NOW_UTC}, ${NOW_UTC}
FROM json_to_recordset(${quoteLiteral(JSON.stringify(adminSettingSeeds))}::json)
  AS x(key varchar, value json, value_type varchar, category varchar, description text, is_required boolean, is_sensitive boolean, display_order integer)
ON CONFLICT (key) DO NOTHING`,
  };
}

export function renderTagSeed(schema: string): Statement {
  const table = `${quoteIdent(schema)}.${quoteIdent("tags")}`;
  return {
    object: `seed tag ${defaultTag.name}`,
    sql: `INSERT INTO ${table} (id, name, description, color, created_at, updated_at)
SELECT ${quoteLiteral(defaultTag.id)}, ${quoteLiteral(defaultTag.name)}, ${quoteLiteral(defaultTag.description)}, ${quoteLiteral(defaultTag.color)}, ${NOW_UTC}, ${NOW_UTC}
WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE name = ${quoteLiteral(defaultTag.name)})
ON CONFLICT DO NOTHING`,
  };
}

/** The bootstrap admin; `$1` is the bcrypt hash (a parameter, so it never appears in --dry-run output). */
export function renderAdminSeed(schema: string): Statement {
  const table = `${quoteIdent(schema)}.${quoteIdent("users")}`;
  return {
    object: `seed user ${bootstrapAdmin.username}`,
    sql: `INSERT INTO ${table} (id, username, email, password_hash, is_active, is_admin, created_at, updated_at, notification_preferences)
SELECT gen_random_uuid()::text, ${quoteLiteral(bootstrapAdmin.username)}, ${quoteLiteral(bootstrapAdmin.email)}, $1, true, true, ${NOW_UTC}, ${NOW_UTC}, ${quoteLiteral(JSON.stringify(defaultNotificationPreferences))}::jsonb
WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE username = ${quoteLiteral(bootstrapAdmin.username)})
ON CONFLICT DO NOTHING`,
  };
}

/** passlib's bcrypt verifies $2b$ hashes; cost 12 is passlib's default. Loaded only when needed (start-up time). */
export async function hashAdminPassword(password: string): Promise<string> {
  const { default: bcrypt } = await import("bcryptjs");
  return bcrypt.hashSync(password, 12);
}

export interface SeedState {
  settingsPresent: number;
  defaultTag: boolean;
  /** Undefined when not asked: only an admin password makes init create the admin user. */
  admin?: boolean;
}

export async function readSeedState(sql: Queryable, schema: string, withAdmin: boolean): Promise<SeedState> {
  const s = quoteIdent(schema);
  // Values inline (see bindLiterals in quote.ts for why), quoted directly: the schema name may itself hold "$1".
  // The users table only when needed (on a new connection every table a statement reads costs the server time);
  // both statements go out together.
  const [[row], admin] = await Promise.all([
    sql.unsafe<Array<{ settings: number; tag: boolean }>>(
      `select (select count(*) from ${s}.admin_settings where key = any(${quoteLiteral(textArray(adminSettingSeeds.map((x) => x.key)))}::text[]))::int as settings,
              exists (select 1 from ${s}.tags where name = ${quoteLiteral(defaultTag.name)}) as tag`,
    ),
    withAdmin ? sql.unsafe<Array<{ admin: boolean }>>(`select exists (select 1 from ${s}.users where username = ${quoteLiteral(bootstrapAdmin.username)}) as admin`).then(([r]) => r!.admin) : undefined,
  ]);
  return { settingsPresent: row!.settings, defaultTag: row!.tag, admin };
}

export function seedsComplete(state: SeedState, wantAdmin: boolean): boolean {
  return state.settingsPresent === adminSettingSeeds.length && state.defaultTag && (!wantAdmin || state.admin === true);
}
