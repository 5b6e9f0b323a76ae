// Injection, proven through the compiled binary against a real PostgreSQL:
//   - schema names, database names (--target-db) and paths with quotes, spaces, semicolons and unicode work end to
//     end (init -> validate -> backup -> verify -> restore into another database -> validate), or are refused with
//     one clear line (control characters, empty or over-long names, file prefixes outside [A-Za-z0-9._-]);
//   - a backup file cannot make restore (or verify's blessing) run SQL of the attacker's choosing: files that are
//     valid netraven-db backups except for extra SQL, with manifests whose checksums match (the attacker controls
//     both), are refused by verify (exit 1) and by restore, and the target database is left exactly as it was. The
//     same files DO run the extra SQL under plain psql, which proves each one is a working attack;
//   - every template literal passed to `.unsafe(` in src/ interpolates only quoted identifiers/literals.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { runBinary, type RunResult } from "../harness/binary.ts";
import { adminSql, client, createTestDatabase, psql, testServer, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";
import { tempDir } from "../harness/cleanup.ts";

const rand = () => Math.random().toString(36).slice(2, 8);
const qi = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Databases this file creates under names createTestDatabase cannot make; dropped at the end. */
const extraDatabases: string[] = [];

afterAll(async () => {
  for (const name of extraDatabases) await adminSql().unsafe(`drop database if exists ${qi(name)} with (force)`).catch(() => undefined);
});

/** Exactly one `error:` line (a `hint:` line may follow), no stack trace. */
function oneErrorLine(run: RunResult): string {
  const errors = run.stderr.split("\n").filter((l) => l.startsWith("netraven-db: error:"));
  expect({ stderr: run.stderr, errors: errors.length }).toEqual({ stderr: run.stderr, errors: 1 });
  expect(run.stderr).not.toContain("    at ");
  return errors[0]!;
}

/** Everything about a database an attack could change: schemas, relations, database/role settings, extensions. */
async function databaseState(sql: ReturnType<typeof client>): Promise<unknown> {
  const relations = await sql`select n.nspname || '.' || c.relname || ':' || c.relkind::text as r from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%' and n.nspname not like 'pg_toast_temp%' order by 1`;
  const settings = await sql`select coalesce(setrole::regrole::text, '-') || ' ' || array_to_string(setconfig, ',') as s from pg_db_role_setting
    where setdatabase = (select oid from pg_database where datname = current_database()) order by 1`;
  const extensions = await sql`select extname from pg_extension order by 1`;
  return { relations: relations.map((r) => r.r), settings: settings.map((r) => r.s), extensions: extensions.map((r) => r.extname) };
}

// ---- names with quotes, spaces and unicode, end to end -----------------------------------------------------------

describe("schema and database names with quotes, spaces, semicolons and unicode", () => {
  const cases = [
    { schema: `we"ird schéma`, target: `tgt "db" é 日本 ${rand()}` },
    { schema: `a'b; drop table x; --`, target: `a'b; drop database x; -- ${rand()}` },
    { schema: `Ünï "q" 日本\\back'slash$1$&$'`, target: `sp ace\\back ""q"" $& ${rand()}` },
  ];
  for (const { schema, target } of cases) {
    test(`schema ${JSON.stringify(schema)} -> database ${JSON.stringify(target)}: init, validate, backup, verify, list, restore, validate`, async () => {
      extraDatabases.push(target);
      const db = await createTestDatabase("nrinj");
      // A canary the names' SQL fragments would hit if they were ever spliced into SQL unquoted.
      await db.sql.unsafe(`create table public.x (id int primary key); insert into public.x values (1)`);
      const env = { ...db.env, NETRAVEN_DB_SCHEMA: schema };

      const init = await runBinary(["init", "--json"], { env });
      expect(init.stderr).not.toContain("error");
      expect(init.status).toBe(0);
      expect(JSON.parse(init.stdout).action).toBe("created");
      const [created] = await db.sql`select count(*)::int as n from pg_tables where schemaname = ${schema}`;
      expect(created!.n).toBe(14);
      const [setting] = await db.sql`select array_to_string(setconfig, ',') as s from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = current_database())`;
      expect(setting!.s).toBe(`search_path=${qi(schema)}, public`);
      const again = await runBinary(["init", "--schema", schema], { env: db.env });
      expect(again.stderr).toContain("up to date");
      expect(again.status).toBe(0);

      const validate = await runBinary(["validate", "--schema", schema, "--json"], { env: db.env });
      const report = JSON.parse(validate.stdout);
      expect(report.differences).toEqual([]);
      expect(report.schema).toBe(schema);
      expect(validate.status).toBe(0);

      await fillRealisticData(db.sql, { devices: 60, schema });
      const dir = join(tempDir("inj"), `dir with spaces`, `ünïcødé 日本 'q' "dq" ; $(x)`);
      mkdirSync(dir, { recursive: true });
      const backup = await runBinary(["backup", "--dir", dir, "--json"], { env });
      expect(backup.stderr).not.toContain("error");
      expect(backup.status).toBe(0);
      const file = JSON.parse(backup.stdout).path as string;
      expect(file.startsWith(dir)).toBe(true);
      expect(JSON.parse(readFileSync(`${file}.json`, "utf8")).schema).toBe(schema);

      const verify = await runBinary(["verify", file], {});
      expect(verify.stderr).toContain("is good");
      expect(verify.status).toBe(0);
      const list = await runBinary(["list", "--dir", dir, "--json"], {});
      expect(list.status).toBe(0);
      expect(list.stdout).toContain(basename(file));

      // Into another database, created by restore; the schema comes from the backup.
      const restore = await runBinary(["restore", file, "--yes", "--target-db", target, "--json"], { env: db.env });
      expect(restore.stderr).not.toContain("error");
      expect(restore.status).toBe(0);
      const restored = JSON.parse(restore.stdout);
      expect(restored.database).toBe(target);
      expect(restored.schema).toBe(schema);
      expect(restored.validation.ok).toBe(true);

      const targetUrl = testServer().url(target);
      const validateTarget = await runBinary(["validate", "--schema", schema], { env: { DATABASE_URL: targetUrl } });
      expect(validateTarget.stdout.trim()).toBe("Schema matches definitions (13 tables checked).");
      expect(validateTarget.status).toBe(0);

      const targetSql = client(testServer().url("postgres"), { database: target, max: 1 });
      try {
        expect(await tableChecksums(targetSql, schema)).toEqual(await tableChecksums(db.sql, schema));
        const [dbRow] = await targetSql`select current_database() as name`;
        expect(dbRow!.name).toBe(target);
      } finally {
        await targetSql.end({ timeout: 1 });
      }
      // The same file is a plain SQL script: psql restores it into an empty database, names and all.
      const byHand = await createTestDatabase("nrinj_psql");
      const script = join(tempDir("inj"), "restore.sql");
      writeFileSync(script, gunzipSync(readFileSync(file)));
      psql(byHand.url, ["-f", script]);
      const validateByHand = await runBinary(["validate", "--schema", schema, "--json"], { env: byHand.env });
      expect(JSON.parse(validateByHand.stdout).differences).toEqual([]);
      expect(validateByHand.status).toBe(0);
      expect(await tableChecksums(byHand.sql, schema)).toEqual(await tableChecksums(db.sql, schema));

      // The canary is untouched, and no stray schema or database appeared.
      const [canary] = await db.sql`select count(*)::int as n from public.x`;
      expect(canary!.n).toBe(1);
      const schemas = await db.sql`select nspname from pg_namespace where nspname not like 'pg_%' and nspname <> 'information_schema' order by 1`;
      expect(schemas.map((r) => r.nspname).sort()).toEqual(["public", schema].sort());
      const databases = await adminSql()`select datname from pg_database where datname in ('x', ${target})`;
      expect(databases.map((r) => r.datname)).toEqual([target]);
    });
  }

  test("names with control characters are refused with one line (exit 3), before anything is created", async () => {
    const db = await createTestDatabase("nrinj");
    const before = await databaseState(db.sql);
    for (const bad of ["a\nb", "tab\there", "esc\u001b[2Jx", "cr\rx"]) {
      for (const args of [["init", "--schema", bad], ["validate", "--schema", bad], ["backup", "--dir", tempDir("inj"), "--schema", bad]]) {
        const run = await runBinary(args, { env: db.env });
        expect(oneErrorLine(run)).toMatch(/--schema: schema name must not contain control characters/);
        expect(run.status).toBe(3);
      }
    }
    expect(await databaseState(db.sql)).toEqual(before);
  });

  test("--target-db: empty, over-long or control characters are refused (exit 3); the live database is untouched", async () => {
    const source = await createTestDatabase("nrinj");
    expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
    await fillRealisticData(source.sql, { devices: 20 });
    const dir = tempDir("inj");
    const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: source.env });
    expect(backup.status).toBe(0);
    const file = JSON.parse(backup.stdout).path;
    // The live database gets different data, so a restore into it would show.
    await source.sql`delete from netraven.job_log_entries`;
    const before = await tableChecksums(source.sql, "netraven");
    const long = `d${"é".repeat(40)}`; // 81 bytes: PostgreSQL would silently cut it to 63
    for (const [args, pattern] of [
      [["--target-db", ""], /option --target-db requires a value/],
      [["--target-db"], /option --target-db requires a value/],
      [["--target-db", long], /--target-db: database name must be at most 63 bytes/],
      [["--target-db", "two\nlines"], /--target-db: database name must not contain control characters/],
    ] as Array<[string[], RegExp]>) {
      const run = await runBinary(["restore", file, "--yes", ...args], { env: source.env });
      expect(oneErrorLine(run)).toMatch(pattern);
      expect(run.status).toBe(3);
    }
    expect(await tableChecksums(source.sql, "netraven")).toEqual(before);
    const databases = await adminSql()`select datname from pg_database where datname like 'd%' and length(datname) > 40`;
    expect(databases.length).toBe(0);
  });
});

