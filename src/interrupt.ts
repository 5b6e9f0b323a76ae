// SIGINT, SIGTERM and SIGHUP while a command runs. The first one goes to the running command (commands/_run.ts),
// which stops its work the safe way: a backup removes its partial file, a restore rolls back, everything else drops
// its connection (the server rolls back whatever was open). A second signal means "now": main.ts exits at once.
import type { StopSignal } from "./errors.ts";

const SIGNALS: StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

let current: ((signal: StopSignal) => void) | undefined;
let received: StopSignal | undefined;

/** Installed once by main.ts; `force` runs on the second signal. */
export function routeSignals(force: (signal: StopSignal) => void): void {
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (received || !current) return force(signal);
      received = signal;
      current(signal);
    });
  }
}

/** The running command's handler for the first signal; returns a function that removes it. */
export function onInterrupt(handler: (signal: StopSignal) => void): () => void {
  current = handler;
  return () => {
    if (current === handler) current = undefined;
  };
}
