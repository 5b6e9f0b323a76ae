// Passwords must never reach a terminal, a log, a --json document or a backup file. Config registers every secret
// it resolves; every writer (logger, error printer, JSON printer) scrubs through `scrub`. URL-shaped passwords are
// masked even when the exact value is unknown (e.g. a URL quoted inside a server error message).
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // One- or two-character "passwords" would turn every such letter in the output into ****.
  if (value && value.length >= 3) secrets.add(value);
}

const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/?#@\s]*:)[^@\s]*@/gi;
const KEYWORD_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;

export function redactUrl(text: string): string {
  return text.replace(URL_PASSWORD, "$1****@").replace(KEYWORD_PASSWORD, "$1****");
}

export function scrub(text: string): string {
  let result = redactUrl(text);
  for (const secret of secrets) {
    if (result.includes(secret)) result = result.split(secret).join("****");
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && result.includes(encoded)) result = result.split(encoded).join("****");
  }
  return result;
}
