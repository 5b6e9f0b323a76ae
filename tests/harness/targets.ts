// How each release build from `npm run build:all` runs on this machine: natively when it is the host's CPU,
// under qemu-user when Debian packages an emulator and the target's loader and C library (qemu-user-static +
// libc6-<arch>-cross, installed by .ci/run), or not at all. The musl builds never run here: Debian's `musl` package
// has the loader and libc but no libstdc++ built for musl, which Bun's runtime needs (tests/ship/rootfs.test.ts).
import { join, resolve } from "node:path";
import { fileExists, optionalTool, type OptionalTool } from "./tools.ts";

export const DIST = resolve(import.meta.dir, "..", "..", "dist");

export type Variant = "linux-x64" | "linux-x64-baseline" | "linux-arm64" | "linux-x64-musl" | "linux-arm64-musl";

export interface Runner {
  variant: Variant;
  binary: string;
  /** "native", or the emulator that runs it. */
  how: string;
  /** The argv prefix for runBinary's `command`: the binary itself, or the emulator, its options and the binary. */
  command: string[];
  /** What must be installed for `command` to work (none for a native run). */
  tools: OptionalTool[];
}

/** Debian's user-mode emulators and the cross C libraries they load the guest's libc from (`-L`). */
const EMULATORS: Record<string, { qemu: string; sysroot: string; loader: string; libc: string }> = {
  arm64: { qemu: "qemu-aarch64-static", sysroot: "/usr/aarch64-linux-gnu", loader: "lib/ld-linux-aarch64.so.1", libc: "libc6-arm64-cross" },
  x64: { qemu: "qemu-x86_64-static", sysroot: "/usr/x86_64-linux-gnu", loader: "lib/ld-linux-x86-64.so.2", libc: "libc6-amd64-cross" },
};

const archOf = (variant: Variant) => (variant.startsWith("linux-arm64") ? "arm64" : "x64");

/** How `variant` runs here, or undefined when it cannot (a musl build, or a CPU nothing here emulates). */
export function runnerFor(variant: Variant): Runner | undefined {
  if (variant.endsWith("-musl")) return undefined;
  const binary = join(DIST, `netraven-db-${variant}`);
  const arch = archOf(variant);
  if (arch === process.arch) return { variant, binary, how: "native", command: [binary], tools: [] };
  const emulator = EMULATORS[arch];
  if (!emulator) return undefined;
  const qemuPath = ["/usr/bin", "/usr/local/bin"].map((dir) => join(dir, emulator.qemu)).find(fileExists) ?? emulator.qemu;
  return {
    variant,
    binary,
    how: emulator.qemu,
    command: [qemuPath, "-L", emulator.sysroot, binary],
    tools: [
      optionalTool(emulator.qemu, fileExists(qemuPath), "apt-get install -y qemu-user-static"),
      optionalTool(`the ${arch} C library (${join(emulator.sysroot, emulator.loader)})`, fileExists(join(emulator.sysroot, emulator.loader)), `apt-get install -y ${emulator.libc}`),
    ],
  };
}
