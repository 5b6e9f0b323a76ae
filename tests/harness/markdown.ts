// The commands the documentation shows, read from the Markdown itself, so tests run what a reader would type and
// break when the text changes. Fenced blocks only (inline code is prose); a block's `docs-test` annotation is an
// HTML comment right before its fence, invisible on the rendered page (tests/docs.test.ts says what it may hold).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface FencedBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word: "sh", "json", "" ... */
  lang: string;
  text: string;
  /** key=value pairs of a `<!-- docs-test: ... -->` comment directly above the fence. */
  annotation?: Record<string, string>;
}

export interface DocCommand {
  block: FencedBlock;
  /** 1-based line in the Markdown file where the command starts. */
  line: number;
  /** The command with continuation lines joined and the trailing comment removed. */
  text: string;
  /** The trailing `# ...` comment, if any. */
  comment: string;
  /** Comment-only lines at the margin right after the command: output the docs show for it. */
  shownOutput: string[];
}

const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);

/** key=value pairs; values may be double-quoted (no escapes inside). */
export function parseAnnotation(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/([\w-]+)=(?:"([^"]*)"|(\S+))/g)) out[m[1]!] = m[2] ?? m[3]!;
  return out;
}

export function fencedBlocks(file: string): FencedBlock[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^(\s*)(```+|~~~+)\s*([\w-]*)/);
    if (!open) continue;
    const fence = open[2]!;
    const start = i;
    const body: string[] = [];
    const indent = open[1]!.length; // a block inside a list item: its lines carry the item's indentation
    for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence); i++) body.push(lines[i]!.slice(Math.min(indent, lines[i]!.length - lines[i]!.trimStart().length)));
    // The annotation: an HTML comment that ends on the line right above the fence (it may span lines).
    let annotation: Record<string, string> | undefined;
    if (start > 0 && lines[start - 1]!.trim().endsWith("-->")) {
      let j = start - 1;
      while (j > 0 && !lines[j]!.includes("<!--")) j--;
      const comment = lines.slice(j, start).join(" ");
      const m = comment.match(/<!--\s*docs-test:([\s\S]*?)-->/);
      if (m) annotation = parseAnnotation(m[1]!);
    }
    blocks.push({ file, line: start + 1, lang: open[3]!, text: body.join("\n"), annotation });
  }
  return blocks;
}

export function isShellBlock(block: FencedBlock): boolean {
  return SHELL_LANGS.has(block.lang);
}

/** Index of a `#` that starts a comment (outside quotes, at the start or after whitespace), or -1. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "\\") i++;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return i;
  }
  return -1;
}

/** The commands of a shell block, in order. */
export function shellCommands(block: FencedBlock): DocCommand[] {
  const lines = block.text.split("\n");
  const out: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    if (raw.trim().startsWith("#")) {
      // At the margin: output shown for the command above. Indented: its comment, continued.
      const previous = out.at(-1);
      if (previous && raw.startsWith("#")) previous.shownOutput.push(raw.replace(/^#\s?/, ""));
      else if (previous) previous.comment += ` ${raw.trim().replace(/^#\s?/, "")}`;
      continue;
    }
    const line = block.line + 1 + i;
    let text = "";
    let comment = "";
    let part = raw;
    for (;;) {
      const at = commentStart(part);
      const code = at >= 0 ? part.slice(0, at) : part;
      if (at >= 0) comment = [comment, part.slice(at + 1).trim()].filter(Boolean).join(" ");
      if (code.trimEnd().endsWith("\\") && i + 1 < lines.length) {
        text += `${code.trimEnd().slice(0, -1).trim()} `;
        part = lines[++i]!;
        continue;
      }
      text += code.trim();
      break;
    }
    out.push({ block, line, text: text.trim(), comment, shownOutput: [] });
  }
  return out;
}

/**
 * A simple command line split into words exactly as /bin/sh splits it (quotes removed, `$VAR` and `~` expanded
 * from `env`), without running it: the shell evaluates `set -- <line>` and prints the words.
 */
export function shellWords(line: string, env: Record<string, string> = {}): string[] {
  // The shell would run whatever an operator or a command substitution adds: only simple commands are split.
  if (/[;&|<>`]|\$\(/.test(line)) throw new Error(`not a simple command, not splitting it: ${line}`);
  const result = spawnSync("/bin/sh", ["-c", 'eval "set -- $1" && printf "%s\\0" "$@"', "sh", line], {
    env: { PATH: "/usr/bin:/bin", ...env },
    cwd: env.PWD, // the shell sets $PWD from its working directory
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`cannot split ${JSON.stringify(line)} into words: ${result.stderr}`);
  return result.stdout.split("\0").slice(0, -1);
}
