// The SHA-256 and byte count of a stream of bytes: what a manifest records and what verify and restore compare.
// One implementation, so "the checksum" means the same thing wherever it is computed.
import { createHash, type Hash } from "node:crypto";

export interface Digest {
  sha256: string;
  size: number;
}

/** Feed it chunks in order; `digest()` once at the end. */
export class Sha256Counter {
  private readonly hash: Hash = createHash("sha256");
  size = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  digest(): Digest {
    return { sha256: this.hash.digest("hex"), size: this.size };
  }
}

export async function digestStream(source: AsyncIterable<Uint8Array>): Promise<Digest> {
  const counter = new Sha256Counter();
  for await (const chunk of source) counter.update(chunk);
  return counter.digest();
}
