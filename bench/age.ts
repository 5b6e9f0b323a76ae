// age encryption throughput: our stream stages (src/age/) against the reference age CLI (Go), on the same random
// file (random bytes stand in for compressed backup data, which is what gets encrypted). Each side runs as its own
// process under GNU time, file to file; wall time and peak RSS are the median of --reps runs, in alternating order.
// Not part of bench/run.ts yet (no command encrypts until the backup pipeline is wired); numbers go into the notes.
//
//   bun bench/age.ts [--mib 512] [--reps 3] [--deno]     (--deno adds rows for the same stages under Deno)
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createReadStream, createWriteStream, mkdtempSync, openSync, closeSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";

const ROOT = resolve(import.meta.dirname ?? ".", "..");
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

if (args[0] === "--child") {
  // The measured side of ours: one stage between two files, as the backup and restore pipelines will run it.
  const [, mode, input, output, key] = args;
  const { encryptStream } = await import("../src/age/encrypt.ts");
  const { decryptStream } = await import("../src/age/decrypt.ts");
  const { readIdentityFile } = await import("../src/age/identities.ts");
  const { parseRecipients, recipientsFromValues } = await import("../src/age/recipients.ts");
  const stage = mode === "encrypt" ? encryptStream(await parseRecipients(recipientsFromValues([key!]))) : decryptStream(await readIdentityFile(key!));
  await pipeline(createReadStream(input!, { highWaterMark: 256 * 1024 }), stage, createWriteStream(output!));
  process.exit(0);
}

const mib = option("--mib", 512);
const reps = option("--reps", 3);
const withDeno = args.includes("--deno");
const work = mkdtempSync(join(tmpdir(), "netraven-bench-age-"));

interface Sample {
  seconds: number;
  peakMiB: number;
}

function timed(argv: string[]): Sample {
  const result = spawnSync("/usr/bin/time", ["-f", "%e %M", ...argv], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return { seconds: seconds!, peakMiB: kib! / 1024 };
}

function same(a: string, b: string): void {
  if (spawnSync("cmp", ["-s", a, b]).status !== 0) throw new Error(`${a} and ${b} differ`);
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

try {
  const keyFile = join(work, "key.txt");
  spawnSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
  chmodSync(keyFile, 0o600);
  const publicKey = spawnSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).stdout.trim();
  if (!publicKey.startsWith("age1")) throw new Error("age-keygen is missing: apt-get install -y age");

  const plain = join(work, "plain.bin");
  const fd = openSync(plain, "w");
  for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(1024 * 1024));
  closeSync(fd);
  const cipher = join(work, "cipher.age");
  spawnSync("age", ["-r", publicKey, "-o", cipher, plain]);

  const bun = process.execPath;
  const deno = join(ROOT, "node_modules", ".bin", "deno");
  const self = join(ROOT, "bench", "age.ts");
  const sides: Array<{ name: string; encrypt: string[]; decrypt: string[] }> = [
    { name: "age CLI 1.1.1 (Go)", encrypt: ["age", "-r", publicKey, "-o", join(work, "out.age"), plain], decrypt: ["age", "-d", "-i", keyFile, "-o", join(work, "out.bin"), cipher] },
    { name: "netraven-db (Bun)", encrypt: [bun, self, "--child", "encrypt", plain, join(work, "out.age"), publicKey], decrypt: [bun, self, "--child", "decrypt", cipher, join(work, "out.bin"), keyFile] },
  ];
  if (withDeno) {
    sides.push({
      name: "netraven-db (Deno)",
      encrypt: [deno, "run", "-A", self, "--child", "encrypt", plain, join(work, "out.age"), publicKey],
      decrypt: [deno, "run", "-A", self, "--child", "decrypt", cipher, join(work, "out.bin"), keyFile],
    });
  }

  const results = new Map<string, { encrypt: Sample[]; decrypt: Sample[] }>(sides.map((s) => [s.name, { encrypt: [], decrypt: [] }]));
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      rmSync(join(work, "out.age"), { force: true });
      results.get(side.name)!.encrypt.push(timed(side.encrypt));
      // Ours must decrypt with age, and age's with ours: a fast wrong answer is no answer.
      const check = spawnSync("age", ["-d", "-i", keyFile, "-o", join(work, "check.bin"), join(work, "out.age")]);
      if (check.status !== 0) throw new Error(`${side.name}: age -d refused the encrypted file`);
      same(join(work, "check.bin"), plain);
      rmSync(join(work, "out.bin"), { force: true });
      results.get(side.name)!.decrypt.push(timed(side.decrypt));
      same(join(work, "out.bin"), plain);
    }
  }

  const mb = (mib * 1024 * 1024) / 1e6;
  console.log(`\n${mib} MiB of random bytes, file to file, median of ${reps} (2 cores shared; load average ${spawnSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).stdout.split(" ").slice(0, 3).join(" ")}):\n`);
  console.log("| side | encrypt | decrypt | peak RSS encrypt / decrypt |");
  console.log("|---|---|---|---|");
  for (const [name, { encrypt, decrypt }] of results) {
    const e = median(encrypt.map((s) => s.seconds));
    const d = median(decrypt.map((s) => s.seconds));
    const rss = `${median(encrypt.map((s) => s.peakMiB)).toFixed(0)} / ${median(decrypt.map((s) => s.peakMiB)).toFixed(0)} MiB`;
    console.log(`| ${name} | ${(mb / e).toFixed(0)} MB/s (${e.toFixed(2)} s) | ${(mb / d).toFixed(0)} MB/s (${d.toFixed(2)} s) | ${rss} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
