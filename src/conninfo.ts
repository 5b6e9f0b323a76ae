// Parses the two connection-string shapes libpq accepts, because users copy them from psql:
//   postgresql://user:pass@host:5432/db?sslmode=require       (URL; also postgres://)
//   host=/var/run/postgresql dbname=netraven user=netraven     (keyword/value)
// postgres.js cannot parse libpq's unix-socket URLs (`postgresql://u@/db?host=/dir`, `%2Fdir` hosts, `?host=`
// after a hostname), so we parse everything ourselves and hand postgres.js explicit options only.
import { Errors } from "./errors.ts";

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface ConnInfo {
  host?: string;
  port?: string;
  user?: string;
  password?: string;
  dbname?: string;
  sslmode?: string;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  connect_timeout?: string;
  application_name?: string;
}

const KEYWORDS = new Set<keyof ConnInfo>(["host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name"]);
// Accepted and ignored: they change nothing netraven-db relies on.
const IGNORED = new Set(["fallback_application_name", "client_encoding", "gssencmode", "target_session_attrs", "keepalives", "keepalives_idle", "sslcompression", "passfile"]);

// What is not shaped like a keyword is never echoed: a mistyped URL (`user:pw@host/db`, `postgresq://...`) lands
// in the keyword/value parser, and its "keyword" would carry the password onto the terminal.
const KEYWORD_SHAPE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NOT_A_CONNECTION_STRING = "is neither a postgresql:// URL nor keyword=value pairs (check the scheme: postgresql://user@host:5432/db)";

function setKeyword(info: ConnInfo, key: string, value: string, source: string): void {
  const normalized = key === "database" ? "dbname" : key === "username" ? "user" : key;
  if (IGNORED.has(normalized)) return;
  if (!KEYWORDS.has(normalized as keyof ConnInfo)) {
    if (!KEYWORD_SHAPE.test(key)) throw Errors.config(source, NOT_A_CONNECTION_STRING);
    throw Errors.config(source, `unknown connection parameter "${key}" (supported: ${[...KEYWORDS].join(", ")})`);
  }
  // libpq reads `host=a,b` (keyword form or `?host=` in a URL) as a host list, just like `a,b` in the URL authority.
  if (normalized === "host" && value.includes(",")) throw Errors.config(source, "multiple hosts are not supported; give one host");
  info[normalized as keyof ConnInfo] = value;
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

  const atAt = authority.lastIndexOf("@");
  const userinfo = atAt >= 0 ? authority.slice(0, atAt) : "";
  const hostport = atAt >= 0 ? authority.slice(atAt + 1) : authority;

  if (userinfo) {
    const colon = userinfo.indexOf(":");
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) info.user = decode(user, source);
    if (colon >= 0) info.password = decode(userinfo.slice(colon + 1), source);
  }

  if (hostport.includes(",")) throw Errors.config(source, "multiple hosts are not supported; give one host");
  if (hostport) {
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
    if (host) info.host = decode(host, source);
    if (port) info.port = decode(port, source);
  }
  if (path) info.dbname = decode(path, source);

  for (const pair of query.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    // Not echoed: a mistyped parameter may be a password.
    if (eq < 0) throw Errors.config(source, "a query parameter has no value (expected name=value)");
    setKeyword(info, decode(pair.slice(0, eq), source), decode(pair.slice(eq + 1), source), source);
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
