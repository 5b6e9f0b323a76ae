// The backup file's fixed-size header (src/backup/format.ts): 4096 bytes of SQL comments, stored as its own
// compression unit (a stored gzip member, RFC 1952/1951, or a zstd frame with one raw block, RFC 8878) so it can be
// read without decompressing the body, while gunzip / zstd -d still read header + body as one stream; and the lines
// that close each table and the file (src/backup/sections.ts).
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { detectCompression as detectWithMagic, EXTENSION_OF, type Compression } from "../../src/backup/compression.ts";
import {
  decodeHeaderUnit,
  encodeHeaderUnit,
  FORMAT_VERSION,
  FormatError,
  HEADER_BYTES,
  HEADER_UNIT_BYTES,
  MAGIC_LINE,
  parseHeader,
  renderHeader,
  renderScriptParts,
  type BackupHeader,
} from "../../src/backup/format.ts";

const detectCompression = (start: Buffer) => detectWithMagic(start, MAGIC_LINE);
import { allTables } from "../../src/schema/index.ts";
import { commandWorks, optionalTool, useTool } from "../harness/tools.ts";

const dir = mkdtempSync(join(tmpdir(), "netraven-format-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function header(overrides: Partial<BackupHeader> = {}): BackupHeader {
  return {
    format_version: 3,
    tool_version: "0.2.0",
    schema_version: 2,
    server_version: "15.8 (Debian 15.8-0+deb12u1)",
    database: "netraven",
    schema: "netraven",
    compression: "gzip",
    started_at: "2026-11-25T19:05:01.123Z",
    tables: ["users", "devices"],
    ...overrides,
  };
}

/** The lines of a real header above its padding line. */
const headerLines = (h: BackupHeader = header()) => {
  const lines = renderHeader(h).toString("utf8").split("\n");
  return lines.slice(0, lines.findIndex((l) => /^-- *$/.test(l) && l.length > 2));
};

/** A header block from the given lines, padded with a comment line to 4096 bytes, then the end line. */
function padded(lines: string[]): Buffer {
  const body = `${lines.join("\n")}\n`;
  const end = "-- end of header\n";
  const padding = HEADER_BYTES - Buffer.byteLength(body) - Buffer.byteLength(end);
  return Buffer.from(`${body}--${" ".repeat(padding - 3)}\n${end}`);
}

/** A real header with the line starting with `prefix` replaced (or removed), re-padded to 4096 bytes. */
function damaged(prefix: string, replacement: string | null): Buffer {
  const lines = headerLines();
  const at = lines.findIndex((l) => l.startsWith(prefix));
  expect(at).toBeGreaterThanOrEqual(0);
  if (replacement === null) lines.splice(at, 1);
  else lines[at] = replacement;
  return padded(lines);
}

function formatError(run: () => unknown): FormatError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FormatError);
    expect((error as Error).name).toBe("FormatError");
    return error as FormatError;
  }
  throw new Error("expected a FormatError");
}

describe("renderHeader", () => {
  test("is exactly HEADER_BYTES = 4096 bytes", () => {
    expect(HEADER_BYTES).toBe(4096);
    expect(renderHeader(header())).toHaveLength(4096);
    expect(renderHeader(header({ tables: [] }))).toHaveLength(4096);
    expect(renderHeader(header({ database: "données ünïcode ✓", schema: 'we"ird schéma' }))).toHaveLength(4096);
  });

  test("is nothing but SQL comment lines, so psql skips it", () => {
    const text = renderHeader(header()).toString("utf8");
    expect(text.startsWith(`${MAGIC_LINE}\n`)).toBe(true);
    expect(text.endsWith("-- end of header\n")).toBe(true);
    for (const line of text.slice(0, -1).split("\n")) expect(line.startsWith("--")).toBe(true);
  });

  test("states the facts known at the start in plain text, and nothing that is known only at the end", () => {
    const text = renderHeader(header()).toString("utf8");
    expect(text).toContain("-- format_version: 3\n");
    expect(text).toContain("-- compression: gzip\n");
    expect(text).toContain('-- database: "netraven"\n');
    expect(text).toContain("-- table: users\n-- table: devices\n");
    for (const later of ["finished_at", "data_bytes", "rows=", "crc32", "complete"]) expect(text).not.toContain(later);
  });

  test("a header that cannot fit is refused, not truncated", () => {
    const tables = Array.from({ length: 250 }, (_, i) => `table_number_${i}`);
    expect(() => renderHeader(header({ tables }))).toThrow("does not fit");
  });

  test("right up to the limit it still fits exactly and reads back", () => {
    let longest = 0;
    for (let n = 3000; n < 4096; n++) {
      try {
        renderHeader(header({ tool_version: "v".repeat(n) }));
        longest = n;
      } catch {
        break;
      }
    }
    expect(longest).toBeGreaterThan(3000);
    const atLimit = renderHeader(header({ tool_version: "v".repeat(longest) }));
    expect(atLimit).toHaveLength(4096);
    expect(parseHeader(atLimit).tool_version).toHaveLength(longest);
    expect(() => renderHeader(header({ tool_version: "v".repeat(longest + 1) }))).toThrow("does not fit");
  });
});

