// libpq's connection service file (pg_service.conf): `service=name` (or PGSERVICE) stands for the [name] section's
// keyword=value lines. Read as libpq reads it: the per-user file (servicefile / PGSERVICEFILE, else
// ~/.pg_service.conf) first, and only if the service is not defined there the system file
// (PGSYSCONFDIR/pg_service.conf; Debian's libpq looks in /etc/postgresql-common). Lines are trimmed, `#` starts a
// comment, a line is `keyword=value` with nothing trimmed around the `=`, and a service that is in neither file is an
// error. Settings from the service fill only what the connection string left out; PG* variables come after both.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Errors } from "../errors.ts";
import { describeFsError } from "../files.ts";
import { homeDirectory } from "./home.ts";
import { keywordFor, type Keyword } from "./parameters.ts";

/** Where Debian's libpq (and so psql on this system) looks for the system-wide file without PGSYSCONFDIR. */
export const DEFAULT_SYSCONFDIR = "/etc/postgresql-common";

export interface ServiceEntry {
  keyword: Keyword;
  value: string;
  /** "pg_service.conf line 4", for messages. */
  where: string;
}

export interface Service {
  name: string;
  file: string;
  entries: ServiceEntry[];
}

type Env = Record<string, string | undefined>;

/** The files libpq would read for a service, in order. */
export function serviceFiles(env: Env, servicefile?: string): string[] {
  const home = homeDirectory(env);
  const user = servicefile ?? (env.PGSERVICEFILE || (home ? join(home, ".pg_service.conf") : undefined));
  const system = join(env.PGSYSCONFDIR || DEFAULT_SYSCONFDIR, "pg_service.conf");
  return user ? [user, system] : [system];
}

function parseServiceFile(file: string, name: string): ServiceEntry[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw Errors.config(`service "${name}"`, `cannot read ${file}: ${describeFsError(error)}`);
  }
  let found = false;
  const entries: ServiceEntry[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      if (found) break;
      found = line === `[${name}]` || line.startsWith(`[${name}]`);
      continue;
    }
    if (!found) continue;
    const where = `${file} line ${index + 1}`;
    const eq = line.indexOf("=");
    if (eq < 0) throw Errors.config(`service "${name}"`, `syntax error in ${where} (expected keyword=value)`);
    const key = line.slice(0, eq);
    if (key === "service") throw Errors.config(`service "${name}"`, `nested service specifications are not supported (${where})`);
    const keyword = keywordFor(key);
    // Never echo the line: it may be a password line with a typo in the keyword.
    if (!keyword || key !== keyword) throw Errors.config(`service "${name}"`, `syntax error in ${where} (${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `unknown keyword "${key}"` : "not keyword=value"})`);
    // The first line for a keyword wins within a service, as libpq never overrides a value it has.
    if (!entries.some((e) => e.keyword === keyword)) entries.push({ keyword, value: line.slice(eq + 1), where });
  }
  return found ? entries : undefined;
}

/** The service's settings, or a one-line error naming the files searched. */
export function readService(name: string, env: Env, servicefile?: string): Service {
  const files = serviceFiles(env, servicefile);
  for (const file of files) {
    let exists = false;
    try {
      exists = statSync(file).isFile();
    } catch {
      exists = false;
    }
    if (!exists) continue;
    const entries = parseServiceFile(file, name);
    if (entries) return { name, file, entries };
  }
  throw Errors.config(`service "${name}"`, `definition of service "${name}" not found (looked in ${files.join(" and ")})`);
}
