// Parses the two connection-string shapes libpq accepts, because users copy them from psql:
//   postgresql://user:pass@h1:5432,h2:5433/db?target_session_attrs=read-write   (URL; also postgres://)
//   host=h1,h2 port=5432,5433 dbname=netraven user=netraven                        (keyword/value)
// into libpq's keyword → value map, exactly as libpq builds it: the hosts of a URL become the list "h1,h2" and their
// ports "5432,5433" (an empty element where a host has no port). Values are judged later (settings.ts), where it is
// known which setting a value came from. postgres.js parses neither unix-socket URLs nor host lists the libpq way,
// so it only ever sees the one host we pick.
import { Errors } from "../errors.ts";
import { keywordFor, KEYWORDS, type ConnInfo, type Keyword } from "./parameters.ts";

// What is not shaped like a keyword is never echoed: a mistyped URL (`user:pw@host/db`, `postgresq://...`) lands
// in the keyword/value parser, and its "keyword" would carry the password onto the terminal.
const KEYWORD_SHAPE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NOT_A_CONNECTION_STRING = "is neither a postgresql:// URL nor keyword=value pairs (check the scheme: postgresql://user@host:5432/db)";

/** The closest known keyword, for "did you mean" (a typo is one or two edits away). */
function closest(name: string): Keyword | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: Keyword | undefined;
  let bestDistance = 3;
  for (const keyword of KEYWORDS) {
    const d = distance(name.toLowerCase(), keyword);
    if (d < bestDistance) [best, bestDistance] = [keyword, d];
  }
  return best;
}

function setKeyword(info: ConnInfo, key: string, value: string, source: string): void {
  const keyword = keywordFor(key);
  if (!keyword) {
    if (!KEYWORD_SHAPE.test(key)) throw Errors.config(source, NOT_A_CONNECTION_STRING);
    const suggestion = closest(key);
    throw Errors.config(source, `unknown connection parameter "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`);
  }
  info[keyword] = value;
}

function decode(part: string, source: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw Errors.config(source, "malformed percent-encoding in the connection URL");
  }
}

export function isUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}

export function parseConnectionString(text: string, source: string): ConnInfo {
  const trimmed = text.trim();
  if (trimmed === "") throw Errors.config(source, "is empty");
  return isUrl(trimmed) ? parseUrl(trimmed, source) : parseKeywordValue(trimmed, source);
}

/** `h1:5432,[::1]:5433,h3` → hosts "h1,::1,h3" and ports "5432,5433," as libpq's conninfo_uri_parse_options. */
function parseHostList(hostports: string, source: string): { host: string; port: string } {
  const hosts: string[] = [];
  const ports: string[] = [];
  for (const hostport of hostports.split(",")) {
    let host: string;
    let port = "";
    if (hostport.startsWith("[")) {
      const close = hostport.indexOf("]");
      if (close < 0) throw Errors.config(source, "unterminated [ in IPv6 host");
      host = hostport.slice(1, close);
      const after = hostport.slice(close + 1);
      if (after.startsWith(":")) port = after.slice(1);
      else if (after) throw Errors.config(source, `unexpected "${after}" after the IPv6 host`);
    } else {
      const colon = hostport.lastIndexOf(":");
      host = colon >= 0 ? hostport.slice(0, colon) : hostport;
      port = colon >= 0 ? hostport.slice(colon + 1) : "";
    }
    hosts.push(decode(host, source));
    ports.push(decode(port, source));
  }
  return { host: hosts.join(","), port: ports.join(",") };
}

function parseUrl(text: string, source: string): ConnInfo {
  const info: ConnInfo = {};
  let rest = text.replace(/^postgres(ql)?:\/\//i, "");
  const queryAt = rest.indexOf("?");
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : "";
  if (queryAt >= 0) rest = rest.slice(0, queryAt);
  const hashAt = rest.indexOf("#");
  if (hashAt >= 0) rest = rest.slice(0, hashAt);

  const slashAt = rest.indexOf("/");
  const authority = slashAt >= 0 ? rest.slice(0, slashAt) : rest;
  const path = slashAt >= 0 ? rest.slice(slashAt + 1) : "";

  // The last @ ends the user part, so an unencoded @ in a password still works (`u:p@ss@host`).
  const atAt = authority.lastIndexOf("@");
  const userinfo = atAt >= 0 ? authority.slice(0, atAt) : "";
  const hostports = atAt >= 0 ? authority.slice(atAt + 1) : authority;

  if (userinfo) {
    const colon = userinfo.indexOf(":");
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) info.user = decode(user, source);
    if (colon >= 0) info.password = decode(userinfo.slice(colon + 1), source);
  }
  if (hostports) {
    const { host, port } = parseHostList(hostports, source);
    // libpq stores each only when it holds something (a lone "," for two port-less hosts counts).
    if (host) info.host = host;
    if (port) info.port = port;
  }
  if (path) info.dbname = decode(path, source);

  for (const pair of query.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    // Not echoed: a mistyped parameter may be a password.
    if (eq < 0) throw Errors.config(source, "a query parameter has no value (expected name=value)");
    const key = decode(pair.slice(0, eq), source);
    const value = decode(pair.slice(eq + 1), source);
    // libpq's JDBC compatibility: ?ssl=true means sslmode=require.
    if (key === "ssl" && value === "true") info.sslmode = "require";
    else setKeyword(info, key, value, source);
  }
  return info;
}

function parseKeywordValue(text: string, source: string): ConnInfo {
  const info: ConnInfo = {};
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) break;
    const keyStart = i;
    while (i < text.length && text[i] !== "=" && !/\s/.test(text[i]!)) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (text[i] !== "=") {
      if (!KEYWORD_SHAPE.test(key)) throw Errors.config(source, NOT_A_CONNECTION_STRING);
      throw Errors.config(source, `expected "${key}=value" (a connection string is either a postgresql:// URL or keyword=value pairs)`);
    }
    i++;
    skipSpace();
    let value = "";
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i]!;
        if (ch === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === "'") {
          closed = true;
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) throw Errors.config(source, `unterminated quoted value for "${key}"`);
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        if (text[i] === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else {
          value += text[i];
          i++;
        }
      }
    }
    setKeyword(info, key, value, source);
  }
  return info;
}

/** A value as libpq's keyword/value syntax needs it: quoted when it holds blanks, quotes or backslashes. */
export function quoteValue(value: string): string {
  return value !== "" && !/[\s'\\]/.test(value) ? value : `'${value.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}
