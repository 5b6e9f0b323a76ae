// The reference age tools (Debian package `age`: age, age-keygen), which prove that what netraven-db writes is
// ordinary age and that it reads what age writes. They are required: .ci/run installs them, and a missing tool is
// a failure with the install command, never a skipped test.
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface AgeKey {
  /** An identity file written by age-keygen, mode 0600. */
  identityFile: string;
  publicKey: string;
  secretKey: string;
}

/** Throws (fails the test) when age or age-keygen is not installed. */
export function requireAgeCli(): void {
  for (const tool of ["age", "age-keygen"]) {
    const found = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (found.error || found.status !== 0) {
      throw new Error(`the reference tool ${tool} is not installed (needed for the age interoperability tests): apt-get install -y age`);
    }
  }
}

/** A new key pair from age-keygen, in `dir/name`. */
export function ageKeygen(dir: string, name = "key.txt"): AgeKey {
  const identityFile = join(dir, name);
  const made = spawnSync("age-keygen", ["-o", identityFile], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`age-keygen failed: ${made.stderr}`);
  chmodSync(identityFile, 0o600);
  const publicKey = spawnSync("age-keygen", ["-y", identityFile], { encoding: "utf8" }).stdout.trim();
  const secretKey = readFileSync(identityFile, "utf8").split("\n").find((line) => line.startsWith("AGE-SECRET-KEY-1"))!;
  if (!publicKey.startsWith("age1") || !secretKey) throw new Error("age-keygen wrote no key");
  return { identityFile, publicKey, secretKey };
}

export interface AgeRun {
  status: number | null;
  stderr: string;
}

/** Runs `age ARGS` (files in, files out: large data never passes through a pipe buffer of ours). */
export function runAge(args: string[]): AgeRun {
  const result = spawnSync("age", args, { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stderr: result.stderr };
}

/** `age -d -i IDENTITY IN`: the plaintext, failing the test when age fails. */
export function ageDecrypt(identityFile: string, input: string): Buffer {
  const result = spawnSync("age", ["-d", "-i", identityFile, input], { maxBuffer: 1024 * 1024 * 1024, timeout: 120_000 });
  if (result.status !== 0) throw new Error(`age -d failed (exit ${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** `age -r R1 -r R2 ... -o OUT IN` (plus `-a` for armor). */
export function ageEncryptFile(recipients: string[], input: string, output: string, armor = false): void {
  const run = runAge([...(armor ? ["-a"] : []), ...recipients.flatMap((r) => ["-r", r]), "-o", output, input]);
  if (run.status !== 0) throw new Error(`age -r failed (exit ${run.status}): ${run.stderr}`);
}

export function writeBytes(path: string, bytes: Uint8Array): string {
  writeFileSync(path, bytes);
  return path;
}
