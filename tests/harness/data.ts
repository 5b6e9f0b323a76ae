// Realistic NetRaven rows in all 13 tables, generated server-side and deterministically (no random()): thousands of
// devices, job logs with JSON, log entries whose text holds tabs, newlines, backslashes, quotes, unicode and NULLs,
// credentials with encrypted (binary → base64) passwords. Used by the backup/restore round-trip tests.
import type postgres from "postgres";

export async function fillRealisticData(sql: postgres.Sql, options: { devices?: number; schema?: string } = {}): Promise<void> {
  const devices = options.devices ?? 2000;
  const s = `"${(options.schema ?? "netraven").replace(/"/g, '""')}"`;
  await sql.unsafe(`
    insert into ${s}.users (id, username, email, full_name, password_hash, is_active, is_admin, created_at, updated_at, notification_preferences)
    select 'user-' || i, 'user' || i, 'user' || i || '@example.net', case when i % 3 = 0 then null else 'Ünïcødé Ñame ' || i || ' 日本' end,
           '$2b$12$' || md5('pw' || i), i % 5 <> 0, i = 1, timestamp '2025-01-01' + i * interval '1 hour', null,
           jsonb_build_object('email_notifications', i % 2 = 0, 'notification_frequency', 'immediate', 'nested', jsonb_build_object('k', i))
    from generate_series(1, 50) i;

    insert into ${s}.tags (id, name, description, color, created_at, updated_at)
    select 'tag-' || i, 'Tag ' || i, E'line one\\nline two\\twith tab and back\\\\slash', '#' || lpad(to_hex(i * 4099), 6, '0'), now()::timestamp, null
    from generate_series(1, 40) i;

    insert into ${s}.devices (id, hostname, ip_address, device_type, port, username, password, description, last_backup_at, last_backup_status,
                              enabled, created_at, updated_at, serial_number, is_reachable, last_reachability_check, owner_id)
    select 'dev-' || i, 'router-' || i || '.example.net', '10.' || (i / 65536) % 256 || '.' || (i / 256) % 256 || '.' || i % 256,
           (array['cisco_ios', 'juniper_junos', 'arista_eos'])[1 + i % 3], 22 + i % 2, 'admin', encode(sha256(('secret' || i)::bytea), 'base64'),
           case when i % 7 = 0 then null else E'Rack ' || i || E'\\tRow "B"\\n' || repeat('x', i % 50) end,
           timestamp '2025-06-01' + i * interval '1 minute', (array['success', 'failed', null])[1 + i % 3],
           i % 11 <> 0, timestamp '2025-01-01' + i * interval '1 second', null, 'SN' || lpad(i::text, 8, '0'), i % 2 = 0, null,
           'user-' || (1 + i % 50)
    from generate_series(1, ${devices}) i;

    insert into ${s}.device_tags (device_id, tag_id, created_at)
    select 'dev-' || i, 'tag-' || (1 + i % 40), timestamp '2025-02-01' from generate_series(1, ${devices}) i;

    insert into ${s}.backups (id, version, file_path, file_size, status, comment, content_hash, is_automatic, created_at, serial_number, device_id)
    select 'bk-' || i, 'v' || i, '/data/backups/dev-' || (1 + i % ${devices}) || '/' || i || '.cfg', i * 13, 'complete',
           case when i % 4 = 0 then null else 'comment with \\ backslash and ''quote''' end, md5(i::text), true,
           timestamp '2025-03-01' + i * interval '5 minutes', 'SN' || i, 'dev-' || (1 + i % ${devices})
    from generate_series(1, ${devices}) i;

    insert into ${s}.tag_rules (id, name, description, rule_criteria, is_active, created_at, updated_at, tag_id)
    select 'rule-' || i, 'Rule ' || i, null, json_build_object('field', 'hostname', 'op', 'contains', 'value', 'router-' || i)::text, true, now()::timestamp, null, 'tag-' || (1 + i % 40)
    from generate_series(1, 100) i;

    insert into ${s}.job_logs (id, session_id, job_type, status, start_time, end_time, result_message, job_data, retention_days, device_id, created_by)
    select 'job-' || i, 'sess-' || (i / 10), (array['backup', 'reachability', 'command'])[1 + i % 3], (array['completed', 'failed'])[1 + i % 2],
           timestamp '2025-04-01' + i * interval '10 seconds', case when i % 9 = 0 then null else timestamp '2025-04-01' + i * interval '10 seconds' + interval '3 seconds' end,
           E'Result:\\n\\tline with tab\\r\\nwindows line\\\\end', jsonb_build_object('device', 'dev-' || i, 'commands', jsonb_build_array('show run', 'show ver'), 'n', i),
           30, case when i % 13 = 0 then null else 'dev-' || (1 + i % ${devices}) end, 'user-' || (1 + i % 50)
    from generate_series(1, ${devices}) i;

    insert into ${s}.job_log_entries (id, job_log_id, "timestamp", level, category, message, details, session_log_path, session_log_content, credential_username)
    select 'ent-' || i, 'job-' || (1 + i % ${devices}), timestamp '2025-04-01' + i * interval '1 second', (array['INFO', 'WARNING', 'ERROR'])[1 + i % 3],
           case when i % 5 = 0 then null else 'connection' end,
           E'Entry ' || i || E': tab\\there, newline\\nhere, backslash \\\\ here, emoji 🚀, nul-ish \\\\N literal',
           case when i % 4 = 0 then null else json_build_object('attempt', i % 3, 'text', E'a\\tb') end,
           '/logs/' || i || '.log', repeat('session output line ' || i || E'\\n', 1 + i % 20), 'netops'
    from generate_series(1, ${devices} * 3) i;

    insert into ${s}.scheduled_jobs (id, name, device_id, schedule_type, schedule_time, schedule_interval, schedule_day, enabled, created_at, updated_at, last_run, next_run, created_by, job_data)
    select 'sched-' || i, 'Nightly ' || i, 'dev-' || (1 + i % ${devices}), 'daily', '02:' || lpad((i % 60)::text, 2, '0'), null, null, true, now()::timestamp, null, null, null,
           'user-' || (1 + i % 50), json_build_object('retries', i % 3)
    from generate_series(1, 200) i;

    insert into ${s}.audit_logs (id, event_type, event_name, actor_id, actor_type, target_id, target_type, ip_address, user_agent, session_id, description, status, event_metadata, created_at)
    select md5('audit' || i)::uuid, 'auth', 'login', 'user-' || (1 + i % 50), 'user', null, null, '192.0.2.' || (i % 255), 'Mozilla/5.0 (X11; Linux) "quoted"',
           'sess-' || i, 'User logged in from ' || i, (array['success', 'failure'])[1 + i % 2], json_build_object('mfa', i % 2 = 0), timestamp '2025-05-01' + i * interval '1 minute'
    from generate_series(1, 1000) i;

    insert into ${s}.credentials (id, name, description, username, password, use_keys, key_file, success_count, failure_count, last_used, last_success, last_failure, created_at, updated_at)
    select 'cred-' || i, 'Credential ' || i, null, 'netops' || i, encode(digest('pw' || i, 'sha512') || '\\x00ff00'::bytea, 'base64'), i % 2 = 0,
           case when i % 2 = 0 then '/keys/id_' || i else null end, i, 0, null, null, null, now()::timestamp, null
    from generate_series(1, 20) i;

    insert into ${s}.credential_tags (id, credential_id, tag_id, priority, success_count, failure_count, created_at)
    select 'ct-' || i, 'cred-' || (1 + i % 20), 'tag-' || (1 + i % 40), i * 0.5, 0, 0, now()::timestamp from generate_series(1, 60) i;
  `);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * md5 of every row of every table in primary-key order, computed by the server: what "identical" means. Every
 * identifier is quoted, so schemas named with quotes, spaces or unicode work.
 */
export async function tableChecksums(sql: postgres.Sql, schema = "netraven", where: Record<string, string> = {}): Promise<Record<string, string>> {
  const tables = await sql<{ table: string; pk: string }[]>`
    select c.relname as table, string_agg(quote_ident(a.attname), ', ' order by k.ord) as pk
    from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
    cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
    where n.nspname = ${schema} and i.indisprimary group by c.relname order by 1`;
  const result: Record<string, string> = {};
  for (const { table, pk } of tables) {
    const filter = where[table] ? ` where ${where[table]}` : "";
    const [row] = await sql.unsafe(`select count(*)::int as n, md5(coalesce(string_agg(t::text, E'\\n' order by ${pk}), '')) as sum from ${quoteIdent(schema)}.${quoteIdent(table)} t${filter}`);
    result[table] = `${row!.n}:${row!.sum}`;
  }
  return result;
}
