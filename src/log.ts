// The one logger. Everything it prints goes to stderr, so stdout carries only results (reports, --json, list rows)
// and `netraven-db validate --json | jq` always works. Each entry is exactly one line (`netraven-db: warning: ...`),
// which log collectors and `grep` like; on a terminal it gets a symbol and colour instead of the prefix. Every line
// is scrubbed of secrets before it is written.
// consola/core: the logger without its fancy reporters and prompts, which cost ~9 ms of start-up we do not use.
import { createConsola, type ConsolaReporter, type LogObject } from "consola/core";
import { formatWithOptions } from "node:util";
import { scrub } from "./secrets.ts";

export type Verbosity = "quiet" | "normal" | "verbose";

const LEVEL: Record<Verbosity, number> = { quiet: 1, normal: 3, verbose: 4 };

const tty = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
const colour = (code: number, text: string) => (tty ? `\u001B[${code}m${text}\u001B[0m` : text);
const TTY_LABEL: Record<string, string> = { success: colour(32, "✔ "), warn: colour(33, "⚠ warning: "), error: colour(31, "✖ error: "), fatal: colour(31, "✖ error: "), debug: colour(90, "· ") };
const PLAIN_LABEL: Record<string, string> = { warn: "warning: ", error: "error: ", fatal: "error: ", debug: "debug: ", trace: "debug: " };

// Names come from outside (backup file names anyone with access to the volume can choose, database and schema
// names): their control characters are shown as \xNN, never sent to the terminal as escape sequences.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const visible = (text: string) => text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

const reporter: ConsolaReporter = {
  log(entry: LogObject) {
    const text = visible(scrub(formatWithOptions({ colors: false }, ...entry.args)).replace(/\s*\n\s*/g, " "));
    const line = tty ? `${TTY_LABEL[entry.type] ?? ""}${text}` : `netraven-db: ${PLAIN_LABEL[entry.type] ?? ""}${text}`;
    process.stderr.write(`${line}\n`);
  },
};

export const log = createConsola({ level: LEVEL.normal, reporters: [reporter] });

export function setVerbosity(verbosity: Verbosity): void {
  log.level = LEVEL[verbosity];
}

export function verbosityFrom(flags: { quiet?: boolean; verbose?: boolean }): Verbosity {
  if (flags.verbose) return "verbose";
  if (flags.quiet) return "quiet";
  return "normal";
}

/** Results for people or machines: stdout, never mixed with log lines. */
export function printResult(text: string): void {
  const clean = visible(scrub(text));
  process.stdout.write(clean.endsWith("\n") ? clean : `${clean}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${scrub(JSON.stringify(value, null, 2))}\n`);
}
