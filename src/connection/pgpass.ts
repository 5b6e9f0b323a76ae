// The password file (~/.pgpass, PGPASSFILE, passfile=) with libpq's rules: lines are
// hostname:port:database:username:password, the first matching line wins, `*` matches anything in the first four
// fields, `\` escapes `:` and `\`, and a file that group or others can read is ignored (with a warning), not trusted.
// libpq looks a password up per host of a multi-host list, so each host can have its own line.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { log } from "../log.ts";
import { homeDirectory } from "./home.ts";

export interface PgpassKey {
  /** The host as named (a socket directory for unix sockets; the hostaddr when no host name was given). */
  host: string;
  port: number;
  database: string;
  user: string;
}

/** The password file libpq would read: passfile / PGPASSFILE, else ~/.pgpass (none without a home directory). */
export function passfilePath(passfile: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (passfile) return passfile;
  const home = homeDirectory(env);
  return home ? join(home, ".pgpass") : undefined;
}

export function lookupPgpass(file: string | undefined, key: PgpassKey): string | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return undefined;
    if (stat.mode & 0o077) {
      log.warn(`${file} has group or world access and is ignored (as libpq does); fix with: chmod 0600 ${file}`);
      return undefined;
    }
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  // libpq matches a unix-socket connection to its default socket directory against "localhost", any other socket
  // directory by its path; which directory is the default depends on the build, so a socket path matches both.
  const socket = key.host.startsWith("/") || key.host.startsWith("@");
  const wanted = [key.host, String(key.port), key.database, key.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields: string[] = [];
    let current = "";
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (ch === "\\" && i + 1 < line.length) current += line[++i];
      else if (ch === ":" && fields.length < 4) {
        fields.push(current);
        current = "";
      } else current += ch;
    }
    fields.push(current);
    if (fields.length !== 5) continue;
    const matches = (value: string, index: number) => fields[index] === "*" || fields[index] === value || (index === 0 && socket && fields[0] === "localhost");
    if (wanted.every(matches)) return fields[4];
  }
  return undefined;
}
