// Public keys to encrypt backups to, from `--encrypt-to` values and recipients files (age's format: one key a line,
// `#` comments, blank lines). Each key is checked strictly (bech32 checksum, key length) before any data is read,
// and refused in one line that names where it came from. A value is echoed only when it has the shape of a public
// key: anything else may be a secret pasted into the wrong place, so it is described, never printed, and a secret
// key given here is registered as a secret so that nothing else can print it either.
import { readFile, stat } from "node:fs/promises";
import { Errors, isNetravenError } from "../errors.ts";
import { describeFsError } from "../files.ts";
import { registerSecret } from "../secrets.ts";
import { loadAge } from "./library.ts";

/** One candidate key and where it came from, for messages: `--encrypt-to value 2`, `keys.txt line 3`. */
export interface RecipientEntry {
  value: string;
  origin: string;
}

/** Validated public keys, normalised (lower case, trimmed), without duplicates, in the order given. */
export type Recipients = readonly string[];

const MAX_RECIPIENTS_FILE_BYTES = 1024 * 1024;
/** Lower-case letters and digits after `age1`: nothing of this shape can be a secret key, so it may be shown. */
const PUBLIC_SHAPE = /^age1[a-z0-9]+$/;
/** bech32's data alphabet (no 1, b, i, o). */
const BECH32_DATA = /^[02-9ac-hj-np-z]+$/;

/** `--encrypt-to` values (repeatable). A value may hold several keys separated by commas or white space. */
export function recipientsFromValues(values: readonly string[], setting = "--encrypt-to"): RecipientEntry[] {
  const entries: RecipientEntry[] = [];
  const many = values.length > 1 || values.some((v) => /[\s,]/.test(v.trim()));
  for (const value of values) {
    for (const part of value.split(/[\s,]+/)) {
      if (part === "") continue;
      entries.push({ value: part, origin: many ? `${setting} value ${entries.length + 1}` : setting });
    }
  }
  if (entries.length === 0) throw Errors.config(setting, "is empty; give an age public key (age1...)");
  return entries;
}

/** The keys in the text of a recipients file. */
export function recipientsFromText(text: string, origin: string): RecipientEntry[] {
  const entries: RecipientEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "").trim();
    if (line === "" || line.startsWith("#")) return;
    entries.push({ value: line, origin: `${origin} line ${index + 1}` });
  });
  return entries;
}

/** Reads a recipients file. `setting` names the flag or variable that gave the path. */
export async function readRecipientsFile(path: string, setting = "--recipients-file"): Promise<RecipientEntry[]> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
    if (info.size > MAX_RECIPIENTS_FILE_BYTES) throw Errors.config(`${setting} ${path}`, `is ${info.size} bytes; a recipients file holds a few public keys`);
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isNetravenError(error)) throw error;
    throw Errors.badPath(setting, path, describeFsError(error));
  }
  const entries = recipientsFromText(text, `${setting} ${path}`);
  if (entries.length === 0) throw Errors.config(`${setting} ${path}`, "holds no public key (only comments or blank lines)");
  return entries;
}

/**
 * Checks every entry and returns the normalised keys. Supported: X25519 (`age1...`, what age-keygen makes) and the
 * post-quantum hybrid ML-KEM-768 + X25519 (`age1pq1...`, age >= 1.3 / age-keygen -pq), both built into the library.
 * Refused with a reason: secret keys, SSH keys, plugin and hardware-tag recipients (they need programs or devices a
 * backup host does not have), anything else.
 */
export async function parseRecipients(entries: readonly RecipientEntry[]): Promise<Recipients> {
  if (entries.length === 0) throw Errors.config("recipients", "none given; pass --encrypt-to age1... or --recipients-file FILE");
  const { Encrypter } = await loadAge();
  const keys: string[] = [];
  for (const { value: raw, origin } of entries) {
    const value = raw.trim();
    const problem = shapeProblem(value);
    if (problem) throw Errors.config(origin, problem);
    const key = value === value.toUpperCase() ? value.toLowerCase() : value;
    try {
      new Encrypter().addRecipient(key);
    } catch {
      // The library's message may quote the key; ours names the entry (the key is public, so it is shown).
      throw Errors.config(origin, `${shorten(key)} is not a valid age public key (a character is wrong or missing: its checksum does not match)`);
    }
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** Why a value cannot be a supported public key, judged from its shape alone; undefined when it may be one. */
function shapeProblem(value: string): string | undefined {
  if (value === "") return "is empty; give an age public key (age1...)";
  const upper = value.toUpperCase();
  if (upper.startsWith("AGE-SECRET-KEY-") || upper.startsWith("AGE-PLUGIN-")) {
    registerSecret(value);
    return "a secret key (AGE-SECRET-KEY-...) was given where a public key (age1...) belongs; give its public key instead (age-keygen -y KEYFILE prints it) and keep the secret key off the backup host";
  }
  if (/^(ssh-(ed25519|rsa)|ecdsa-sha2-|sk-ssh-|sk-ecdsa-)/.test(value)) return "SSH public keys are not supported; give an age public key (age1..., from age-keygen)";
  const lower = value === upper ? value.toLowerCase() : value;
  if (!PUBLIC_SHAPE.test(lower)) return "is not an age public key (those start with age1); the value is not shown in case it is a secret";
  const separator = lower.lastIndexOf("1");
  const hrp = lower.slice(0, separator);
  if (!BECH32_DATA.test(lower.slice(separator + 1))) return `${shorten(lower)} is not a valid age public key (it holds characters a key cannot contain)`;
  if (hrp === "age" || hrp === "age1pq") return undefined;
  if (hrp === "age1tag" || hrp === "age1tagpq") return "hardware-token tag recipients (age1tag1...) are not supported; give an age public key (age1...)";
  return `age plugin recipients (${hrp}1...) are not supported; give an age public key (age1..., from age-keygen)`;
}

/** Post-quantum keys are ~1,950 characters: show the start and the end. */
function shorten(key: string): string {
  return key.length <= 80 ? key : `${key.slice(0, 40)}...${key.slice(-12)}`;
}
