// What closes each table's data and the whole file (src/backup/sections.ts), and what the reader does with it.
// A file without its manifest has only these lines to prove it is whole: every change to them, and any data
// that does not agree with them, must be refused by `verify` (exit 1, one line naming the table or the trailer).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTableEnd, parseTrailer, renderTableEnd, renderTrailer } from "../../src/backup/sections.ts";
import { runBinary } from "../harness/binary.ts";
import { fillRealisticData } from "../harness/data.ts";
import { createTestDatabase } from "../harness/db.ts";

describe("the lines", () => {
  test("a table's closing line round-trips and follows its \\.", () => {
    const text = renderTableEnd("job_log_entries", 6000, "0a1b2c3d");
    expect(text).toBe("\\.\n-- table job_log_entries: rows=6000 crc32=0a1b2c3d\n");
    expect(parseTableEnd(text.split("\n")[1]!)).toEqual({ table: "job_log_entries", rows: 6000, crc32: "0a1b2c3d" });
  });

  test("the trailer round-trips", () => {
    const trailer = { tables: 14, rows: 123456, dataBytes: 98765432, finishedAt: "2026-11-30T03:00:05.123Z" };
    const line = renderTrailer(trailer);
    expect(line.endsWith("\n")).toBe(true);
    expect(parseTrailer(line.slice(0, -1))).toEqual(trailer);
  });

  test("anything but the exact shape is not a closing line", () => {
    for (const line of ["-- table devices: rows=01 crc32=0a1b2c3d", "-- table devices: rows=1 crc32=0A1B2C3D", "-- table Devices: rows=1 crc32=0a1b2c3d", "-- table devices: rows=1 crc32=0a1b2c3d ", "-- table devices: rows=-1 crc32=0a1b2c3d"]) {
      expect({ line, parsed: parseTableEnd(line) }).toEqual({ line, parsed: undefined });
    }
    for (const line of ["-- end of netraven-db backup", "-- end of netraven-db backup: tables=1 rows=1 data_bytes=0 finished_at=2026-11-30T03:00:05.123Z", "-- end of netraven-db backup: tables=1 rows=1 data_bytes=5 finished_at=yesterday"]) {
      expect({ line, parsed: parseTrailer(line) }).toEqual({ line, parsed: undefined });
    }
  });
});

describe("verify of a file without its manifest checks the closing lines", () => {
  let work: string;
  let original: Buffer;
  const file = () => join(work, "netraven_20261130_030000.sql");

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "netraven-sections-"));
    const db = await createTestDatabase();
    expect((await runBinary(["init"], { env: db.env })).status).toBe(0);
    await fillRealisticData(db.sql, { devices: 50 });
    const backup = await runBinary(["backup", "--dir", work, "--compress", "none", "--json"], { env: db.env });
    expect(backup.status).toBe(0);
    original = readFileSync(JSON.parse(backup.stdout).path);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  async function verifyText(text: string): Promise<{ status: number | null; error: string }> {
    writeFileSync(file(), text);
    const run = await runBinary(["verify", file()]);
    return { status: run.status, error: run.stderr.split("\n").find((l) => l.startsWith("netraven-db: error:")) ?? "" };
  }

  test("the untouched file is good, and ends with the trailer", async () => {
    const text = original.toString("utf8");
    expect(text).toMatch(/\n-- table devices: rows=50 crc32=[0-9a-f]{8}\n/);
    expect(text).toMatch(/\n-- end of netraven-db backup: tables=14 rows=\d+ data_bytes=\d+ finished_at=\S+\n$/);
    expect((await verifyText(text)).status).toBe(0);
  });

  const CASES: Array<[string, (text: string) => string, RegExp]> = [
    ["a row count that differs", (t) => t.replace(/(-- table devices: rows=)50/, "$151"), /table devices has 50 rows, the file says 51/],
    ["a CRC-32 that differs", (t) => t.replace(/(-- table devices: rows=50 crc32=)[0-9a-f]{8}/, "$1deadbeef"), /the data of table devices was changed/],
    ["a changed value in the data", (t) => t.replace("router-7.example.net", "router-8.example.net"), /the data of table devices was changed/],
    ["a closing line removed", (t) => t.replace(/\n-- table devices: rows=50 crc32=[0-9a-f]{8}\n/, "\n"), /table devices is not followed by its row count/],
    ["the trailer removed (cut at the end)", (t) => t.replace(/-- end of netraven-db backup:[^\n]*\n$/, ""), /does not end with the netraven-db trailer/],
    ["SQL appended after the trailer", (t) => `${t}DROP TABLE netraven.devices;\n`, /does not end with the netraven-db trailer/],
    ["a trailer with another size", (t) => t.replace(/data_bytes=(\d+)/, (_, n) => `data_bytes=${Number(n) + 1}`), /bytes of SQL before its trailer, the trailer says/],
    ["a trailer with other counts", (t) => t.replace(/tables=14 rows=(\d+)/, (_, n) => `tables=14 rows=${Number(n) - 1}`), /the trailer says 14 tables and \d+ rows, the file holds 14 and \d+/],
    ["a cut inside a closing line", (t) => t.slice(0, t.indexOf("-- table devices: rows=") + 12), /table devices is not followed by its row count|ends before the line that closes table devices/],
  ];
  for (const [what, change, message] of CASES) {
    test(`${what}: exit 1, one line`, async () => {
      const changed = change(original.toString("utf8"));
      expect(changed).not.toBe(original.toString("utf8"));
      const result = await verifyText(changed);
      expect(result.status).toBe(1);
      expect(result.error).toMatch(message);
    });
  }
});
