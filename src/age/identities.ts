// The secret keys that decrypt backups, from an age identity file (what `age-keygen -o key.txt` writes: one
// AGE-SECRET-KEY-1... line, `# created`/`# public key` comments, blank lines). Like libpq's .pgpass, a file that
// group or others can access is refused: a backup key readable by every local user protects nothing. Every key is
// registered as a secret the moment it is read, messages name lines by number and never quote them, and the keys
// live in a private field, so printing or JSON-serialising the object shows only the path and the count.
import { readFile, stat } from "node:fs/promises";
import { Errors, isNetravenError } from "../errors.ts";
import { describeFsError } from "../files.ts";
import { registerSecret } from "../secrets.ts";
import { loadAge } from "./library.ts";

const MAX_IDENTITY_FILE_BYTES = 1024 * 1024;

export class AgeIdentities {
  readonly #keys: readonly string[];
  /** The identity file, for messages. */
  readonly path: string;

  constructor(path: string, keys: readonly string[]) {
    this.path = path;
    this.#keys = keys;
  }

  get count(): number {
    return this.#keys.length;
  }

  /** The secret keys themselves, for the decrypter only. */
  secretKeys(): readonly string[] {
    return this.#keys;
  }

  /** The public keys of these identities (to compare with a manifest's recipients in a message). */
  async publicKeys(): Promise<string[]> {
    const { identityToRecipient } = await loadAge();
    return Promise.all(this.#keys.map((key) => identityToRecipient(key)));
  }

  toJSON(): { path: string; count: number } {
    return { path: this.path, count: this.count };
  }

  toString(): string {
    return `age identities from ${this.path} (${this.count})`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/**
 * Reads and checks an identity file. `setting` names where the path came from (`--identity`,
 * `NETRAVEN_DB_IDENTITY_FILE`). A missing or unreadable file, one others can access, or one holding anything but
 * X25519 (`AGE-SECRET-KEY-1...`) or post-quantum hybrid (`AGE-SECRET-KEY-PQ-1...`) secret keys is refused with
 * exit status 3 before any backup is opened.
 */
export async function readIdentityFile(path: string, setting = "--identity"): Promise<AgeIdentities> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: info.isDirectory() ? "EISDIR" : "EINVAL" });
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw Errors.config(`${setting} ${path}`, `other users can access this secret key file (mode ${mode}); make it private: chmod 600 ${path}`);
    }
    if (info.size > MAX_IDENTITY_FILE_BYTES) throw Errors.config(`${setting} ${path}`, `is ${info.size} bytes, too large for an age identity file`);
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isNetravenError(error)) throw error;
    throw Errors.badPath(setting, path, describeFsError(error));
  }

  const lines = text.split("\n").map((line) => line.replace(/\r$/, "").trim());
  // Register before checking anything: a key that fails a check below must not be printable either.
  for (const line of lines) if (/^AGE-(SECRET-KEY|PLUGIN)-/i.test(line)) registerSecret(line);

  const where = `${setting} ${path}`;
  if (lines[0] === "age-encryption.org/v1" || lines[0] === "-----BEGIN AGE ENCRYPTED FILE-----") {
    throw Errors.config(where, "the identity file is itself encrypted (passphrase-protected); decrypt it first: age -d -o key.txt FILE (and chmod 600 key.txt)");
  }
  const { Decrypter } = await loadAge();
  const keys: string[] = [];
  lines.forEach((line, index) => {
    if (line === "" || line.startsWith("#")) return;
    const problem = lineProblem(line);
    if (problem) throw Errors.config(`${where} line ${index + 1}`, problem);
    try {
      new Decrypter().addIdentity(line);
    } catch {
      // The library's (bech32) message may quote the key: never pass it on, not even as a cause.
      throw Errors.config(`${where} line ${index + 1}`, "is not a valid age secret key (a character is wrong or missing: its checksum does not match)");
    }
    if (!keys.includes(line)) keys.push(line);
  });
  if (keys.length === 0) throw Errors.config(where, "holds no age secret key (AGE-SECRET-KEY-1...); age-keygen -o FILE creates one");
  return new AgeIdentities(path, keys);
}

function lineProblem(line: string): string | undefined {
  if (line.startsWith("AGE-SECRET-KEY-1") || line.startsWith("AGE-SECRET-KEY-PQ-1")) return undefined;
  if (/^AGE-SECRET-KEY-/i.test(line)) return "is not a valid age secret key (age writes them in upper case: AGE-SECRET-KEY-1...)";
  if (/^AGE-PLUGIN-/i.test(line)) return "age plugin identities (AGE-PLUGIN-...) are not supported; use a key from age-keygen";
  if (line.startsWith("-----BEGIN")) return "SSH and PEM private keys are not supported; use a key from age-keygen";
  if (/^age1[a-z0-9]+$/i.test(line)) return "holds a public key (age1...); an identity file holds the secret key (AGE-SECRET-KEY-1...) that age-keygen wrote";
  return "is not an age secret key (AGE-SECRET-KEY-1...); the line is not shown in case it is a secret";
}