describe("parseHeader", () => {
  test("round trip", () => {
    const h = header();
    expect(parseHeader(renderHeader(h))).toEqual(h);
  });

  test("round trip of names with quotes, spaces, unicode and newlines", () => {
    const h = header({ database: 'my "db"\n-- table: evil', schema: 'we"ird schéma', tables: [] });
    expect(parseHeader(renderHeader(h))).toEqual(h);
  });

  test("round trip for every compression", () => {
    for (const compression of ["gzip", "zstd", "none"] as const) expect(parseHeader(renderHeader(header({ compression }))).compression).toBe(compression);
  });

  test("the padding helper used below reproduces a real header byte for byte", () => {
    expect(padded(headerLines()).equals(renderHeader(header()))).toBe(true);
  });

  test("a block of the wrong size is truncated", () => {
    const good = renderHeader(header());
    expect(formatError(() => parseHeader(good.subarray(0, 4095))).message).toBe("the header is truncated");
    expect(formatError(() => parseHeader(Buffer.concat([good, Buffer.from("\n")]))).message).toBe("the header is truncated");
  });

  test("no magic line: not a netraven-db backup", () => {
    expect(formatError(() => parseHeader(damaged(MAGIC_LINE, "-- PostgreSQL database dump"))).message).toBe("not a netraven-db backup (no netraven-db header)");
  });

  test("no end-of-header line: damaged", () => {
    const broken = Buffer.from(renderHeader(header()));
    broken.write("-- end of hEader\n", HEADER_BYTES - 17);
    expect(formatError(() => parseHeader(broken)).message).toBe("the header is damaged (no end-of-header line)");
  });

  test("another format version (an older one too) is refused with the version this binary reads", () => {
    expect(FORMAT_VERSION).toBe(3);
    for (const other of ["1", "4"]) {
      const error = formatError(() => parseHeader(damaged("-- format_version:", `-- format_version: ${other}`)));
      expect(error.message).toBe(`written in backup format ${other}; this netraven-db reads format 3`);
    }
  });

  test("format 2 (netraven-db 0.1.0) is named, with the two ways to restore it", () => {
    const error = formatError(() => parseHeader(damaged("-- format_version:", "-- format_version: 2")));
    expect(error.message).toBe("written in backup format 2; this netraven-db reads format 3 (format 2 is read by netraven-db 0.1.0, or restored by hand: gunzip -c FILE | psql)");
  });

  test("damaged fields name the field", () => {
    const cases: Array<[string, string | null, string]> = [
      ["-- compression:", "-- compression: lz4", "compression"],
      ["-- schema_version:", "-- schema_version: 0", "schema_version"],
      ["-- schema_version:", "-- schema_version: two", "schema_version"],
      ["-- schema_version:", null, "schema_version"],
      ["-- database:", "-- database: netraven", "database"],
      ["-- schema:", '-- schema: ""', "schema"],
      ["-- tool_version:", null, "tool_version"],
      ["-- format_version:", "-- format_version: 3.0", "format_version"],
      ["-- table: users", "-- table: Bad-Name", "tables.0"],
    ];
    for (const [prefix, replacement, field] of cases) {
      const error = formatError(() => parseHeader(damaged(prefix, replacement)));
      expect({ replacement, message: error.message.startsWith(`the header is damaged: ${field}: `) }).toEqual({ replacement, message: true });
    }
  });

  test("numbers must be plain digits: an empty or exotic schema_version is damage, not 0 or a guess", () => {
    for (const value of ["", " ", "1e3", "0x10", "12abc", "1.5"]) {
      const error = formatError(() => parseHeader(damaged("-- schema_version:", `-- schema_version: ${value}`)));
      expect({ value, damaged: error.message.startsWith("the header is damaged: schema_version") }).toEqual({ value, damaged: true });
    }
  });

  test("any other change to the rendered text is damage too", () => {
    const changes: Array<[string, string | null]> = [
      ["-- table: users", "-- table: users rows=3 crc32=abcdabcd"], // counts belong after the data, not here
      ["-- tool_version:", "-- schema_version: 2\n-- tool_version: 0.2.0"], // lines out of order
      ["-- Restore with", "-- Restore with netraven-db restore FILE"], // the fixed text changed
      ["-- started_at:", "-- started_at: 2026-11-25T19:05:01.123Z\n-- made_by: someone"], // an extra line
    ];
    for (const [prefix, replacement] of changes) {
      const error = formatError(() => parseHeader(damaged(prefix, replacement)));
      expect({ replacement, message: error.message.startsWith("the header is damaged") }).toEqual({ replacement, message: true });
    }
  });
});