// ---- backup directories and file prefixes -------------------------------------------------------------------------

describe("backup directories and file prefixes", () => {
  test("a directory with spaces, quotes and unicode works for backup, list, verify and restore", async () => {
    const db = await createTestDatabase("nrinj");
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    const dir = join(tempDir("inj"), `spaces and "quotes" and 'single'`, `日本語 ünï; rm -rf $HOME`);
    mkdirSync(dir, { recursive: true });
    const backup = await runBinary(["backup", "--dir", dir, "--prefix", "nightly.v1-db_x"], { env: db.env });
    expect(backup.status).toBe(0);
    const files = readdirSync(dir).filter((f) => f.endsWith(".sql.gz"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^nightly\.v1-db_x_\d{8}_\d{6}\.sql\.gz$/);
    const file = join(dir, files[0]!);
    const list = await runBinary(["list", "--dir", dir], {});
    expect(list.stdout).toContain(files[0]!);
    expect(list.status).toBe(0);
    expect((await runBinary(["verify", file], {})).status).toBe(0);
    const restore = await runBinary(["restore", file, "--yes"], { env: db.env });
    expect(restore.status).toBe(0);
  });

  test("file names with terminal escape sequences are shown escaped, never sent to the terminal", async () => {
    const dir = tempDir("inj");
    // Anyone who can write to the backup volume chooses file names: OSC (window title) and screen-clearing CSI.
    const name = "evil\u001b]0;pwned\u0007\u001b[2J_20260101_000000.sql.gz";
    writeFileSync(join(dir, name), "not a backup");
    const list = await runBinary(["list", "--dir", dir], {});
    expect(list.status).toBe(0);
    expect(list.stdout).toContain("evil\\x1b]0;pwned\\x07\\x1b[2J_20260101_000000.sql.gz");
    const verify = await runBinary(["verify", join(dir, name)], {});
    expect(verify.status).toBe(1);
    for (const run of [list, verify]) expect(run.stdout + run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const json = await runBinary(["list", "--dir", dir, "--json"], {});
    expect(JSON.parse(json.stdout).backups[0].file).toBe(name); // JSON keeps the real name, escaped by JSON itself
  });

  test("a prefix outside [A-Za-z0-9._-] is a usage error (exit 3) naming the setting, and nothing is written", async () => {
    const db = await createTestDatabase("nrinj");
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    const bad = ["my backup", "../evil", "a/b", "préfixe", ".hidden", "x;rm -rf ~", "$(id)", "-dash", "日本"];
    for (const prefix of bad) {
      const dir = join(tempDir("inj"), "never-created");
      const run = await runBinary(["backup", "--dir", dir, `--prefix=${prefix}`], { env: db.env });
      expect(oneErrorLine(run)).toBe(`netraven-db: error: --prefix: may hold only letters, digits, dot, dash and underscore (got ${JSON.stringify(prefix)})`);
      expect(run.status).toBe(3);
      expect(existsSync(dir)).toBe(false);
      const viaEnv = await runBinary(["backup", "--dir", dir, "--json"], { env: { ...db.env, NETRAVEN_DB_PREFIX: prefix } });
      expect(JSON.parse(viaEnv.stdout).error.message).toStartWith("NETRAVEN_DB_PREFIX: may hold only letters");
      expect(viaEnv.status).toBe(3);
      expect(existsSync(dir)).toBe(false);
    }
  });
});

// ---- crafted backup files -----------------------------------------------------------------------------------------

const HEADER_BYTES = 4096;
const GZIP_HEADER_UNIT = gzipSync(Buffer.alloc(HEADER_BYTES), { level: 0 }).length;
const END_OF_HEADER = "-- end of header";

interface Parts {
  header: string;
  body: string;
}

/** Splits a backup (uncompressed or gzip) into its 4096-byte header and the SQL after it. */
function splitBackup(file: string): Parts & { compression: "gzip" | "none" } {
  const raw = readFileSync(file);
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    return { compression: "gzip", header: gunzipSync(raw.subarray(0, GZIP_HEADER_UNIT)).toString("utf8"), body: gunzipSync(raw.subarray(GZIP_HEADER_UNIT)).toString("utf8") };
  }
  return { compression: "none", header: raw.subarray(0, HEADER_BYTES).toString("utf8"), body: raw.subarray(HEADER_BYTES).toString("utf8") };
}

/** Rewrites header lines and pads the header back to exactly 4096 bytes, the way the tool lays it out. */
function rewriteHeader(header: string, edit: (lines: string[]) => string[]): string {
  const lines = header.split("\n");
  const end = lines.indexOf(END_OF_HEADER);
  const content = edit(lines.slice(0, end).filter((l) => !/^-- *$/.test(l)));
  const bodyText = `${content.join("\n")}\n`;
  const padding = HEADER_BYTES - Buffer.byteLength(bodyText) - Buffer.byteLength(`${END_OF_HEADER}\n`);
  const result = `${bodyText}--${" ".repeat(padding - 3)}\n${END_OF_HEADER}\n`;
  if (Buffer.byteLength(result) !== HEADER_BYTES) throw new Error("crafted header is not 4096 bytes");
  return result;
}

/**
 * Writes a forged backup the way an attacker who controls the backup volume would: the header's data_bytes fits the
 * new SQL, and the manifest is rewritten with the new size and SHA-256. Returns the path.
 */
function forge(original: string, dir: string, name: string, parts: Parts, compression: "gzip" | "none", options: { manifest?: boolean } = {}): string {
  const body = Buffer.from(parts.body);
  const header = rewriteHeader(parts.header, (lines) => lines.map((l) => (l.startsWith("-- data_bytes: ") ? `-- data_bytes: ${HEADER_BYTES + body.length}` : l)));
  const bytes =
    compression === "gzip" ? Buffer.concat([gzipSync(Buffer.from(header), { level: 0 }), gzipSync(body)]) : Buffer.concat([Buffer.from(header), body]);
  if (compression === "gzip" && bytes.subarray(0, GZIP_HEADER_UNIT).length !== GZIP_HEADER_UNIT) throw new Error("bad gzip header unit");
  const file = join(dir, `${name}_20260101_000000.sql${compression === "gzip" ? ".gz" : ""}`);
  writeFileSync(file, bytes);
  if (options.manifest !== false) {
    const manifest = JSON.parse(readFileSync(`${original}.json`, "utf8"));
    Object.assign(manifest, { file: basename(file), size_bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), data_bytes: HEADER_BYTES + body.length, compression });
    const version = parts.header.match(/^-- schema_version: (\d+)$/m);
    if (version) manifest.schema_version = Number(version[1]);
    writeFileSync(`${file}.json`, JSON.stringify(manifest, null, 2));
  }
  return file;
}

