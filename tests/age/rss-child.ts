// Child process of memory.test.ts (also usable by hand: bun tests/age/rss-child.ts MIB IDENTITY_FILE PUBLIC_KEY):
// generates MIB MiB, encrypts and decrypts it in one streaming pipeline (both stages run at once, as a restore
// from an encrypted backup would), hashes what goes in and what comes out, and samples the process's RSS every
// 32 MiB. Prints one JSON line on stdout.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { decryptStream } from "../../src/age/decrypt.ts";
import { encryptStream } from "../../src/age/encrypt.ts";
import { readIdentityFile } from "../../src/age/identities.ts";
import { parseRecipients, recipientsFromValues } from "../../src/age/recipients.ts";

const [mibArg, identityFile, publicKey] = process.argv.slice(2);
const total = Number(mibArg) * 1024 * 1024;
const CHUNK = 256 * 1024;

function status(field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return Number(match![1]) / 1024; // MiB
}

const block = randomBytes(CHUNK);
const inputHash = createHash("sha256");
async function* generate(): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < total; offset += CHUNK) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, total - offset));
    block.copy(chunk, 0, 0, chunk.length);
    chunk.writeDoubleLE(offset, 0); // every chunk differs
    inputHash.update(chunk);
    yield chunk;
  }
}

let cipherBytes = 0;
async function* countCiphertext(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    cipherBytes += chunk.length;
    yield chunk;
  }
}

const recipients = await parseRecipients(recipientsFromValues([publicKey!]));
const identities = await readIdentityFile(identityFile!);
const outputHash = createHash("sha256");
const samples: Array<{ mib: number; rssMiB: number }> = [];
const startRss = status("VmRSS");
const started = performance.now();
let out = 0;
let nextSample = 32 * 1024 * 1024;
for await (const chunk of decryptStream(identities)(countCiphertext(encryptStream(recipients)(generate())))) {
  outputHash.update(chunk);
  out += chunk.length;
  if (out >= nextSample) {
    samples.push({ mib: Math.round(out / 1024 / 1024), rssMiB: Math.round(status("VmRSS")) });
    nextSample += 32 * 1024 * 1024;
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    bytes: out,
    cipherBytes,
    inputSha256: inputHash.digest("hex"),
    outputSha256: outputHash.digest("hex"),
    startRssMiB: Math.round(startRss),
    peakRssMiB: Math.round(status("VmHWM")),
    samples,
    seconds: Number(seconds.toFixed(2)),
  }),
);
