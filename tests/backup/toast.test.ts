// How restore compresses long values (src/backup/toast.ts): lz4 instead of the server's built-in default, for the
// load only, serial and --jobs alike; a compression the DBA set is kept; the column definitions never change.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary } from "../harness/binary.ts";
import { createTestDatabase, type TestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A session log long and repetitive enough to be compressed in line or out of line (~30 KB). */
const LONG_LOG = "repeat(E'interface GigabitEthernet0/' || g || E'\\n description uplink\\n', 700)";

async function sourceBackup(): Promise<{ file: string; source: TestDatabase }> {
  const source = await createTestDatabase();
  expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
  await fillRealisticData(source.sql, { devices: 40 });
  // Written under pglz, so the restore's compression is its own choice, not a copy of the source's.
  await source.sql.begin(async (tx) => {
    await tx`set local default_toast_compression = pglz`;
    await tx.unsafe(`update netraven.job_log_entries e set session_log_content = ${LONG_LOG}
      from (select id, row_number() over (order by id) as g from netraven.job_log_entries order by id limit 25) s where e.id = s.id`);
  });
  const dir = mkdtempSync(join(tmpdir(), "netraven-toast-"));
  made.push(dir);
  const run = await runBinary(["backup", "--dir", dir, "--json"], { env: source.env });
  expect(run.status).toBe(0);
  return { file: JSON.parse(run.stdout).path, source };
}

/** How the long values are stored: one compression method per row, counted. */
async function compressionOf(db: TestDatabase): Promise<Record<string, number>> {
  const rows = await db.sql<{ method: string | null; n: number }[]>`
    select pg_column_compression(session_log_content) as method, count(*)::int as n
    from netraven.job_log_entries where length(session_log_content) > 10000 group by 1`;
  return Object.fromEntries(rows.map((r) => [r.method ?? "none", r.n]));
}

/** The column's own setting ('' = the server's default), as the definitions leave it. */
async function columnSetting(db: TestDatabase): Promise<string> {
  const [row] = await db.sql<{ c: string }[]>`
    select attcompression::text as c from pg_attribute
    where attrelid = 'netraven.job_log_entries'::regclass and attname = 'session_log_content'`;
  return row!.c;
}

describe("restore: compression of long values", () => {
  test("serial and --jobs 2 restores store them with lz4 when the server's default is its built-in one; the columns keep their default", async () => {
    const { file, source } = await sourceBackup();
    expect(await compressionOf(source)).toEqual({ pglz: 25 });
    const [setting] = await source.sql<{ lz4: boolean; source: string }[]>`
      select 'lz4' = any(enumvals) as lz4, source from pg_settings where name = 'default_toast_compression'`;
    // The harness's own cluster (Debian's build, default settings) must take the lz4 branch; a server given through
    // DATABASE_URL may lack lz4 or have a configured default, and then the restore keeps the server's choice.
    if (!process.env.DATABASE_URL) expect(setting).toEqual({ lz4: true, source: "default" });
    const expected = setting!.lz4 && setting!.source === "default" ? "lz4" : "pglz";
    for (const jobs of ["1", "2"]) {
      const target = await createTestDatabase();
      const run = await runBinary(["restore", file, "--yes", "--jobs", jobs], { env: target.env });
      expect(run.status).toBe(0);
      expect(await compressionOf(target)).toEqual({ [expected]: 25 });
      expect(await columnSetting(target)).toBe("");
      expect(await tableChecksums(target.sql)).toEqual(await tableChecksums(source.sql));
      // After the restore the app's own writes follow the server's setting again.
      await target.sql.unsafe(`update netraven.job_log_entries set session_log_content = session_log_content || 'x' where length(session_log_content) > 10000`);
      const [own] = await target.sql<{ method: string }[]>`select current_setting('default_toast_compression') as method`;
      expect(await compressionOf(target)).toEqual({ [own!.method]: 25 });
      expect((await runBinary(["validate"], { env: target.env })).status).toBe(0);
    }
  });

  test("a compression the DBA set for the database is kept, serial and --jobs 2", async () => {
    const { file } = await sourceBackup();
    for (const jobs of ["1", "2"]) {
      const target = await createTestDatabase();
      await target.sql.unsafe(`alter database "${target.name}" set default_toast_compression = pglz`);
      const run = await runBinary(["restore", file, "--yes", "--jobs", jobs], { env: target.env });
      expect(run.status).toBe(0);
      expect(await compressionOf(target)).toEqual({ pglz: 25 });
    }
  });
});
