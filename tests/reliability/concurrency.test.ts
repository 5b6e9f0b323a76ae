// Many processes at once, against one real server: the lock must serialise them and nobody may fail.
import { describe, expect, test } from "bun:test";
import { runBinary } from "../harness/binary.ts";
import { tempDir } from "../harness/cleanup.ts";
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
    const dir = tempDir("rr");
    const backup = await runBinary(["backup", "--dir", dir, "--json"], { env: source.env });
    expect(backup.status).toBe(0);
    const file = JSON.parse(backup.stdout).path as string;
    const expected = await tableChecksums(source.sql);

    // A live database, as at 3 a.m.: initialised, so the restores' bootstrap has nothing to create and only the
    // schema lock can keep them apart (on an empty database, CREATE EXTENSION alone would make the second one wait).
    const target = await createTestDatabase();
    expect((await runBinary(["init"], { env: target.env })).status).toBe(0);
    // Every DDL statement in the target is logged with the transaction that ran it (ids are handed out in the order
    // the statements run; rows of a rolled-back transaction vanish), so the log shows which restores committed and
    // whether one ran while the other was working.
    await target.sql.unsafe(`
      create table public.ddl_log (id bigserial primary key, xact bigint not null default txid_current(), tag text not null);
      create function public.log_ddl() returns event_trigger language plpgsql as $$ begin insert into public.ddl_log (tag) values (tg_tag); end $$;
      create event trigger log_ddl on ddl_command_start execute function public.log_ddl();`);
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
    // Each successful restore committed its own complete run of DDL (staging schema, the swap), the refused one
    // none, and nothing of the other restore happened in between: the log is exactly two uninterrupted runs.
    const log = await target.sql<{ xact: string; tag: string }[]>`select xact::text, tag from public.ddl_log order by id`;
    const runs: Array<{ xact: string; tags: string[] }> = [];
    for (const { xact, tag } of log) {
      if (runs.at(-1)?.xact === xact) runs.at(-1)!.tags.push(tag);
      else runs.push({ xact, tags: [tag] });
    }
    if (jobs === "1") {
      expect(runs.map((run) => run.xact)).toEqual([...new Set(log.map((row) => row.xact))]);
      expect(runs).toHaveLength(2);
      for (const run of runs) for (const tag of ["CREATE SCHEMA", "DROP TABLE", "ALTER TABLE", "DROP SCHEMA"]) expect(run.tags).toContain(tag);
    } else {
      // The first restore's own transaction starts (staging schema), its workers commit the staging tables in
      // transactions of their own, then that first transaction swaps: its xact appears at both ends of its part of
      // the log. The second restore (serial) is one uninterrupted run after all of it.
      const second = runs.at(-1)!;
      expect(log.findIndex((row) => row.xact === second.xact)).toBe(log.length - second.tags.length);
      for (const tag of ["CREATE SCHEMA", "DROP TABLE", "ALTER TABLE", "DROP SCHEMA"]) expect(second.tags).toContain(tag);
      const first = log.slice(0, log.length - second.tags.length);
      for (const tag of ["CREATE SCHEMA", "CREATE TABLE", "DROP TABLE", "ALTER TABLE"]) expect(first.map((row) => row.tag)).toContain(tag);
      expect(new Set(first.map((row) => row.xact)).size).toBeGreaterThan(1);
    }
  });
  }
});
