// What an age file looks like from the outside (https://age-encryption.org/v1), read without any key: the magic
// line that tells an age file from anything else, and the textual header (recipient stanzas, then the MAC line)
// that precedes the binary payload. Reading the header here, under a size limit, keeps a damaged or foreign file
// from making the decrypter buffer gigabytes while it looks for a line end, and names the stanza types in messages.

export const AGE_MAGIC = "age-encryption.org/v1\n";
const MAGIC_BYTES = new TextEncoder().encode(AGE_MAGIC);
const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";

/** Payload chunk size of age's STREAM construction, and the per-chunk ChaCha20-Poly1305 tag. */
export const AGE_CHUNK_BYTES = 64 * 1024;
export const AGE_TAG_BYTES = 16;
/** The payload starts with a 16-byte nonce after the header. */
export const AGE_NONCE_BYTES = 16;

/**
 * Largest header we read. A header is one ~100-byte stanza per X25519 recipient (~1.6 KB per post-quantum one); a
 * file whose header runs past this is damaged or not ours.
 */
export const MAX_HEADER_BYTES = 1024 * 1024;

/** How many leading bytes `isAgeFile` needs to decide. */
export const AGE_MAGIC_LENGTH = MAGIC_BYTES.length;

/** Whether a file's first bytes are the age magic line (binary format; ASCII armor is not accepted). */
export function isAgeFile(head: Uint8Array): boolean {
  if (head.length < MAGIC_BYTES.length) return false;
  for (let i = 0; i < MAGIC_BYTES.length; i++) if (head[i] !== MAGIC_BYTES[i]) return false;
  return true;
}

/** Whether the bytes read so far (possibly fewer than the magic line) agree with the magic line. */
export function mayBeAgeFile(head: Uint8Array): boolean {
  const n = Math.min(head.length, MAGIC_BYTES.length);
  for (let i = 0; i < n; i++) if (head[i] !== MAGIC_BYTES[i]) return false;
  return true;
}

/** Whether the first bytes are an ASCII-armored age file (`age -a`), to say so instead of "not an age file". */
export function isArmoredAgeFile(head: Uint8Array): boolean {
  return new TextDecoder().decode(head.subarray(0, ARMOR_BEGIN.length)) === ARMOR_BEGIN;
}

export interface HeaderScan {
  /** Bytes from the start of the file to the end of the MAC line (the payload nonce follows). */
  length: number;
  /** The first argument of each recipient stanza: "X25519", "mlkem768x25519", "scrypt", ... */
  stanzaTypes: string[];
}

const NEWLINE = 10;

/**
 * Finds the end of the header in `bytes` (the start of the file). Returns undefined when more bytes are needed,
 * throws a plain Error saying what is wrong when the bytes cannot be an age header. Only the shape is checked here;
 * the library parses the stanzas and checks the MAC.
 */
export function scanHeader(bytes: Uint8Array): HeaderScan | undefined {
  const stanzaTypes: string[] = [];
  let start = 0;
  let lineNumber = 0;
  const decoder = new TextDecoder();
  for (;;) {
    const end = bytes.indexOf(NEWLINE, start);
    if (end < 0) {
      if (bytes.length > MAX_HEADER_BYTES) throw new Error(`the age header is longer than ${MAX_HEADER_BYTES / 1024 / 1024} MiB`);
      return undefined;
    }
    const line = decoder.decode(bytes.subarray(start, end));
    lineNumber++;
    if (lineNumber === 1) {
      if (`${line}\n` !== AGE_MAGIC) throw new Error("not an age file");
    } else if (line.startsWith("-> ")) {
      stanzaTypes.push(line.slice(3).split(" ")[0] ?? "");
    } else if (line.startsWith("--- ")) {
      if (stanzaTypes.length === 0) throw new Error("the age header has no recipient stanza");
      return { length: end + 1, stanzaTypes };
    } else if (lineNumber === 2) {
      throw new Error("the age header has no recipient stanza");
    }
    start = end + 1;
    if (start > MAX_HEADER_BYTES) throw new Error(`the age header is longer than ${MAX_HEADER_BYTES / 1024 / 1024} MiB`);
  }
}

/** "2 X25519 recipients", "1 mlkem768x25519 recipient and 1 X25519 recipient". Types come from the file: odd ones are not echoed. */
export function describeStanzas(types: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) {
    const shown = /^[\w.\/-]{1,40}$/.test(type) ? type : "unknown";
    counts.set(shown, (counts.get(shown) ?? 0) + 1);
  }
  return [...counts].map(([type, n]) => `${n} ${type} recipient${n === 1 ? "" : "s"}`).join(" and ");
}
