// The one logger. Everything it prints goes to stderr, so stdout carries only results (reports, --json, list rows)
// and `netraven-db validate --json | jq` always works. Each entry is exactly one line (`netraven-db: warning: ...`),
// which log collectors and `grep` like; on a terminal it gets a symbol and colour instead of the prefix. Every line
// is scrubbed of secrets before it is written.
// consola/core: the logger without its fancy reporters and prompts, which cost ~9 ms of start-up we do not use.
import { createConsola, type ConsolaReporter, type LogObject } from "consola/core";
import { visible } from "./output.ts";
import { scrub } from "./secrets.ts";
import { stderr } from "./stdio.ts";

export type Verbosity = "quiet" | "normal" | "verbose";

const LEVEL: Record<Verbosity, number> = { quiet: 1, normal: 3, verbose: 4 };

// Read at the first line logged, not at start-up (stdio.ts says why).
let tty: boolean | undefined;
const colour = (code: number, text: string) => `\u001B[${code}m${text}\u001B[0m`;
const TTY_LABEL: Record<string, string> = { success: colour(32, "✔ "), warn: colour(33, "⚠ warning: "), error: colour(31, "✖ error: "), fatal: colour(31, "✖ error: "), debug: colour(90, "· ") };
const PLAIN_LABEL: Record<string, string> = { warn: "warning: ", error: "error: ", fatal: "error: ", debug: "debug: ", trace: "debug: " };


/** Set while a progress line is on the terminal: a log line must first clear it (progress.ts). */
let clearLine: (() => void) | undefined;

export function whileProgressShown(clear: (() => void) | undefined): void {
  clearLine = clear;
}

// Every call site logs one string; anything else is shown plainly rather than through node:util, whose import alone
// costs milliseconds of every start.
function argText(arg: unknown): string {
  if (typeof arg === "string") return arg;
  if (arg instanceof Error) return arg.message;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}

const reporter: ConsolaReporter = {
  log(entry: LogObject) {
    clearLine?.();
    const stream = stderr();
    tty ??= Boolean(stream.isTTY) && !process.env.NO_COLOR;
    const text = visible(scrub(entry.args.map(argText).join(" ")).replace(/\s*\n\s*/g, " "));
    const line = tty ? `${TTY_LABEL[entry.type] ?? ""}${text}` : `netraven-db: ${PLAIN_LABEL[entry.type] ?? ""}${text}`;
    stream.write(`${line}\n`);
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
