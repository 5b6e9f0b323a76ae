// Passwords must never reach a terminal, a log, a --json document or a backup file. Config registers every secret
// it resolves; every writer (logger, error printer, JSON printer) scrubs through `scrub`. URL-shaped passwords are
// masked even when the exact value is unknown (e.g. a URL quoted inside a server error message).
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // One- or two-character "passwords" would turn every such letter in the output into ****.
  if (value && value.length >= 3) secrets.add(value);
}

// The password runs to the last `@` of the authority, as conninfo.ts parses it (`u:p@ss@host` has password `p@ss`).
const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/?#@\s]*:)[^@\s]*(?:@[^@\s/?#]*)*@/gi;
const KEYWORD_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;

export function redactUrl(text: string): string {
  return text.replace(URL_PASSWORD, "$1****@").replace(KEYWORD_PASSWORD, "$1****");
}

export function scrub(text: string): string {
  let result = redactUrl(text);
  // Longest first: when one secret contains another, masking the shorter one first would leave the rest visible.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    // As written, URL-encoded, and as it appears inside a JSON string (printJson scrubs serialised text).
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
      if (result.includes(form)) result = result.split(form).join("****");
    }
  }
  return result;
}
