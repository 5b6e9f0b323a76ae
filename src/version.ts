// What this binary is. build/compile.ts stamps NETRAVEN_DB_BUILD with --define; `bun run`/`deno run` of the sources
// report the package.json version with revision "source".
import pkg from "../package.json" with { type: "json" };
import { SCHEMA_VERSION } from "./schema/migrations.ts";

const build = typeof NETRAVEN_DB_BUILD === "undefined" ? undefined : NETRAVEN_DB_BUILD;

export const TOOL_VERSION: string = build?.version ?? pkg.version;
export const TOOL_REVISION: string = build?.revision ?? "source";
export const BUILD_TARGET: string = build?.target ?? "source";

export function versionLine(): string {
  return `netraven-db ${TOOL_VERSION} (revision ${TOOL_REVISION}, ${BUILD_TARGET}) schema version ${SCHEMA_VERSION}`;
}