describe("a backup file cannot run SQL of its own on restore", () => {
  const PAYLOAD = "DROP TABLE IF EXISTS public.x; CREATE TABLE public.pwned (note text); INSERT INTO public.pwned VALUES ('owned');\n";
  let source: TestDatabase;
  let original: { gzip: string; none: string };
  const forgeries: Array<{ name: string; file: string; psqlRuns: boolean; verifyStatus: number; restoreStatus: number }> = [];

  beforeAll(async () => {
    source = await createTestDatabase("nrinj_src");
    expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
    await fillRealisticData(source.sql, { devices: 40 });
    const dir = tempDir("forge-src");
    const made: Record<string, string> = {};
    for (const compression of ["gzip", "none"] as const) {
      mkdirSync(join(dir, compression));
      const run = await runBinary(["backup", "--dir", join(dir, compression), "--compress", compression, "--json"], { env: source.env });
      expect(run.status).toBe(0);
      made[compression] = JSON.parse(run.stdout).path;
    }
    original = made as typeof original;

    const forgeDir = tempDir("forged");
    const add = (name: string, compression: "gzip" | "none", edit: (p: Parts) => Parts, expected: { verify?: number; restore?: number; psqlRuns?: boolean; manifest?: boolean } = {}) => {
      const file = forge(original[compression], forgeDir, name, edit(splitBackup(original[compression])), compression, { manifest: expected.manifest });
      forgeries.push({ name: `${name} (${compression}${expected.manifest === false ? ", no manifest" : ""})`, file, psqlRuns: expected.psqlRuns ?? true, verifyStatus: expected.verify ?? 1, restoreStatus: expected.restore ?? 1 });
    };
    const firstCopy = (body: string) => body.indexOf("\nCOPY ") + 1;
    const endOfFirstBlock = (body: string) => body.indexOf("\n\\.\n") + 4;
    for (const compression of ["none", "gzip"] as const) {
      add("right-after-header", compression, (p) => ({ ...p, body: PAYLOAD + p.body }));
      add("before-first-copy", compression, (p) => ({ ...p, body: p.body.slice(0, firstCopy(p.body)) + PAYLOAD + p.body.slice(firstCopy(p.body)) }));
      add("between-data-blocks", compression, (p) => ({ ...p, body: p.body.slice(0, endOfFirstBlock(p.body)) + PAYLOAD + p.body.slice(endOfFirstBlock(p.body)) }));
      add("before-commit", compression, (p) => ({ ...p, body: p.body.replace(/\nCOMMIT;\n/, `\n${PAYLOAD}COMMIT;\n`) }));
      add("same-line-as-begin", compression, (p) => ({ ...p, body: p.body.replace("\nBEGIN;\n", `\nBEGIN; ${PAYLOAD}`) }));
      // SQL hidden in the header: psql runs any line that is not a comment.
      add("inside-the-header", compression, (p) => ({ ...p, header: rewriteHeader(p.header, (lines) => [...lines, PAYLOAD.trim()]) }));
      // A header from a "newer schema version", which verify cannot compare with the exact text it writes.
      add("newer-schema-version", compression, (p) => ({ header: rewriteHeader(p.header, (lines) => lines.map((l) => (l.startsWith("-- schema_version: ") ? "-- schema_version: 2" : l))), body: PAYLOAD + p.body }), {
        verify: 2,
        restore: 9,
      });
    }
    // COPY ... FROM PROGRAM would run a shell command on the server as a superuser restores it: never given to psql.
    add("copy-from-program", "none", (p) => ({ ...p, body: p.body.replace(/^(COPY "netraven"\."users" \([^)]*\)) FROM stdin;$/m, `$1 FROM PROGRAM 'touch /tmp/netraven-pwned';`) }), { psqlRuns: false });
    add("right-after-header", "none", (p) => ({ ...p, body: PAYLOAD + p.body }), { manifest: false });
    add("inside-the-header", "gzip", (p) => ({ ...p, header: rewriteHeader(p.header, (lines) => [...lines, PAYLOAD.trim()]) }), { manifest: false });
  });

  test("the forged files are working attacks: plain psql runs the extra SQL", async () => {
    let attacks = 0;
    for (const forged of forgeries.filter((f) => f.psqlRuns)) {
      const scratch = await createTestDatabase("nrinj_psql");
      await scratch.sql.unsafe("create table public.x (id int)");
      const { header, body } = splitBackup(forged.file);
      const script = join(tempDir("psql"), "script.sql");
      writeFileSync(script, header + body);
      psql(scratch.url, ["-f", script]);
      const [row] = await scratch.sql<{ pwned: boolean; x: boolean }[]>`select to_regclass('public.pwned') is not null as pwned, to_regclass('public.x') is not null as x`;
      expect({ file: forged.name, ...row }).toEqual({ file: forged.name, pwned: true, x: false });
      attacks++;
    }
    expect(attacks).toBe(forgeries.filter((f) => f.psqlRuns).length);
  });

  test("verify refuses every forged file with one line", async () => {
    for (const forged of forgeries) {
      for (const json of [false, true]) {
        const run = await runBinary(["verify", forged.file, ...(json ? ["--json"] : [])], {});
        const line = oneErrorLine(run);
        expect({ file: forged.name, status: run.status }).toEqual({ file: forged.name, status: forged.verifyStatus });
        if (forged.verifyStatus === 1) expect(line).toContain(basename(forged.file));
        if (json) expect(JSON.parse(run.stdout).ok).toBe(false);
      }
    }
  });

  test("restore and verify --db refuse every forged file and leave the database exactly as it was", async () => {
    const target = await createTestDatabase("nrinj_tgt");
    expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
    await fillRealisticData(target.sql, { devices: 15 });
    await target.sql.unsafe("create table public.x (id int primary key); insert into public.x values (42)");
    const rows = await tableChecksums(target.sql, "netraven");
    const state = await databaseState(target.sql);
    for (const forged of forgeries) {
      for (const args of [["restore", forged.file, "--yes"], ["restore", forged.file, "--yes", "--json"], ["verify", forged.file, "--db"]]) {
        const run = await runBinary(args, { env: target.env });
        oneErrorLine(run);
        const expected = args[0] === "verify" ? forged.verifyStatus : forged.restoreStatus;
        expect({ file: forged.name, args: args.slice(2), status: run.status }).toEqual({ file: forged.name, args: args.slice(2), status: expected });
        const [row] = await target.sql<{ pwned: boolean; x: number }[]>`select to_regclass('public.pwned') is not null as pwned, (select count(*)::int from public.x) as x`;
        expect({ file: forged.name, ...row }).toEqual({ file: forged.name, pwned: false, x: 1 });
      }
    }
    expect(await tableChecksums(target.sql, "netraven")).toEqual(rows);
    expect(await databaseState(target.sql)).toEqual(state);
    expect(existsSync("/tmp/netraven-pwned")).toBe(false);
    // Untouched originals still restore: the refusals above are about the forgeries, not about restore in general.
    const good = await runBinary(["restore", original.gzip, "--yes"], { env: target.env });
    expect(good.status).toBe(0);
    expect(await tableChecksums(target.sql, "netraven")).toEqual(await tableChecksums(source.sql, "netraven"));
  });
});

