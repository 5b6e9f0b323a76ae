// Many processes at once, against one real server: the lock must serialise them and nobody may fail.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary } from "../harness/binary.ts";
import { createTestDatabase } from "../harness/db.ts";
import { fillRealisticData, tableChecksums } from "../harness/data.ts";

describe("20 inits at once", () => {
  test("on an empty database: all exit 0, exactly one applies the schema, validate is clean", async () => {
    const db = await createTestDatabase();
    const runs = await Promise.all(Array.from({ length: 20 }, () => runBinary(["init", "--json", "--retry", "10"], { env: db.env })));
    expect(runs.map((r) => r.status)).toEqual(Array(20).fill(0));
    const actions = runs.map((r) => JSON.parse(r.stdout).action);
    expect(actions.filter((a) => a === "created")).toHaveLength(1);
    expect(actions.filter((a) => a !== "created" && a !== "up-to-date")).toEqual([]);
    const validate = await runBinary(["validate"], { env: db.env });
    expect(validate.status).toBe(0);
    expect(await db.sql`select count(*)::int as n from netraven.admin_settings`).toEqual([{ n: 22 }] as any);
  });

  test("on an up-to-date database: all exit 0 and none issues DDL", async () => {
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await db.sql.unsafe(`
      create table public.ddl_log (tag text);
      create function public.log_ddl() returns event_trigger language plpgsql as $$ begin insert into public.ddl_log values (tg_tag); end $$;
      create event trigger log_ddl on ddl_command_start execute function public.log_ddl();`);
    const runs = await Promise.all(Array.from({ length: 20 }, () => runBinary(["init", "--json"], { env: db.env })));
    expect(runs.map((r) => r.status)).toEqual(Array(20).fill(0));
    expect(runs.map((r) => JSON.parse(r.stdout).action)).toEqual(Array(20).fill("up-to-date"));
    expect(await db.sql`select count(*)::int as n from public.ddl_log`).toEqual([{ n: 0 }] as any);
  });
});

describe("restore against restore", () => {
  for (const jobs of ["1", "2"]) {
    test(`a second restore during the first (--jobs ${jobs}) waits for the lock, or is refused clearly; they never interleave`, async () => {
      const source = await createTestDatabase();
      expect((await runBinary(["init"], { env: source.env })).status).toBe(0);
      await fillRealisticData(source.sql, { devices: 15_000 });
      const dir = mkdtempSync(join(tmpdir(), "netraven-rr-"));
      const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: source.env });
      expect(backup.status).toBe(0);
      const file = JSON.parse(backup.stdout).path as string;
      const expected = await tableChecksums(source.sql);

      const target = await createTestDatabase();
      const first = runBinary(["restore", file, "--yes", "--json", "--jobs", jobs], { env: target.env });
      // Wait until the first restore holds the lock (it shows up in pg_locks as an advisory lock).
      for (let i = 0; i < 100; i++) {
        const [row] = await target.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`;
        if (row!.n > 0) break;
        await Bun.sleep(20);
      }
      const refused = await runBinary(["restore", file, "--yes", "--lock-timeout", "0.2"], { env: target.env });
      const waiting = runBinary(["restore", file, "--yes", "--lock-timeout", "120"], { env: target.env });
      const firstResult = await first;
      const waitingResult = await waiting;
      expect(firstResult.status).toBe(0);
      expect(refused.status).toBe(6);
      expect(refused.stderr).toContain("held the lock");
      expect(refused.stderr).toContain("nothing was changed");
      expect(waitingResult.stderr).toContain("Waiting for another netraven-db run");
      expect(waitingResult.status).toBe(0);
      expect(await tableChecksums(target.sql)).toEqual(expected);
      // Each successful restore recorded itself; nothing else happened in between.
      expect(readFileSync(file).length).toBeGreaterThan(0);
    });
  }
});
