// Command name -> lazy module. Literal specifiers so the bundler sees (and embeds) every command.
import type { CommandDef } from "citty";

type Loader = () => Promise<CommandDef<any>>;

export const commands = {
  init: () => import("./init.ts").then((m) => m.default),
  validate: () => import("./validate.ts").then((m) => m.default),
  backup: () => import("./backup.ts").then((m) => m.default),
  verify: () => import("./verify.ts").then((m) => m.default),
  list: () => import("./list.ts").then((m) => m.default),
  restore: () => import("./restore.ts").then((m) => m.default),
} satisfies Record<string, Loader>;

export type CommandName = keyof typeof commands;
