// Entry point. citty parses and renders help; this file owns the exit contract instead of citty's runMain (which
// turns every error into exit 1, and for `validate` 1 means "drift found"). Unknown flags and commands are refused
// here with the usage exit status, because citty's parser silently ignores them.
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { commands, type CommandName } from "./commands/index.ts";
import { reportError } from "./failure.ts";
import { EXIT, Errors, exitStatusFor, renderExitCodes, SIGNAL_EXIT, type ExitStatus } from "./errors.ts";
import { routeSignals } from "./interrupt.ts";
import { REPEATABLE } from "./commands/_args.ts";
import { versionLine } from "./version.ts";
import { flushUsed, stderr, stdout } from "./stdio.ts";


const root = {
  meta: { name: "netraven-db", description: "Initialise, validate, back up and restore the NetRaven PostgreSQL database." },
  subCommands: commands,
} satisfies CommandDef;

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/**
 * citty accepts any --flag and reads a string flag given without a value (`--dir`, `--dir ""`, `--dir=`) as "",
 * which the settings chain would take as "not given" and fall back to the environment or a default: `restore F
 * --url "" --yes` restored into DATABASE_URL's database. So, before anything else runs: unknown flags are refused,
 * and a string flag that is present must carry a non-empty value that is not another of the command's flags
 * (`--target-db --yes` would otherwise name a database "--yes" and swallow the confirmation flag).
 */
function checkFlags(rawArgs: string[], args: ArgsDef, command: string): void {
  const known = new Map<string, string>([["help", "boolean"], ["h", "boolean"]]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    known.set(name, def.type ?? "string");
    if (def.type === "boolean") known.set(`no-${name}`, "boolean");
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) known.set(alias, def.type ?? "string");
  }
  const seen = new Set<string>();
  const isFlag = (arg: string | undefined) => arg !== undefined && arg.startsWith("-") && arg !== "-" && known.has(arg.replace(/^--?/, "").split("=")[0]!);
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") continue;
    const [name, ...rest] = arg.replace(/^--?/, "").split("=");
    const option = arg.split("=")[0]!;
    const type = known.get(name!);
    if (type === undefined) throw Errors.usage(`unknown option ${option} for "netraven-db ${command}"`, `run: netraven-db ${command} --help`);
    if (type === "boolean") continue;
    const value = rest.length > 0 ? rest.join("=") : rawArgs[++i];
    if (value === undefined || value === "") throw Errors.missingValue(option, command);
    if (rest.length === 0 && isFlag(value)) throw Errors.missingValue(option, command, value);
    if (seen.has(name!) && !(REPEATABLE[command] ?? []).includes(name!)) throw Errors.usage(`option ${option} given more than once; give it once`, `run: netraven-db ${command} --help`);
    seen.add(name!);
  }
}

async function usage(command: CommandDef<any> | undefined, stream: NodeJS.WriteStream): Promise<string> {
  let text = command ? await renderUsage(command, root as CommandDef) : await renderUsage(root as CommandDef);
  // citty pads every column to the widest line and colours regardless of where the text goes.
  text = text.replace(/[ \t]+$/gm, "");
  if (!stream.isTTY || process.env.NO_COLOR) text = text.replace(/\u001B\[[0-9;]*m/g, "");
  return `${text}\n\n${renderExitCodes()}\n`;
}

export async function main(argv: string[]): Promise<ExitStatus> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-v" || first === "version") {
    stdout().write(`${versionLine()}\n`);
    return EXIT.OK;
  }
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const stream = first === undefined ? stderr() : stdout();
    stream.write(await usage(undefined, stream));
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (!isCommandName(first)) {
    reportError(Errors.usage(`unknown command "${first}"`, `commands: ${Object.keys(commands).join(", ")}; run netraven-db --help`), {});
    return EXIT.USAGE;
  }
  const command = await commands[first]();
  if (rest.includes("--help") || rest.includes("-h")) {
    stdout().write(await usage(command, stdout()));
    return EXIT.OK;
  }
  const json = rest.includes("--json");
  try {
    checkFlags(rest, (command.args ?? {}) as ArgsDef, first);
    const { result } = await runCommand(command, { rawArgs: rest });
    return (typeof result === "number" ? result : EXIT.OK) as ExitStatus;
  } catch (error) {
    // citty's own argument errors (missing positional, bad enum) are usage errors too.
    const usageError = (error as { name?: string }).name === "CLIError" ? Errors.usage((error as Error).message.replace(/\u001B\[[0-9;]*m/g, ""), `run: netraven-db ${first} --help`) : error;
    reportError(usageError, { json });
    return exitStatusFor(usageError);
  }
}

// A second signal (or one before any command took over) ends the process at once, with the shell's status.
routeSignals((signal) => process.exit(SIGNAL_EXIT[signal]));
const status = await main(process.argv.slice(2));
// Everything is done and every connection has sent its Terminate; waiting for the server to close its end of the
// socket would only add milliseconds to every container start. Flush what we printed, then leave.
await flushUsed();
process.exit(status);