describe("the header as a compression unit", () => {
  const compressions: Compression[] = ["gzip", "zstd", "none"];

  test("sizes: none = 4096; gzip = 10 header + 5 stored-block + 4096 + 8 trailer; zstd = 7 frame header + 3 block header + 4096", () => {
    expect(HEADER_UNIT_BYTES).toEqual({ none: 4096, gzip: 10 + 5 + 4096 + 8, zstd: 7 + 3 + 4096 });
  });

  test("the unit size does not depend on the content (so the header can be rewritten in place)", () => {
    const variants = [header(), header({ tables: [] }), header({ database: "x".repeat(2000) })];
    for (const c of compressions) for (const h of variants) expect(encodeHeaderUnit(renderHeader(h), c)).toHaveLength(HEADER_UNIT_BYTES[c]);
  });

  test("decodes back to the same 4096 bytes", () => {
    const block = renderHeader(header());
    for (const c of compressions) expect(decodeHeaderUnit(encodeHeaderUnit(block, c), c).equals(block)).toBe(true);
  });

  test("the gzip unit is a standard gzip member and the zstd unit a standard zstd frame", () => {
    const block = renderHeader(header());
    expect(gunzipSync(encodeHeaderUnit(block, "gzip")).equals(block)).toBe(true);
    expect(zstdDecompressSync(encodeHeaderUnit(block, "zstd")).equals(block)).toBe(true);
  });

  test("the zstd frame is single-segment with the content size, one raw last block (RFC 8878)", () => {
    const unit = encodeHeaderUnit(renderHeader(header()), "zstd");
    expect([...unit.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expect(unit[4]).toBe(0x60); // FCS field 2 bytes, single segment, no checksum, no dictionary
    expect(unit.readUInt16LE(5) + 256).toBe(4096);
    const block = unit.readUIntLE(7, 3);
    expect(block & 1).toBe(1); // last block
    expect((block >> 1) & 3).toBe(0); // raw
    expect(block >> 3).toBe(4096);
  });

  test("the gzip member is stored (level 0): the header text is readable in the file itself", () => {
    const unit = encodeHeaderUnit(renderHeader(header()), "gzip");
    expect(unit.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8]));
    expect(unit.toString("latin1")).toContain(MAGIC_LINE);
  });

  test("a short unit is a truncated file", () => {
    for (const c of compressions) {
      const unit = encodeHeaderUnit(renderHeader(header()), c);
      expect(formatError(() => decodeHeaderUnit(unit.subarray(0, unit.length - 1), c)).message).toBe("the file is truncated inside its header");
    }
  });

  test("a zstd frame that is not ours is refused", () => {
    const foreign = Buffer.alloc(HEADER_UNIT_BYTES.zstd);
    zstdCompressSync(Buffer.alloc(HEADER_BYTES, 65)).copy(foreign);
    expect(formatError(() => decodeHeaderUnit(foreign, "zstd")).message).toBe("not a netraven-db backup (the zstd header frame is not ours)");
  });

  test("a gzip stream that is not ours is refused", () => {
    // An ordinary `pg_dump | gzip` file: its first member runs past the unit, so the unit alone does not decode.
    const start = gzipSync(randomBytes(20_000)).subarray(0, HEADER_UNIT_BYTES.gzip);
    expect(formatError(() => decodeHeaderUnit(start, "gzip")).message).toBe("not a netraven-db backup (the gzip header member is not ours)");
    // A short foreign member does decode, but not to a header.
    const short = Buffer.alloc(HEADER_UNIT_BYTES.gzip);
    gzipSync(Buffer.from("-- PostgreSQL database dump\n")).copy(short);
    expect(formatError(() => parseHeader(decodeHeaderUnit(short, "gzip"))).message).toBe("the header is truncated");
  });

  const body = Buffer.from(`SET client_encoding = 'UTF8';\nBEGIN;\n${"INSERT INTO t VALUES (1);\n".repeat(2000)}COMMIT;\n`);

  test("header unit + a normally compressed body is one stream for a multi-member decoder", () => {
    const block = renderHeader(header());
    const gz = Buffer.concat([encodeHeaderUnit(block, "gzip"), gzipSync(body)]);
    expect(gunzipSync(gz).equals(Buffer.concat([block, body]))).toBe(true);
  });

  const gunzip = optionalTool("gunzip", commandWorks(["gunzip", "--version"]), "apt-get install -y gzip");
  const zstd = optionalTool("zstd", commandWorks(["zstd", "--version"]), "apt-get install -y zstd");

  test(`the system gunzip reads header + body as one stream${gunzip.note}`, () => {
    if (!useTool(gunzip)) return;
    const block = renderHeader(header());
    const path = join(dir, "backup.sql.gz");
    writeFileSync(path, Buffer.concat([encodeHeaderUnit(block, "gzip"), gzipSync(body, { level: 6 })]));
    const run = spawnSync("gunzip", ["-c", path], { maxBuffer: 64 << 20 });
    expect(run.status).toBe(0);
    expect(Buffer.from(run.stdout).equals(Buffer.concat([block, body]))).toBe(true);
  });

  test(`the system zstd -d reads header + body as one stream${zstd.note}`, () => {
    if (!useTool(zstd)) return;
    const block = renderHeader(header({ compression: "zstd" }));
    const path = join(dir, "backup.sql.zst");
    writeFileSync(path, Buffer.concat([encodeHeaderUnit(block, "zstd"), zstdCompressSync(body)]));
    const run = spawnSync("zstd", ["-dc", "-q", path], { maxBuffer: 64 << 20 });
    expect(run.status).toBe(0);
    expect(Buffer.from(run.stdout).equals(Buffer.concat([block, body]))).toBe(true);
  });
});

