// The question restore asks before it replaces data: what goes, what comes, and the database name typed back. Without
// a terminal it never asks: --yes is required (exit 9), so a script cannot hang on a prompt nobody sees.
import { createInterface } from "node:readline/promises";
import { Errors } from "../errors.ts";
import { stderr } from "../stdio.ts";

export interface Replacing {
  database: string;
  schema: string;
  replacing: Array<{ table: string; estimatedRows: number }>;
}

async function ask(plan: Replacing, replacement: string, what: string): Promise<boolean> {
  const rows = plan.replacing.reduce((n, t) => n + t.estimatedRows, 0);
  stderr().write(
    `\nThis REPLACES schema "${plan.schema}" in database "${plan.database}": ${plan.replacing.length} tables with data (about ${rows} rows) will be dropped\n` +
      `and replaced by ${replacement}.\n` +
      `Nothing changes unless the whole ${what} succeeds.\n`,
  );
  const prompt = createInterface({ input: process.stdin, output: stderr() });
  try {
    const answer = await prompt.question(`Type the database name (${plan.database}) to continue: `);
    return answer.trim() === plan.database;
  } finally {
    prompt.close();
  }
}

/** The confirm callback for a restore: `--yes` answers it, a terminal asks, anything else refuses. */
export function confirmReplacing<P extends Replacing>(yes: boolean, replacement: (plan: P) => string, what = "restore"): (plan: P) => Promise<boolean> {
  return async (plan) => {
    if (yes) return true;
    if (!process.stdin.isTTY) throw Errors.confirmationRequired(plan.replacing.length, plan.database);
    return ask(plan, replacement(plan), what);
  };
}
