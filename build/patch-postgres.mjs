// Applies small changes to postgres.js 3.4.9 after `npm ci`, because the upstream releases do not have them yet:
//  - PR #1016: a query issued after `COPY ... TO STDOUT` can hang. The socket is paused when the readable's buffer
//    is full and nothing resumes it once CopyDone has ended the stream.
//  - PR #1183 (issue #1173): a server error at the end of `COPY ... FROM STDIN` never settles the writable, so the
//    caller hangs and the transaction is never rolled back.
//  - A write scheduled with setImmediate can fire after the server closed the connection, when `socket` is already
//    null: the TypeError is thrown from a timer and kills the process (found by tests/reliability/crashes.test.ts,
//    which stops the server in the middle of a backup). A closed connection has nothing to write to.
//  - COPY TO STDOUT rows that arrive in one socket read are pushed as one chunk, not one chunk per row (a speed-up;
//    tests/db/message-split.test.ts cuts the server's bytes at every kind of place and compares).
//  - A message cut by the end of one socket read is completed from the head of the next, instead of the whole next
//    read being copied after it into a new buffer (a speed-up; the same test covers it).
//  - node:net, node:tls, node:stream and node:crypto load on first use, and SCRAM uses Bun's built-in crypto
//    (start-up; tests/db/scram.test.ts logs in with SCRAM and md5).
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
  {
    // 500 MB of COPY text is ~2.5 million rows: one push, one 'data' event and one Buffer per row was the largest
    // part of a backup's client CPU after compression. The rows of one read are joined in place instead (the
    // payloads moved left over the 5-byte headers; the buffer is this parser's own, and only bytes already parsed
    // are overwritten) and pushed as one chunk. COPY TO STDOUT data is a byte stream; row boundaries carry nothing.
    name: "push the CopyData rows of one socket read as one chunk (netraven-db)",
    from: "    while (incoming.length > 4) {\n      length = incoming.readUInt32BE(1)\n      if (length >= incoming.length) {",
    to: `    while (incoming.length > 4) {
      if (incoming[0] === 100 && stream) { // netraven-db patch: CopyData rows joined
        let at = 0, end = 0
        while (incoming.length - at > 4 && incoming[at] === 100) {
          const size = incoming.readUInt32BE(at + 1)
          if (size >= incoming.length - at) break
          incoming.copyWithin(end, at + 5, at + size + 1)
          end += size - 4
          at += size + 1
        }
        if (at > 0) {
          stream.push(incoming.subarray(0, end)) || socket.pause()
          incoming = incoming.subarray(at)
          remaining = 0
          incomings = null
          continue
        }
      }
      length = incoming.readUInt32BE(1)
      if (length >= incoming.length) {`,
  },
  {
    // A COPY TO stream is 512 KiB socket reads, and almost every one ends inside a row. The parser then copied the
    // cut row's head and the WHOLE next read into a new buffer: half a megabyte of fresh memory per read, which the
    // allocator takes from the kernel page by page (a third of a 500 MB backup's page faults). Now only the cut
    // message is assembled (a row: some hundred bytes), and the rest of the read is parsed where it is. A message
    // longer than one read still goes through the original path.
    name: "complete a message cut by a read from the next read's head, without copying the read (netraven-db)",
    from: `    incoming = incomings
      ? Buffer.concat(incomings, length - remaining)
      : incoming.length === 0
        ? x
        : Buffer.concat([incoming, x], incoming.length + x.length)
`,
    to: `    let rest = null
    if (incomings && incomings.length === 2 && incomings[0].readUInt32BE(1) + 1 - incomings[0].length <= x.length) { // netraven-db patch: cut message
      const need = incomings[0].readUInt32BE(1) + 1 - incomings[0].length
      incoming = Buffer.concat([incomings[0], x.subarray(0, need)])
      rest = x.subarray(need)
      incomings = null
      remaining = 0
    } else incoming = incomings
      ? Buffer.concat(incomings, length - remaining)
      : incoming.length === 0
        ? x
        : Buffer.concat([incoming, x], incoming.length + x.length)
`,
  },
  {
    name: "parse the rest of the read after a cut message (netraven-db)",
    from: `      incoming = incoming.subarray(length + 1)
      remaining = 0
      incomings = null
    }
  }
`,
    to: `      incoming = incoming.subarray(length + 1)
      remaining = 0
      incomings = null
    }
    rest && rest.length > 0 && data(rest) // netraven-db patch: cut message
  }
`,
  },
  {
    // In a compiled Bun binary each of these modules costs start-up time when it loads (measured alone in a
    // hello-world binary: node:net with node:stream ~7 ms, node:tls ~2 ms, node:crypto ~10 ms), on every run,
    // although our connections come from the \`socket\` option (connection/socket.ts; net and tls are then never used
    // here) and Stream serves only COPY and large objects. They now load on first use. SCRAM in Bun uses what the
    // runtime has built in, as postgres.js's own Cloudflare build does (cf/polyfills.js): PBKDF2 from WebCrypto,
    // HMAC and hashes from Bun.CryptoHasher. postgres.js awaits every one of these calls, so async ones are fine.
    // Other runtimes (Deno) keep node:crypto. tests/db/scram.test.ts logs in with SCRAM and with md5 through the
    // binary. With connection/native-socket.ts, the up-to-date init measured ~4 ms faster end to end.
    name: "load node:net, node:tls, node:stream and node:crypto on first use; SCRAM from built-in crypto in Bun (netraven-db)",
    files: ["src/connection.js"],
    from: "import net from 'net'\nimport tls from 'tls'\nimport crypto from 'crypto'\nimport Stream from 'stream'\nimport { performance } from 'perf_hooks'\n",
    to: `// netraven-db patch: built-in modules on first use
const builtin = name => new Proxy({}, { get: (_, key) => process.getBuiltinModule(name)[key] })
const net = builtin('node:net')
const tls = builtin('node:tls')
const Stream = builtin('node:stream')
const performance = globalThis.performance
const crypto = typeof Bun === 'undefined' ? builtin('node:crypto') : {
  randomBytes: n => globalThis.crypto.getRandomValues(Buffer.alloc(n)),
  pbkdf2Sync: async(password, salt, iterations, keylen) => Buffer.from(await globalThis.crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    await globalThis.crypto.subtle.importKey('raw', Buffer.from(password), 'PBKDF2', false, ['deriveBits']),
    keylen * 8
  )),
  createHash: type => new Bun.CryptoHasher(type),
  createHmac: (type, key) => new Bun.CryptoHasher(type, key)
}
`,
  },
  {
    name: "load node:stream on first use in large.js (netraven-db)",
    files: ["src/large.js"],
    from: "import Stream from 'stream'\n",
    to: "const Stream = new Proxy({}, { get: (_, key) => process.getBuiltinModule('node:stream')[key] }) // netraven-db patch: on first use\n",
  },
];

const check = process.argv.includes("--check");
if (!existsSync(root)) {
  console.log("patch-postgres: node_modules/postgres not installed; nothing to patch");
  process.exit(check ? 1 : 0);
}
for (const file of ["src/connection.js", "cjs/src/connection.js", "src/large.js"]) {
  const path = join(root, file);
  let text = readFileSync(path, "utf8");
  for (const fix of fixes.filter((f) => (f.files ?? ["src/connection.js", "cjs/src/connection.js"]).includes(file))) {
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
