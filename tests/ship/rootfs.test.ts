// The minimal-container proof: the binary runs `init` and `validate` inside a root file system that holds nothing
// but itself and the shared libraries its ELF loader lists, with an empty environment except DATABASE_URL (TCP to
// 127.0.0.1, reachable from a chroot). So nothing outside the binary is needed: no node_modules, no sql/, no Bun,
// no /etc, no shell. /proc is mounted inside the root because a container runtime mounts it too and the Bun
// runtime aborts without it (../shared/reference/findings.md). Needs root (chroot, mount): CI runs as root.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { requireBinary } from "../harness/binary.ts";
import { createTestDatabase } from "../harness/db.ts";
import { EXPECT_ALL, fileExists, optionalTool, useTool } from "../harness/tools.ts";

const TIMEOUT = 120_000;
const DIST = resolve(import.meta.dir, "..", "..", "dist");
const MUSL_BINARY = join(DIST, "netraven-db-linux-x64-musl");
const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
const IN_ROOT = "/usr/local/bin/netraven-db"; // where the Dockerfile puts it
const muslLoader = optionalTool(`the musl loader ${MUSL_LOADER}`, fileExists(MUSL_LOADER), "apt-get install -y musl");

interface Libraries {
  paths: string[];
  missing: string[];
}