// ---- static review: SQL built for .unsafe( only interpolates quoted values ---------------------------------------

/** The template literals passed directly to `.unsafe(` in a source text, with the expressions they interpolate. */
function unsafeTemplates(source: string): Array<{ line: number; interpolations: string[] }> {
  const found: Array<{ line: number; interpolations: string[] }> = [];
  const re = /\.unsafe(?:<[^\n]*?>)?\(\s*`/g;
  for (let match = re.exec(source); match; match = re.exec(source)) {
    const interpolations: string[] = [];
    let i = match.index + match[0].length;
    // Scan the template: `${` opens an expression, which may itself hold strings and nested templates.
    while (i < source.length && source[i] !== "`") {
      if (source[i] === "\\") i += 2;
      else if (source[i] === "$" && source[i + 1] === "{") {
        let depth = 1;
        const start = i + 2;
        i = start;
        let nested = 0;
        while (i < source.length && depth > 0) {
          const ch = source[i];
          if (ch === "`") nested = nested ? 0 : 1;
          else if (!nested && ch === "{") depth++;
          else if (!nested && ch === "}") depth--;
          i++;
        }
        interpolations.push(source.slice(start, i - 1).trim());
      } else i++;
    }
    found.push({ line: source.slice(0, match.index).split("\n").length, interpolations });
  }
  return found;
}

