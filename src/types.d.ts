// SQL files are imported as text (`with { type: "text" }`): Bun and Deno both embed them, so the compiled binary
// needs no sql/ folder beside it.
declare module "*.sql" {
  const text: string;
  export default text;
}

// Stamped by build/compile.ts with --define; absent under `bun run` and `deno run`.
declare const NETRAVEN_DB_BUILD: { version: string; revision: string; builtAt: string; target: string } | undefined;
