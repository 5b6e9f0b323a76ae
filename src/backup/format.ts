// The backup file format (format_version 3): a plain SQL script that psql alone can restore
// (`gunzip -c FILE | psql -d DB`), laid out like pg_dump's: bare tables, COPY blocks, then keys, indexes and
// foreign keys, all inside BEGIN/COMMIT.
//
// It opens with a fixed-size header of SQL comments (HEADER_BYTES) holding what is known when the backup starts;
// what is known only at the end (row counts, CRC-32s, size, end time) follows each table's data and closes the file
// (sections.ts), so the file is written front to back and never rewritten. The header is its own compression unit
// (a stored gzip member, or a zstd frame with one raw block), so it can be read without decompressing the body;
// gunzip and zstd -d read the concatenation as one stream, and our reader decodes the header unit and then the
// rest on its own, so it does not depend on a runtime's multi-member support (Deno's zstd stops after one frame).
import { gzipSync, gunzipSync } from "node:zlib";
import * as z from "../zod.ts";
import { quoteIdent, quoteLiteral } from "../quote.ts";
import type { TableDef } from "../schema/index.ts";
import { renderBootstrap, renderTablesForLoad } from "../schema/render.ts";
import { COMPRESSIONS, type Compression } from "./compression.ts";

// 3: the header holds only what is known at the start; counts, CRC-32s and size follow the data (sections.ts).
// Files of version 2 (netraven-db 0.1.0) are refused by their version, naming the release that reads them.
export const FORMAT_VERSION = 3;
export const HEADER_BYTES = 4096;
export const MAGIC_LINE = "-- netraven-db backup";
const HEADER_END = "-- end of header";

export const HeaderSchema = z.object({
  format_version: z.literal(FORMAT_VERSION, { message: `unsupported format version (this netraven-db reads version ${FORMAT_VERSION})` }),
  tool_version: z.string().check(z.minLength(1)),
  schema_version: z.int().check(z.positive()),
  server_version: z.string(),
  database: z.string(),
  schema: z.string().check(z.minLength(1)),
  compression: z.enum(COMPRESSIONS),
  started_at: z.string(),
  /** The tables whose data follows, in file order. */
  tables: z.array(z.string().check(z.regex(/^[a-z_][a-z0-9_]*$/))),
});
export type BackupHeader = z.infer<typeof HeaderSchema>;

/** The header as SQL comments, padded to exactly HEADER_BYTES. */
export function renderHeader(header: BackupHeader): Buffer {
  const lines = [
    MAGIC_LINE,
    "-- Restore with `netraven-db restore FILE`, or by hand into an empty database:",
    "--   gunzip -c FILE | psql -v ON_ERROR_STOP=1 -d DATABASE      (zstd -dc for .zst, cat for .sql)",
    `-- format_version: ${header.format_version}`,
    `-- tool_version: ${header.tool_version}`,
    `-- schema_version: ${header.schema_version}`,
    `-- server_version: ${header.server_version}`,
    `-- database: ${JSON.stringify(header.database)}`,
    `-- schema: ${JSON.stringify(header.schema)}`,
    `-- compression: ${header.compression}`,
    `-- started_at: ${header.started_at}`,
    ...header.tables.map((t) => `-- table: ${t}`),
  ];
  const body = `${lines.join("\n")}\n`;
  const end = `${HEADER_END}\n`;
  const padding = HEADER_BYTES - Buffer.byteLength(body) - Buffer.byteLength(end);
  if (padding < 4) throw new Error("backup header does not fit in its fixed size");
  return Buffer.from(`${body}--${" ".repeat(padding - 3)}\n${end}`);
}

export class FormatError extends Error {
  override readonly name = "FormatError";
}

export function parseHeader(block: Buffer): BackupHeader {
  if (block.length !== HEADER_BYTES) throw new FormatError("the header is truncated");
  const text = block.toString("utf8");
  if (!text.startsWith(`${MAGIC_LINE}\n`)) throw new FormatError("not a netraven-db backup (no netraven-db header)");
  if (!text.endsWith(`${HEADER_END}\n`)) throw new FormatError("the header is damaged (no end-of-header line)");
  const fields: Record<string, string> = {};
  const tables: string[] = [];
  for (const line of text.split("\n")) {
    const table = line.match(/^-- table: (\S+)$/);
    if (table) {
      tables.push(table[1]!);
      continue;
    }
    const field = line.match(/^-- ([a-z_]+): (.*)$/);
    if (field) fields[field[1]!] = field[2]!;
  }
  const jsonString = (value: string | undefined) => {
    try {
      return JSON.parse(value ?? "");
    } catch {
      return undefined;
    }
  };
  // Digits only: Number("") is 0 and Number("1e3") is 1000, so a damaged number would read as something else.
  const whole = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : Number.NaN);
  const version = whole(fields.format_version);
  if (Number.isInteger(version) && version !== FORMAT_VERSION) {
    throw new FormatError(`written in backup format ${version}; this netraven-db reads format ${FORMAT_VERSION}${version === 2 ? " (format 2 is read by netraven-db 0.1.0, or restored by hand: gunzip -c FILE | psql)" : ""}`);
  }
  const parsed = HeaderSchema.safeParse({
    format_version: whole(fields.format_version),
    tool_version: fields.tool_version,
    schema_version: whole(fields.schema_version),
    server_version: fields.server_version,
    database: jsonString(fields.database),
    schema: jsonString(fields.schema),
    compression: fields.compression,
    started_at: fields.started_at,
    tables,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FormatError(`the header is damaged: ${issue.path.join(".") || "header"}: ${issue.message}`);
  }
  // The header is rendered deterministically: any byte that differs from its own rendering was changed.
  if (!renderHeader(parsed.data).equals(block)) throw new FormatError("the header is damaged (it differs from what its own values render to)");
  return parsed.data;
}

