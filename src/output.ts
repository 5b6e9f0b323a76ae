// Results on stdout (reports, list rows, --json documents), never mixed with log lines, and the small formatters
// every command uses for them. Everything printed is scrubbed of secrets and made safe for a terminal.
import { scrub } from "./secrets.ts";
import { stdout } from "./stdio.ts";

// Names come from outside (backup file names anyone with access to the volume can choose, database and schema
// names): their control characters are shown as \xNN, never sent to the terminal as escape sequences.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function visible(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Results for people or machines: stdout, never mixed with log lines. */
export function printResult(text: string): void {
  const clean = visible(scrub(text));
  stdout().write(clean.endsWith("\n") ? clean : `${clean}\n`);
}

export function printJson(value: unknown): void {
  stdout().write(`${scrub(JSON.stringify(value, null, 2))}\n`);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB": binary units, one decimal. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

/** 75 → "1 min 15 s"; under a minute "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${s % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
