// The lines that close each part of a backup's SQL script. Everything in them is known only once the data has
// passed, so they come after it, and the file is written front to back, never rewritten: it can stream through
// encryption and into object storage, and its checksum is taken as it is written.
//   after each table's `\.`:  -- table devices: rows=2000 crc32=1a2b3c4d
//   as the very last line:    -- end of netraven-db backup: tables=14 rows=123456 data_bytes=98765432 finished_at=...
// psql reads both as comments. Kept apart from format.ts (and free of imports) because the output thread renders
// them, and a worker should load no more than it needs.

/** The CRC-32 of a table's COPY data as the lines write it. */
export const crc32Hex = (crc: number) => crc.toString(16).padStart(8, "0");

export function renderTableEnd(table: string, rows: number, crc32: string): string {
  return `\\.\n-- table ${table}: rows=${rows} crc32=${crc32}\n`;
}

const TABLE_END = /^-- table ([a-z_][a-z0-9_]*): rows=(0|[1-9]\d*) crc32=([0-9a-f]{8})$/;

export function parseTableEnd(line: string): { table: string; rows: number; crc32: string } | undefined {
  const match = line.match(TABLE_END);
  return match ? { table: match[1]!, rows: Number(match[2]), crc32: match[3]! } : undefined;
}

export interface Trailer {
  tables: number;
  rows: number;
  /** Bytes of SQL before the trailer line (header included). */
  dataBytes: number;
  finishedAt: string;
}

export const TRAILER_START = "-- end of netraven-db backup:";

export function renderTrailer(trailer: Trailer): string {
  return `${TRAILER_START} tables=${trailer.tables} rows=${trailer.rows} data_bytes=${trailer.dataBytes} finished_at=${trailer.finishedAt}\n`;
}

const TRAILER = /^-- end of netraven-db backup: tables=(0|[1-9]\d*) rows=(0|[1-9]\d*) data_bytes=([1-9]\d*) finished_at=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/;

export function parseTrailer(line: string): Trailer | undefined {
  const match = line.match(TRAILER);
  return match ? { tables: Number(match[1]), rows: Number(match[2]), dataBytes: Number(match[3]), finishedAt: match[4]! } : undefined;
}
