// The messages between a backup's main thread and its output thread. The main thread sends batches of the dump
// (SQL text and COPY data) in transferred buffers and marks where each table's data starts and ends; the output
// thread counts rows, takes each table's CRC-32, writes the lines that close each table and the file (sections.ts),
// compresses, and sends the compressed bytes back in order, along with each input buffer once it is done with it. Buffers are transferred, never copied or left to the collector.
import type { Compression } from "./compression.ts";

export type ToOutput =
  /** `headerBytes`: the uncompressed header already written, counted into the trailer's data_bytes. */
  /** `counted`: tables and rows written before this unit by others (a parallel backup's sections), for the trailer. */
  | { type: "start"; compression: Compression; level?: number; headerBytes: number; counted?: { tables: number; rows: number } }
  | { type: "text" | "data"; data: ArrayBuffer; length: number }
  | { type: "table"; name: string }
  | { type: "table-end" }
  /** With `finishedAt`, the trailer closes the file; without, the unit only ends (a section of a parallel backup). */
  | { type: "end"; finishedAt?: string };

export type FromOutput =
  /** The input is consumed; `buffer` (when present) comes back for reuse. */
  | { type: "ack"; bytes: number; buffer?: ArrayBuffer }
  /** Bytes for the sink, in file order. */
  | { type: "out"; data: ArrayBuffer; length: number }
  | { type: "table"; rows: number; crc32: string }
  /** Everything is compressed and sent; `dataBytes` counts the whole script, header and trailer included. */
  | { type: "done"; dataBytes: number; rows: number }
  | { type: "error"; message: string; code?: string };

/** What the output thread sees of its side of the channel: a Worker's `self`, or an in-process stand-in. */
export interface OutputScope {
  postMessage(message: FromOutput, transfer?: ArrayBuffer[]): void;
  onmessage: ((event: { data: ToOutput }) => void) | null;
}
