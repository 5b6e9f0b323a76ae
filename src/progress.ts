// Progress of long work (backup, verify, restore): domain code reports it through a callback; a command shows it
// as ONE line on a terminal that updates in place: what is being done and on which table, bytes done of the
// expected total, percentage, rate and time left. The line is cleared when the work ends, so logs and results
// that follow start on a clean line. Nothing is drawn when stderr is not a terminal, or with --quiet or --json:
// a log file must not fill up with carriage returns. Small enough to keep here: a progress library would add
// start-up time to every command for one line of output.
import { whileProgressShown } from "./log.ts";
import { formatBytes, formatDuration, visible } from "./output.ts";
import { stderr } from "./stdio.ts";

export interface Progress {
  /** What is being done: "Backing up", "Checksum", "Checking", "Loading". */
  step: string;
  /** The table being worked on, if any. */
  item?: string;
  /** Bytes done so far. */
  done: number;
  /** Bytes expected in all, when known. */
  total?: number;
  /** The total is an estimate (from the catalog), so it may be passed. */
  estimated?: boolean;
}

export type OnProgress = (progress: Progress) => void;

export interface ProgressLine {
  update: OnProgress;
  /** Removes the line (call before printing anything else, and at the end). */
  clear(): void;
}

const REDRAW_MS = 200;

export function progressLine(enabled: boolean, terminal?: NodeJS.WriteStream): ProgressLine {
  if (!enabled) return { update: () => undefined, clear: () => undefined };
  const stream = terminal ?? stderr();
  if (!stream.isTTY) return { update: () => undefined, clear: () => undefined };
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write("\r\u001B[K");
    drawn = false;
  };
  whileProgressShown(clear);
  let last = 0;
  let step = "";
  let since = Date.now();
  let base = 0;
  return {
    update(progress) {
      const now = Date.now();
      if (progress.step !== step) {
        // Each step has its own rate: a checksum pass runs much faster than a restore.
        step = progress.step;
        since = now;
        base = progress.done;
      } else if (now - last < REDRAW_MS) return;
      last = now;
      const seconds = (now - since) / 1000;
      const rate = seconds > 0.5 ? (progress.done - base) / seconds : 0;
      const parts = [`${progress.step}${progress.item ? ` ${visible(progress.item)}` : ""}`];
      if (progress.total && progress.total > 0) {
        const fraction = Math.min(progress.done / progress.total, progress.estimated ? 0.99 : 1);
        parts.push(`${formatBytes(progress.done)} of ${progress.estimated ? "~" : ""}${formatBytes(progress.total)}`, `${Math.floor(fraction * 100)}%`);
        if (rate > 0) parts.push(`${formatBytes(rate)}/s`, `${formatDuration(Math.max(progress.total - progress.done, 0) / rate)} left`);
      } else if (progress.done > 0) {
        parts.push(formatBytes(progress.done));
        if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
      }
      const width = stream.columns ?? 100;
      stream.write(`\r\u001B[K${parts.join("  ").slice(0, width - 1)}`);
      drawn = true;
    },
    clear() {
      clear();
      whileProgressShown(undefined);
    },
  };
}
