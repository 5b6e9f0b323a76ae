// Deterministic, realistic NetRaven data generated server-side in SQL, into a schema `netraven-db init` created.
//
// Randomness comes from hashint8extended(i, seed + k): a pure function of (row number, column, seed), so the data
// is byte-for-byte the same on every run with the same seed, whatever plan or parallelism PostgreSQL picks, and no
// row ever goes through JavaScript. Long texts (device session logs, multi-line messages) are built from a pool of
// pre-generated fragments of CLI output that hold tabs, newlines, backslashes and non-ASCII text, so the data
// compresses roughly like real configuration backups do (3-6x with gzip), not like random bytes or repeated
// strings.
//
// `scale` is linear: scale 1 is about 10 MB of COPY text; the table sizes section of docs/benchmarks.md shows what
// each size really holds.

export interface GenerateOptions {
  schema: string;
  scale: number;
  seed: number;
}

/** Row counts per table for a scale (small tables grow slower than the logs, as in a real deployment). */
export function rowCounts(scale: number): Record<string, number> {
  const s = scale;
  return {
    users: 10 + 2 * s,
    devices: 100 * s,
    tags: 30 + s,
    tag_rules: 10 + s,
    credentials: 20 + 5 * s,
    backups: 300 * s,
    scheduled_jobs: 50 * s,
    job_logs: 1000 * s,
    job_log_entries: 7000 * s,
    audit_logs: 3000 * s,
  };
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** SQL statements, run in order in one session. The helper schema nrbench_gen is dropped at the end. */
export function generationSql({ schema, scale, seed }: GenerateOptions): string[] {
  if (!Number.isInteger(scale) || scale < 1) throw new Error("scale must be a positive integer");
  if (!Number.isInteger(seed) || seed < 0 || seed > 1e12) throw new Error("seed must be a non-negative integer");
  const n = rowCounts(scale);
  const s = q(schema);
  const g = "nrbench_gen";
  // u(i, k): uniform [0,1) from row i, stream k. pick(arr, i, k): one element. id(ns, i): a uuid string.
  const helpers = [
    `DROP SCHEMA IF EXISTS ${g} CASCADE`,
    `CREATE SCHEMA ${g}`,
    `CREATE FUNCTION ${g}.u(i bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT ((hashint8extended(i, ${seed}::bigint * 1000 + k) >> 11) & 9007199254740991)::float8 / 9007199254740992.0 $$`,
    `CREATE FUNCTION ${g}.n(i bigint, k int, lo int, hi int) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT lo + floor(${g}.u(i, k) * (hi - lo + 1))::int $$`,
    `CREATE FUNCTION ${g}.pick(arr text[], i bigint, k int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT arr[1 + floor(${g}.u(i, k) * cardinality(arr))::int] $$`,
    `CREATE FUNCTION ${g}.id(ns text, i bigint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT md5('${seed}:' || ns || ':' || i)::uuid::text $$`,
    `CREATE FUNCTION ${g}.ts(i bigint, k int) RETURNS timestamp LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT timestamp '2025-01-01 00:00:00' + make_interval(secs => floor(${g}.u(i, k) * 31536000)) $$`,
    `CREATE FUNCTION ${g}.ip(i bigint, k int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT '10.' || ${g}.n(i, k, 0, 255) || '.' || ${g}.n(i, k + 1, 0, 255) || '.' || ${g}.n(i, k + 2, 1, 254) $$`,
  ];

  // Lines of CLI output; %n placeholders are filled per line. Tabs, backslashes, quotes and non-ASCII on purpose.
  const lineTemplates = [
    "interface GigabitEthernet%a/0/%b",
    " description Uplink to core-sw%a (Gebäude %b, 3. OG — Raum ü%c)",
    " ip address 10.%a.%b.%c 255.255.255.0",
    " switchport trunk allowed vlan %a,%b,%c-%d",
    " switchport mode trunk",
    " spanning-tree portfast",
    " no shutdown",
    "!",
    "hostname edge-rtr-%a",
    "logging host 10.%a.%b.%c transport udp port 514",
    "snmp-server community n3tr@v3n%a RO",
    "ntp server 192.0.2.%a prefer",
    "banner motd ^C Authorised access only — 認可されたアクセスのみ ^C",
    "Port\tName\tStatus\tVlan\tDuplex\tSpeed\tType",
    "Gi1/0/%a\tserver-%b\tconnected\t%c\ta-full\ta-1000\t10/100/1000BaseTX",
    "Gi1/0/%a\t\tnotconnect\t1\tauto\tauto\t10/100/1000BaseTX",
    "copy running-config tftp://10.%a.%b.%c/backups\\edge-rtr-%d\\running.cfg",
    "path C:\\NetRaven\\logs\\device_%a\\session_%b.log",
    "access-list %a permit tcp any host 10.%b.%c.%d eq 22",
    "regex ^Gi[0-9]+/[0-9]+\\.%a$ matched %b times",
    "%a: %b packets input, %c bytes, 0 no buffer",
    "  Received %a broadcasts (%b multicasts) — état: «actif» ✅",
    "BGP neighbor is 10.%a.%b.%c, remote AS 650%d, external link",
    "  Last reset %a:%b:%c, due to BGP Notification sent, hold time expired",
    "Cisco IOS XE Software, Version 17.%a.%b — © 1986-2025 Cisco Systems, Inc.",
    "uptime is %a weeks, %b days, %c hours, %d minutes",
    "crypto key generate rsa modulus 2048 label \"netraven-%a\"",
    "username netraven%a privilege 15 secret 9 $9$%b$%c",
  ];
  const templates = `ARRAY[${lineTemplates.map((t) => `'${t.replace(/'/g, "''")}'`).join(", ")}]::text[]`;
  const fragments = [
    // 4096 fragments of 12-90 lines (~0.5-4 KB each).
    `CREATE TABLE ${g}.frag AS
      SELECT f AS id,
        (SELECT string_agg(
                  replace(replace(replace(replace(${g}.pick(${templates}, f * 1000 + l, 1),
                    '%a', ${g}.n(f * 1000 + l, 2, 0, 48)::text), '%b', ${g}.n(f * 1000 + l, 3, 0, 4000)::text),
                    '%c', ${g}.n(f * 1000 + l, 4, 0, 255)::text), '%d', ${g}.n(f * 1000 + l, 5, 0, 99)::text),
                  E'\\n' ORDER BY l)
           FROM generate_series(1, ${g}.n(f, 6, 12, 90)) AS l) AS body
      FROM generate_series(0, 4095) AS f`,
    `CREATE UNIQUE INDEX ON ${g}.frag (id)`,
    `CREATE FUNCTION ${g}.frag(i bigint, k int) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
      $$ SELECT body FROM ${g}.frag WHERE id = floor(${g}.u(i, k) * 4096)::int $$`,
  ];

  const deviceTypes = `ARRAY['cisco_ios','cisco_xe','cisco_nxos','juniper_junos','arista_eos','paloalto_panos','fortinet','linux']`;
  const levels = `ARRAY['INFO','INFO','INFO','INFO','DEBUG','DEBUG','WARNING','ERROR']`;
  const categories = `ARRAY['connection','authentication','command','backup','reachability','parser','scheduler']`;
  const statuses = `ARRAY['COMPLETED_SUCCESS','COMPLETED_SUCCESS','COMPLETED_SUCCESS','COMPLETED_FAILURE','RUNNING','COMPLETED_NO_CHANGES']`;
  const jobTypes = `ARRAY['backup','reachability','command_runner','config_compare','cleanup']`;
  const messages = `ARRAY[
    'Connected to %h over SSH in %n ms',
    'Authentication succeeded with credential "%u"',
    E'Command output truncated:\\n\\tshow version\\n\\tshow inventory',
    'Saved configuration to C:\\NetRaven\\backups\\%h\\running.cfg',
    'Retrying after timeout (attempt %n of 3) — Zeitüberschreitung',
    'Parser warning: unexpected token ''\\x1b[0m'' at line %n',
    E'Diff against previous backup:\\n+ ip route 0.0.0.0 0.0.0.0 10.0.0.%n\\n- ip route 0.0.0.0 0.0.0.0 10.0.0.1',
    'Device %h is reachable (icmp rtt %n ms) ✅'
  ]::text[]`;

  const N = n;
  const data = [
    `INSERT INTO ${s}.users (id, username, email, full_name, password_hash, is_active, is_admin, created_at, updated_at, notification_preferences)
      SELECT ${g}.id('user', i), 'user' || i, 'user' || i || '@netraven.example', ${g}.pick(ARRAY['Ana Müller','Björn Åström','Chloé Dubois','Dmitri Ivanov','Emeka Obi','Fatima Zahra','Gu Wei 顾伟','Hana Sato'], i, 1) || ' ' || i,
        '$2b$12$' || substr(md5('pw' || i) || md5('salt' || i), 1, 53), ${g}.u(i, 2) < 0.9, ${g}.u(i, 3) < 0.1, ${g}.ts(i, 4), ${g}.ts(i, 5),
        format('{"email": {"enabled": %s, "on_failure": true, "digest": "%s"}, "ui": {"theme": "%s", "page_size": %s}}',
          (${g}.u(i, 6) < 0.5)::text, ${g}.pick(ARRAY['daily','weekly','never'], i, 7), ${g}.pick(ARRAY['dark','light'], i, 8), ${g}.n(i, 9, 10, 100))::jsonb
      FROM generate_series(1, ${N.users}) AS i`,
    `INSERT INTO ${s}.tags (id, name, description, color, created_at, updated_at)
      SELECT ${g}.id('tag', i), 'site-' || i, 'Devices at site ' || i || E' — rack\\trow ' || ${g}.n(i, 1, 1, 40), '#' || substr(md5('c' || i), 1, 6), ${g}.ts(i, 2), ${g}.ts(i, 3)
      FROM generate_series(1, ${N.tags}) AS i`,
    `INSERT INTO ${s}.tag_rules (id, name, description, rule_criteria, is_active, created_at, updated_at, tag_id)
      SELECT ${g}.id('rule', i), 'rule ' || i, 'Auto-tag by hostname pattern', format('{"field": "hostname", "op": "regex", "value": "^edge-rtr-%s\\\\d+$"}', i), ${g}.u(i, 1) < 0.8, ${g}.ts(i, 2), ${g}.ts(i, 3),
        ${g}.id('tag', ${g}.n(i, 4, 1, ${N.tags}))
      FROM generate_series(1, ${N.tag_rules}) AS i`,
    `INSERT INTO ${s}.devices (id, hostname, ip_address, device_type, port, username, password, description, last_backup_at, last_backup_status, enabled, created_at, updated_at, serial_number, is_reachable, last_reachability_check, owner_id)
      SELECT ${g}.id('device', i), 'edge-rtr-' || i || '.site' || ${g}.n(i, 1, 1, ${N.tags}) || '.netraven.example', ${g}.ip(i, 2), ${g}.pick(${deviceTypes}, i, 5), ${g}.pick(ARRAY['22','22','22','830','2222'], i, 6)::int,
        'admin', 'gAAAAAB' || md5('devpw' || i) || md5('x' || i), 'Edge router ' || i || ' — Standort ' || ${g}.pick(ARRAY['Zürich','München','São Paulo','Kraków','東京'], i, 7),
        ${g}.ts(i, 8), ${g}.pick(ARRAY['success','success','success','failed'], i, 9), ${g}.u(i, 10) < 0.95, ${g}.ts(i, 11), ${g}.ts(i, 12),
        'FOC' || upper(substr(md5('sn' || i), 1, 8)), ${g}.u(i, 13) < 0.9, ${g}.ts(i, 14), ${g}.id('user', ${g}.n(i, 15, 1, ${N.users}))
      FROM generate_series(1, ${N.devices}) AS i`,
    `INSERT INTO ${s}.device_tags (device_id, tag_id, created_at)
      SELECT ${g}.id('device', i), ${g}.id('tag', 1 + (i * 7 + j * 11) % ${N.tags}), ${g}.ts(i * 4 + j, 1)
      FROM generate_series(1, ${N.devices}) AS i, generate_series(1, 3) AS j
      WHERE ${g}.u(i * 4 + j, 2) < 0.6`,
    `INSERT INTO ${s}.credentials (id, name, description, username, password, use_keys, key_file, success_count, failure_count, last_used, last_success, last_failure, created_at, updated_at)
      SELECT ${g}.id('cred', i), 'cred-' || i, 'Credential set ' || i, ${g}.pick(ARRAY['admin','netops','backup','ro-user'], i, 1) || i,
        'gAAAAAB' || md5('credpw' || i) || md5('y' || i) || md5('z' || i), ${g}.u(i, 2) < 0.2, CASE WHEN ${g}.u(i, 2) < 0.2 THEN '/keys/id_ed25519_' || i END,
        ${g}.n(i, 3, 0, 10000), ${g}.n(i, 4, 0, 100), ${g}.ts(i, 5), ${g}.ts(i, 6), ${g}.ts(i, 7), ${g}.ts(i, 8), ${g}.ts(i, 9)
      FROM generate_series(1, ${N.credentials}) AS i`,
    `INSERT INTO ${s}.credential_tags (id, credential_id, tag_id, priority, success_count, failure_count, last_used, last_success, last_failure, created_at, updated_at)
      SELECT ${g}.id('credtag', i * 2 + j), ${g}.id('cred', i), ${g}.id('tag', ${g}.n(i * 2 + j, 1, 1, ${N.tags})), ${g}.u(i * 2 + j, 2) * 10,
        ${g}.n(i * 2 + j, 3, 0, 5000), ${g}.n(i * 2 + j, 4, 0, 50), ${g}.ts(i * 2 + j, 5), ${g}.ts(i * 2 + j, 6), ${g}.ts(i * 2 + j, 7), ${g}.ts(i * 2 + j, 8), ${g}.ts(i * 2 + j, 9)
      FROM generate_series(1, ${N.credentials}) AS i, generate_series(0, 1) AS j`,
    `INSERT INTO ${s}.backups (id, version, file_path, file_size, status, comment, content_hash, is_automatic, created_at, serial_number, device_id)
      SELECT ${g}.id('backup', i), 'v' || ${g}.n(i, 1, 1, 400), '/data/backups/edge-rtr-' || ${g}.n(i, 2, 1, ${N.devices}) || '/' || to_char(${g}.ts(i, 3), 'YYYYMMDD_HH24MISS') || '.cfg',
        ${g}.n(i, 4, 2000, 90000), ${g}.pick(ARRAY['complete','complete','complete','failed'], i, 5), CASE WHEN ${g}.u(i, 6) < 0.3 THEN E'Manual backup before change CHG' || i || E'\\nreviewed by netops' END,
        encode(sha256(('b' || i)::bytea), 'hex'), ${g}.u(i, 7) < 0.8, ${g}.ts(i, 3), 'FOC' || upper(substr(md5('sn' || i), 1, 8)), ${g}.id('device', ${g}.n(i, 2, 1, ${N.devices}))
      FROM generate_series(1, ${N.backups}) AS i`,
    `INSERT INTO ${s}.scheduled_jobs (id, name, device_id, schedule_type, schedule_time, schedule_interval, schedule_day, enabled, created_at, updated_at, last_run, next_run, created_by, job_data)
      SELECT ${g}.id('sched', i), 'Nightly backup ' || i, ${g}.id('device', ${g}.n(i, 1, 1, ${N.devices})), ${g}.pick(ARRAY['daily','weekly','interval'], i, 2),
        lpad(${g}.n(i, 3, 0, 23)::text, 2, '0') || ':' || lpad(${g}.n(i, 4, 0, 59)::text, 2, '0'), ${g}.n(i, 5, 5, 1440), ${g}.pick(ARRAY['monday','tuesday','friday','sunday'], i, 6),
        ${g}.u(i, 7) < 0.9, ${g}.ts(i, 8), ${g}.ts(i, 9), ${g}.ts(i, 10), ${g}.ts(i, 11), ${g}.id('user', ${g}.n(i, 12, 1, ${N.users})),
        format('{"commands": ["show running-config", "show version"], "retries": %s, "notify": ["ops@netraven.example"]}', ${g}.n(i, 13, 0, 5))::json
      FROM generate_series(1, ${N.scheduled_jobs}) AS i`,
    `INSERT INTO ${s}.job_logs (id, session_id, job_type, status, start_time, end_time, result_message, job_data, retention_days, device_id, created_by)
      SELECT ${g}.id('job', i), ${g}.id('session', i / 5), ${g}.pick(${jobTypes}, i, 1), ${g}.pick(${statuses}, i, 2), ${g}.ts(i, 3), ${g}.ts(i, 3) + make_interval(secs => ${g}.n(i, 4, 1, 900)),
        CASE WHEN ${g}.u(i, 5) < 0.2 THEN E'Failed on 2 of 14 devices:\\n\\tedge-rtr-' || i || E': timeout\\n\\tcore-sw-' || i || E': auth failed (user "netops\\\\svc")' ELSE 'Job completed: ' || ${g}.n(i, 6, 1, 500) || ' devices processed' END,
        format('{"device_ids": ["%s", "%s"], "options": {"timeout": %s, "retries": %s, "save_to": "C:\\\\NetRaven\\\\%s"}, "commands": ["show running-config", "show version", "show ip int brief"], "result": {"lines": %s, "changed": %s, "duration_ms": %s, "note": "Übertragung ok ✅"}}',
          ${g}.id('device', ${g}.n(i, 7, 1, ${N.devices})), ${g}.id('device', ${g}.n(i, 8, 1, ${N.devices})), ${g}.n(i, 9, 5, 120), ${g}.n(i, 10, 0, 5), i, ${g}.n(i, 11, 10, 9000), (${g}.u(i, 12) < 0.3)::text, ${g}.n(i, 13, 100, 90000))::jsonb,
        ${g}.pick(ARRAY['30','90','365'], i, 14)::int, CASE WHEN ${g}.u(i, 15) < 0.95 THEN ${g}.id('device', ${g}.n(i, 16, 1, ${N.devices})) END, ${g}.id('user', ${g}.n(i, 17, 1, ${N.users}))
      FROM generate_series(1, ${N.job_logs}) AS i`,
    `INSERT INTO ${s}.job_log_entries (id, job_log_id, timestamp, level, category, message, details, session_log_path, session_log_content, credential_username)
      SELECT ${g}.id('entry', i), ${g}.id('job', 1 + (i - 1) / 7), ${g}.ts(i, 1), ${g}.pick(${levels}, i, 2), ${g}.pick(${categories}, i, 3),
        replace(replace(${g}.pick(${messages}, i, 4), '%h', 'edge-rtr-' || ${g}.n(i, 5, 1, ${N.devices})), '%n', ${g}.n(i, 6, 1, 5000)::text) || ' [entry ' || i || ']',
        format('{"host": "edge-rtr-%s", "port": 22, "elapsed_ms": %s, "prompt": "edge-rtr-%s#", "bytes": %s, "encoding": "utf-8"}', ${g}.n(i, 5, 1, ${N.devices}), ${g}.n(i, 7, 1, 9000), ${g}.n(i, 5, 1, ${N.devices}), ${g}.n(i, 8, 0, 200000))::json,
        CASE WHEN ${g}.u(i, 9) < 0.12 THEN '/data/session_logs/' || i || '.log' END,
        CASE WHEN ${g}.u(i, 9) < 0.12 THEN 'Session log edge-rtr-' || ${g}.n(i, 5, 1, ${N.devices}) || ' ' || ${g}.ts(i, 1) || E'\\n' || ${g}.frag(i, 10) || E'\\n' || ${g}.frag(i, 11) END,
        ${g}.pick(ARRAY['admin','netops','backup','ro-user'], i, 12) || ${g}.n(i, 13, 1, 40)
      FROM generate_series(1, ${N.job_log_entries}) AS i`,
    `INSERT INTO ${s}.audit_logs (id, event_type, event_name, actor_id, actor_type, target_id, target_type, ip_address, user_agent, session_id, description, status, event_metadata, created_at)
      SELECT md5('${seed}:audit:' || i)::uuid, ${g}.pick(ARRAY['auth','admin','key','data'], i, 1), ${g}.pick(ARRAY['login','logout','update','delete','create','export'], i, 2),
        ${g}.id('user', ${g}.n(i, 3, 1, ${N.users})), ${g}.pick(ARRAY['user','system','service'], i, 4), ${g}.id('device', ${g}.n(i, 5, 1, ${N.devices})), ${g}.pick(ARRAY['device','user','backup','credential'], i, 6),
        CASE WHEN ${g}.u(i, 7) < 0.1 THEN '2001:db8::' || to_hex(${g}.n(i, 8, 1, 65535)) ELSE ${g}.ip(i, 9) END,
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12' || ${g}.n(i, 12, 0, 9) || '.0 Safari/537.36', md5('sess' || (i / 20)),
        'User user' || ${g}.n(i, 3, 1, ${N.users}) || ' ' || ${g}.pick(ARRAY['logged in','changed device settings','exported a backup','deleted a credential'], i, 13) || ' — détails: «ok»',
        ${g}.pick(ARRAY['success','success','success','failure','error','warning'], i, 14),
        format('{"request": {"method": "%s", "path": "/api/devices/%s", "query": "page=%s&size=50"}, "changes": {"before": {"enabled": true, "port": 22}, "after": {"enabled": %s, "port": %s}}, "trace_id": "%s"}',
          ${g}.pick(ARRAY['GET','POST','PUT','DELETE'], i, 15), ${g}.n(i, 5, 1, ${N.devices}), ${g}.n(i, 16, 1, 40), (${g}.u(i, 17) < 0.5)::text, ${g}.pick(ARRAY['22','830'], i, 18), md5('trace' || i))::json,
        ${g}.ts(i, 19)
      FROM generate_series(1, ${N.audit_logs}) AS i`,
  ];
  const finish = [`DROP SCHEMA ${g} CASCADE`, `ANALYZE`];
  return [...helpers, ...fragments, ...data, ...finish];
}