/** Values that are quoted where they are built, or are not text at all. Anything else must go through quoteIdent/quoteLiteral. */
const SAFE_INTERPOLATION = [
  /^quoteIdent\(/, // "identifier" with embedded quotes doubled
  /^quoteLiteral\(/, // 'literal' with embedded quotes doubled
  /^copyColumns\(/, // table.columns.map(quoteIdent)
  /^columns$/, // restore.ts: block.columns.map(quoteIdent).join(", ")
  /^allTables\.map\(\(t\) => `\$\{quoteIdent\(schema\)\}\.\$\{quoteIdent\(t\.name\)\}`\)\.join\(", "\)$/,
  /^s$/, // seed.ts: const s = quoteIdent(schema)
];

describe("nothing is spliced into SQL unquoted", () => {
  test("every ${...} in a template passed to .unsafe( is quoted (src/ review)", () => {
    const root = join(import.meta.dir, "..", "..", "src");
    const offenders: string[] = [];
    let checked = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts")) {
          const text = readFileSync(path, "utf8");
          for (const { line, interpolations } of unsafeTemplates(text)) {
            for (const expr of interpolations) {
              checked++;
              if (!SAFE_INTERPOLATION.some((re) => re.test(expr))) offenders.push(`${path.slice(root.length + 1)}:${line}: \${${expr}}`);
            }
          }
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  test("the scanner finds an unquoted interpolation (so the review above can fail)", () => {
    const sample = "await tx.unsafe(`DROP TABLE ${quoteIdent(schema)}.${name}; select ${`${quoteLiteral(v)}`}`);";
    const [found] = unsafeTemplates(sample);
    expect(found!.interpolations).toEqual(["quoteIdent(schema)", "name", "`${quoteLiteral(v)}`"]);
    expect(found!.interpolations.filter((e) => !SAFE_INTERPOLATION.some((re) => re.test(e)))).toEqual(["name", "`${quoteLiteral(v)}`"]);
  });
});