// ---- The header as a fixed-size compression unit -------------------------------------------------------------

/** zstd frame: single segment, 2-byte content size, one raw (uncompressed) last block. RFC 8878. */
function zstdRawFrame(data: Buffer): Buffer {
  const frameHeader = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x60, 0, 0]);
  frameHeader.writeUInt16LE(data.length - 256, 5);
  const block = Buffer.alloc(3);
  block.writeUIntLE(1 | (data.length << 3), 0, 3); // last block, type raw
  return Buffer.concat([frameHeader, block, data]);
}

function zstdRawFrameContent(unit: Buffer): Buffer {
  const expected = zstdRawFrame(Buffer.alloc(HEADER_BYTES));
  if (unit.length !== expected.length || !unit.subarray(0, 10).equals(expected.subarray(0, 10))) {
    throw new FormatError("not a netraven-db backup (the zstd header frame is not ours)");
  }
  return unit.subarray(10);
}

export const HEADER_UNIT_BYTES: Record<Compression, number> = {
  none: HEADER_BYTES,
  gzip: gzipSync(Buffer.alloc(HEADER_BYTES), { level: 0 }).length,
  zstd: HEADER_BYTES + 10,
};

export function encodeHeaderUnit(header: Buffer, compression: Compression): Buffer {
  const unit = compression === "gzip" ? gzipSync(header, { level: 0 }) : compression === "zstd" ? zstdRawFrame(header) : header;
  if (unit.length !== HEADER_UNIT_BYTES[compression]) throw new Error(`header unit has ${unit.length} bytes, expected ${HEADER_UNIT_BYTES[compression]}`);
  return unit;
}

export function decodeHeaderUnit(unit: Buffer, compression: Compression): Buffer {
  if (unit.length < HEADER_UNIT_BYTES[compression]) throw new FormatError("the file is truncated inside its header");
  if (compression === "none") return unit;
  if (compression === "zstd") return zstdRawFrameContent(unit);
  try {
    return gunzipSync(unit);
  } catch {
    throw new FormatError("not a netraven-db backup (the gzip header member is not ours)");
  }
}

// ---- The SQL around the data ---------------------------------------------------------------------------------

export interface ScriptParts {
  /** Everything between the header and the first COPY. */
  prologue: string;
  /** The `COPY ... FROM stdin;` line for each table, in file order. */
  copyLines: Map<string, string>;
  /** Everything after the last `\.`. */
  epilogue: string;
}

export function copyColumns(table: TableDef): string {
  return table.columns.map((c) => quoteIdent(c.name)).join(", ");
}

export function renderScriptParts(schema: string, tables: readonly TableDef[]): ScriptParts {
  const { before, after } = renderTablesForLoad(schema, tables);
  const prologue = [
    "\\set ON_ERROR_STOP on",
    "SET client_encoding = 'UTF8';",
    "SET standard_conforming_strings = on;",
    "SET client_min_messages = warning;",
    "BEGIN;",
    ...renderBootstrap(schema).map((s) => `${s.sql};`),
    ...before.map((s) => `${s.sql};`),
    "",
  ].join("\n");
  const copyLines = new Map(tables.map((t) => [t.name, `COPY ${quoteIdent(schema)}.${quoteIdent(t.name)} (${copyColumns(t)}) FROM stdin;`]));
  // psql's \gexec runs the generated statement: the database name is only known when the file is restored.
  const searchPath = `SELECT format('ALTER DATABASE %I SET search_path TO %I, public', current_database(), ${quoteLiteral(schema)}) \\gexec`;
  const epilogue = [...after.map((s) => `${s.sql};`), searchPath, "COMMIT;", ""].join("\n");
  return { prologue, copyLines, epilogue };
}
