// How a failure reaches the user: one line on stderr (plus an optional hint), or with --json an error document on
// stdout as well. Kept apart from commands/_run.ts so that `--version`, `--help` and usage errors do not load the
// database and configuration modules.
import { exitStatusFor, isNetravenError } from "./errors.ts";
import { log } from "./log.ts";
import { printJson } from "./output.ts";

export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function reportError(error: unknown, flags: OutputFlags, contract: "default" | "checker" = "default"): void {
  if (isNetravenError(error)) {
    const lines = (error.details?.lines as string[] | undefined) ?? [];
    if (flags.json) {
      const { lines: _lines, ...details } = error.details ?? {};
      printJson({ ok: false, error: { code: error.code, message: error.message, hint: error.hint ?? null, exit_status: exitStatusFor(error, contract) }, ...details });
    }
    for (const line of lines) log.error(line);
    log.error(error.message);
    if (error.hint) log.info(`hint: ${error.hint}`);
    if (error.cause) log.debug(`cause: ${(error.cause as Error)?.stack ?? String(error.cause)}`);
    return;
  }
  const message = (error as Error)?.message ?? String(error);
  if (flags.json) printJson({ ok: false, error: { code: "INTERNAL", message, hint: null, exit_status: exitStatusFor(error, contract) } });
  log.error(`unexpected failure: ${message}`);
  log.debug((error as Error)?.stack ?? "");
}