/** Parses ldd-style output (glibc `ldd`, musl `ld-musl --list`): absolute paths to copy, and names not found. */
function parseLoaderList(text: string): Libraries {
  const paths = new Set<string>();
  const missing: string[] = [];
  for (const line of text.split("\n")) {
    const notFound = line.match(/^\s*(\S+) => not found/) ?? line.match(/Error loading shared library ([^:]+):/);
    if (notFound) {
      missing.push(notFound[1]!);
      continue;
    }
    const path = line.match(/=>\s*(\/\S+)/)?.[1] ?? line.match(/^\s*(\/\S+)\s*\(0x/)?.[1];
    if (path) paths.add(path);
  }
  return { paths: [...paths], missing };
}

function glibcLibraries(binary: string): Libraries {
  const result = spawnSync("ldd", [binary], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ldd ${binary} failed: ${result.stderr || result.stdout}`);
  return parseLoaderList(result.stdout);
}

function muslLibraries(binary: string): Libraries {
  const result = spawnSync(MUSL_LOADER, ["--list", binary], { encoding: "utf8" });
  return parseLoaderList(`${result.stdout}\n${result.stderr}`);
}

function readelf(args: string[], binary: string): string {
  const result = spawnSync("readelf", [...args, binary], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`readelf ${args.join(" ")} ${binary} failed: ${result.stderr}`);
  return result.stdout;
}

function interpreter(binary: string): string | undefined {
  return readelf(["-l", "-W"], binary).match(/Requesting program interpreter: ([^\]]+)\]/)?.[1];
}

function neededLibraries(binary: string): string[] {
  return [...readelf(["-d", "-W"], binary).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

function listFiles(root: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (path === skip) continue;
      if (entry.isDirectory()) walk(path);
      else out.push(`/${relative(root, path)}`);
    }
  };
  walk(root);
  return out.sort();
}

function isMounted(path: string): boolean {
  return readFileSync("/proc/self/mounts", "utf8").split("\n").some((line) => line.split(" ")[1] === path);
}

interface ChrootRun {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Builds ROOT = the binary at /usr/local/bin/netraven-db + `libraries` at their own paths + an empty /proc with proc
 * mounted on it, runs `body`, and always unmounts and removes ROOT (never removes it while proc is still mounted).
 */
async function withBareRoot<T>(binary: string, libraries: string[], body: (run: (args: string[], env: Record<string, string>) => ChrootRun, root: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), "netraven-rootfs-"));
  chmodSync(root, 0o755);
  const proc = join(root, "proc");
  try {
    for (const [from, to] of [[binary, IN_ROOT], ...libraries.map((lib) => [lib, lib])] as Array<[string, string]>) {
      mkdirSync(dirname(join(root, to)), { recursive: true });
      copyFileSync(from, join(root, to)); // follows symlinks: the loader path becomes a real file
      chmodSync(join(root, to), 0o755);
    }
    mkdirSync(proc);
    const mount = spawnSync("mount", ["-t", "proc", "proc", proc], { encoding: "utf8" });
    if (mount.status !== 0) throw new Error(`mount -t proc proc ${proc} failed (this test needs root): ${mount.stderr}`);
    const chroot = Bun.which("chroot") ?? Bun.which("chroot", { PATH: "/usr/sbin:/sbin:/usr/bin:/bin" });
    if (!chroot) throw new Error("chroot not found (coreutils)");
    const run = (args: string[], env: Record<string, string>): ChrootRun => {
      // `chroot` is the host's; the environment it passes on is exactly `env`, the working directory is /.
      const result = spawnSync(chroot, [root, IN_ROOT, ...args], { env, cwd: "/", encoding: "utf8", timeout: 60_000 });
      if (result.error) throw result.error;
      return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
    };
    return await body(run, root);
  } finally {
    if (isMounted(proc)) {
      if (spawnSync("umount", [proc]).status !== 0) spawnSync("umount", ["-l", proc]);
    }
    if (isMounted(proc)) throw new Error(`could not unmount ${proc}; left ${root} in place`);
    rmSync(root, { recursive: true, force: true });
  }
}

/** init, validate and --version inside the bare root, checked against the real database. */
async function proveBareRoot(binary: string, libraries: string[]): Promise<void> {
  const db = await createTestDatabase("nrt_rootfs");
  await withBareRoot(binary, libraries, async (run, root) => {
    // Nothing else is in there: the binary, the listed libraries, and the (mounted, not listed) /proc.
    expect(listFiles(root, join(root, "proc"))).toEqual([IN_ROOT, ...libraries].sort());
    expect(existsSync(join(root, "bin", "sh"))).toBe(false);

    const version = run(["--version"], {});
    expect(version.stderr).toBe("");
    expect(version.stdout).toStartWith("netraven-db ");
    expect(version.status).toBe(0);

    const env = { DATABASE_URL: db.url };
    const init = run(["init"], env);
    expect(init.stderr).toContain(`Created schema "netraven" in database "${db.name}"`);
    expect(init.status).toBe(0);
    expect(init.stdout + init.stderr).not.toContain(new URL(db.url).password);

    const validate = run(["validate"], env);
    expect(validate.stdout).toContain("Schema matches definitions");
    expect(validate.status).toBe(0);
  });
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from information_schema.tables where table_schema = 'netraven'`;
  expect(row!.n).toBe(14);
  const [version] = await db.sql<{ version: number }[]>`select max(version)::int as version from netraven.netraven_db_version`;
  expect(version!.version).toBe(1);
}

describe("bare root file system (chroot: the binary + its ldd libraries + /proc)", () => {
  test(
    "x64 glibc binary: init and validate with an empty environment except DATABASE_URL",
    async () => {
      const binary = requireBinary();
      expect(interpreter(binary)).toBe("/lib64/ld-linux-x86-64.so.2");
      const { paths, missing } = glibcLibraries(binary);
      expect(missing).toEqual([]);
      // Only the C library family: no libstdc++, no libssl, nothing that a slim image might lack.
      for (const path of paths) expect(path).toMatch(/\/(libc|libpthread|libdl|libm|ld-linux-x86-64)\.so\.\d+$/);
      console.log(`bare root for ${binary}: ${paths.join(", ")}`);
      await proveBareRoot(binary, paths);
    },
    TIMEOUT,
  );

  // The test's name carries what happened, so the JUnit report shows it too, not only a log line.
  const musl = muslSituation();
  test(
    `x64 musl binary: ${musl.title}`,
    async () => {
      if (musl.kind === "not-built") {
        // A plain `npm run build` makes only the host binary; `npm run build:all` (CI) makes the musl one too.
        if (EXPECT_ALL) throw new Error(`${MUSL_BINARY} is missing although NETRAVEN_DB_EXPECT_ALL_TARGETS=1: run npm run build:all`);
        console.warn(`musl: ${MUSL_BINARY} not built (npm run build:all builds it); only the glibc binary was proven`);
        expect(existsSync(join(DIST, "SHA256SUMS")) && readFileSync(join(DIST, "SHA256SUMS"), "utf8").includes("netraven-db-linux-x64-musl")).toBe(false);
        return;
      }
      // What the binary asks for, from its ELF header: the musl loader, musl's libc, and libstdc++ (Alpine's
      // libstdc++ package; Dockerfile.alpine installs it).
      expect(interpreter(MUSL_BINARY)).toBe(MUSL_LOADER);
      const needed = neededLibraries(MUSL_BINARY);
      expect(needed).toContain("libc.musl-x86_64.so.1");
      expect(needed.every((name) => ["libc.musl-x86_64.so.1", "libstdc++.so.6", "libgcc_s.so.1"].includes(name))).toBe(true);
      // Without the loader (Debian package musl) only the header is checked; CI installs it, so there this fails.
      if (musl.kind === "no-loader") useTool(muslLoader);
      if (musl.kind === "runnable") {
        console.log(`bare root for ${MUSL_BINARY}: ${musl.libraries.paths.join(", ")}`);
        await proveBareRoot(MUSL_BINARY, musl.libraries.paths);
        return;
      }
      if (musl.kind === "missing-libraries") {
        // Debian's `musl` package brings the loader and libc but no C++ runtime built against musl, and glibc's
        // libstdc++ cannot be loaded by musl (checked: unresolved __cxa_thread_atexit_impl, __libc_single_threaded).
        expect(musl.libraries.missing.every((name) => name === "libstdc++.so.6" || name === "libgcc_s.so.1")).toBe(true);
      }
      console.warn(`musl: ${musl.title}: interpreter ${MUSL_LOADER}, needs ${needed.join(", ")}`);
    },
    TIMEOUT,
  );
});

type MuslSituation =
  | { kind: "not-built"; title: string }
  | { kind: "no-loader"; title: string }
  | { kind: "missing-libraries"; title: string; libraries: Libraries }
  | { kind: "runnable"; title: string; libraries: Libraries };

function muslSituation(): MuslSituation {
  if (!existsSync(MUSL_BINARY)) return { kind: "not-built", title: "not built by this build (npm run build:all builds it)" };
  if (!existsSync(MUSL_LOADER)) {
    return { kind: "no-loader", title: `NOT RUN: ELF header checked instead${muslLoader.note}` };
  }
  const libraries = muslLibraries(MUSL_BINARY);
  if (libraries.missing.length > 0) {
    return {
      kind: "missing-libraries",
      libraries,
      title: `NOT RUN: the musl loader is here but ${libraries.missing.join(", ")} built for musl is not (Debian ships none; Alpine's libstdc++ package does, and Dockerfile.alpine installs it); ELF header checked instead`,
    };
  }
  return { kind: "runnable", libraries, title: "init and validate in a bare root with the musl loader and libraries" };
}

describe("bare root helpers", () => {
  test("parse glibc ldd and musl --list output, including missing libraries", () => {
    const glibc = parseLoaderList("\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n\tlibfoo.so.1 => not found\n");
    expect(glibc).toEqual({ paths: ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"], missing: ["libfoo.so.1"] });
    const musl = parseLoaderList(
      "\t/lib/ld-musl-x86_64.so.1 (0x7fa4)\nError loading shared library libstdc++.so.6: No such file or directory (needed by x)\n\tlibc.musl-x86_64.so.1 => /lib/ld-musl-x86_64.so.1 (0x7fa4)\nError relocating x: _Znwm: symbol not found\n",
    );
    expect(musl).toEqual({ paths: ["/lib/ld-musl-x86_64.so.1"], missing: ["libstdc++.so.6"] });
    expect(statSync(DIST).isDirectory()).toBe(true);
  });
});