describe("detectCompression", () => {
  test("from the magic bytes", () => {
    const block = renderHeader(header());
    expect(detectCompression(encodeHeaderUnit(block, "gzip"))).toBe("gzip");
    expect(detectCompression(encodeHeaderUnit(block, "zstd"))).toBe("zstd");
    expect(detectCompression(block)).toBe("none");
    expect(detectCompression(gzipSync(Buffer.from("anything")))).toBe("gzip");
    expect(detectCompression(zstdCompressSync(Buffer.from("anything")))).toBe("zstd");
  });

  test("anything else is unknown", () => {
    expect(detectCompression(Buffer.from("-- PostgreSQL database dump\n"))).toBeUndefined();
    expect(detectCompression(Buffer.from("PGDMP\x01\x0e"))).toBeUndefined();
    expect(detectCompression(Buffer.alloc(0))).toBeUndefined();
    expect(detectCompression(Buffer.from([0x1f]))).toBeUndefined();
    expect(detectCompression(Buffer.from(MAGIC_LINE.slice(0, 10)))).toBeUndefined();
  });

  test("file extensions per compression", () => {
    expect(EXTENSION_OF).toEqual({ gzip: ".sql.gz", zstd: ".sql.zst", none: ".sql" });
  });
});

describe("renderScriptParts", () => {
  const weird = 'we"ird schéma';
  const quoted = '"we""ird schéma"';
  const parts = renderScriptParts(weird, allTables);

  test("the prologue stops on errors, opens one transaction and creates extensions and the quoted schema", () => {
    expect(parts.prologue.startsWith("\\set ON_ERROR_STOP on\n")).toBe(true);
    expect(parts.prologue).toContain("BEGIN;");
    expect(parts.prologue).toContain(`CREATE SCHEMA IF NOT EXISTS ${quoted};`);
    expect(parts.prologue).toContain('CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;');
    expect(parts.prologue).not.toContain("PRIMARY KEY");
  });

  test("one COPY line per table with quoted schema, table and columns", () => {
    expect([...parts.copyLines.keys()]).toEqual(allTables.map((t) => t.name));
    expect(parts.copyLines.get("device_tags")).toBe(`COPY ${quoted}."device_tags" ("device_id", "tag_id", "created_at") FROM stdin;`);
  });

  test("the epilogue adds keys, sets the search_path for the restored database and commits", () => {
    expect(parts.epilogue).toContain("PRIMARY KEY");
    expect(parts.epilogue).toContain("FOREIGN KEY");
    expect(parts.epilogue).toContain("SELECT format('ALTER DATABASE %I SET search_path TO %I, public', current_database(), 'we\"ird schéma') \\gexec");
    expect(parts.epilogue.trimEnd().endsWith("COMMIT;")).toBe(true);
  });
});
