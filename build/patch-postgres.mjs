// Applies three small fixes to postgres.js 3.4.9 after `npm ci`, because the upstream releases do not have them yet:
//  - PR #1016: a query issued after `COPY ... TO STDOUT` can hang. The socket is paused when the readable's buffer
//    is full and nothing resumes it once CopyDone has ended the stream.
//  - PR #1183 (issue #1173): a server error at the end of `COPY ... FROM STDIN` never settles the writable, so the
//    caller hangs and the transaction is never rolled back.
//  - A write scheduled with setImmediate can fire after the server closed the connection, when `socket` is already
//    null: the TypeError is thrown from a timer and kills the process (found by tests/reliability/crashes.test.ts,
//    which stops the server in the middle of a backup). A closed connection has nothing to write to.
// Plain Node so it runs as the npm postinstall hook before Bun exists. Idempotent; fails loudly when the upstream
// text changed, so an upgrade cannot silently drop a fix (tests/db/copy-fixes.test.ts proves each behaviour).
// `--check` changes nothing and exits 1 when a fix is missing: build/compile.ts runs it before every build, because
// `npm ci --ignore-scripts` skips the postinstall hook silently. npm has no built-in patch mechanism (patch-package
// would be one more dependency doing the same text replacement, and Bun's `bun patch` does not run under npm ci).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "postgres");
const fixes = [
  {
    name: "resume the socket after CopyDone (postgres.js PR #1016)",
    from: "  function CopyDone() {\n    stream && stream.push(null)\n    stream = null\n  }",
    to: "  function CopyDone() {\n    stream && stream.push(null)\n    stream = null\n    socket.resume() // netraven-db patch: PR #1016\n  }",
  },
  {
    name: "settle the COPY FROM writable on a server error (postgres.js PR #1183)",
    from: "  function errored(err) {\n    stream && (stream.destroy(err), stream = null)",
    to: "  function errored(err) {\n    final && (final(err), final = null) // netraven-db patch: PR #1183\n    stream && (stream.destroy(err), stream = null)",
  },
  {
    name: "do not write to a closed socket (netraven-db)",
    from: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)",
    to: "  function nextWrite(fn) {\n    if (!socket) return (chunk = nextWriteTimer = null, false) // netraven-db patch: closed meanwhile\n    const x = socket.write(chunk, fn)",
  },
];

const check = process.argv.includes("--check");
if (!existsSync(root)) {
  console.log("patch-postgres: node_modules/postgres not installed; nothing to patch");
  process.exit(check ? 1 : 0);
}
for (const file of ["src/connection.js", "cjs/src/connection.js"]) {
  const path = join(root, file);
  let text = readFileSync(path, "utf8");
  for (const fix of fixes) {
    if (text.includes(fix.to)) continue;
    if (check) {
      console.error(`patch-postgres: "${fix.name}" is missing in node_modules/postgres/${file}; run: node build/patch-postgres.mjs (npm ci --ignore-scripts skips it)`);
      process.exit(1);
    }
    if (!text.includes(fix.from)) {
      console.error(`patch-postgres: cannot apply "${fix.name}" to ${file}: upstream code changed; review the patch`);
      process.exit(1);
    }
    text = text.replace(fix.from, fix.to);
  }
  if (!check) writeFileSync(path, text);
}
console.log(`patch-postgres: ${fixes.length} postgres.js fixes in place`);
