// Entry point. citty parses and renders help; this file owns the exit contract instead of citty's runMain (which
// turns every error into exit 1, and for `validate` 1 means "drift found"). Unknown flags and commands are refused
// here with the usage exit status, because citty's parser silently ignores them.
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { commands, type CommandName } from "./commands/index.ts";
import { reportError } from "./failure.ts";
import { EXIT, Errors, exitStatusFor, type ExitStatus } from "./errors.ts";
import { versionLine } from "./version.ts";

const EXIT_CODES_HELP = `EXIT CODES

  0  ok                         5  server refused us (password, role, database, TLS, privilege)
  1  finding: drift / bad file  6  lock timeout (another init or restore is running)
  2  error; for validate and    7  SQL statement failed (nothing was committed)
     verify: could not check    8  file or directory not readable/writable
  3  bad flag or setting        9  refused: needs --yes, or database/backup newer than this binary
  4  server unreachable after --retry attempts`;

const root = {
  meta: { name: "netraven-db", description: "Initialise, validate, back up and restore the NetRaven PostgreSQL database." },
  subCommands: commands,
} satisfies CommandDef;

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/** citty accepts any --flag; we refuse flags the command does not define. */
function rejectUnknownFlags(rawArgs: string[], args: ArgsDef, command: string): void {
  const known = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    if (def.type === "boolean") known.add(`no-${name}`);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) known.add(alias);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    if (!known.has(name)) throw Errors.usage(`unknown option ${arg.split("=")[0]} for "netraven-db ${command}"`, `run: netraven-db ${command} --help`);
  }
}

async function usage(command: CommandDef<any> | undefined, stream: NodeJS.WriteStream): Promise<string> {
  let text = command ? await renderUsage(command, root as CommandDef) : await renderUsage(root as CommandDef);
  // citty pads every column to the widest line and colours regardless of where the text goes.
  text = text.replace(/[ \t]+$/gm, "");
  if (!stream.isTTY || process.env.NO_COLOR) text = text.replace(/\u001B\[[0-9;]*m/g, "");
  return `${text}\n\n${EXIT_CODES_HELP}\n`;
}

export async function main(argv: string[]): Promise<ExitStatus> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-v" || first === "version") {
    process.stdout.write(`${versionLine()}\n`);
    return EXIT.OK;
  }
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const stream = first === undefined ? process.stderr : process.stdout;
    stream.write(await usage(undefined, stream));
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (!isCommandName(first)) {
    reportError(Errors.usage(`unknown command "${first}"`, `commands: ${Object.keys(commands).join(", ")}; run netraven-db --help`), {});
    return EXIT.USAGE;
  }
  const command = await commands[first]();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(await usage(command, process.stdout));
    return EXIT.OK;
  }
  const json = rest.includes("--json");
  try {
    rejectUnknownFlags(rest, (command.args ?? {}) as ArgsDef, first);
    const { result } = await runCommand(command, { rawArgs: rest });
    return (typeof result === "number" ? result : EXIT.OK) as ExitStatus;
  } catch (error) {
    // citty's own argument errors (missing positional, bad enum) are usage errors too.
    const usageError = (error as { name?: string }).name === "CLIError" ? Errors.usage((error as Error).message.replace(/\u001B\[[0-9;]*m/g, ""), `run: netraven-db ${first} --help`) : error;
    reportError(usageError, { json });
    return exitStatusFor(usageError);
  }
}

const status = await main(process.argv.slice(2));
// Everything is done and every connection has sent its Terminate; waiting for the server to close its end of the
// socket would only add milliseconds to every container start. Flush what we printed, then leave.
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(status);
