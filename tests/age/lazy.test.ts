// Start-up stays cheap: the age library (and its @noble/* and post-quantum code, ~80-120 ms to parse from the
// sources) is loaded only when something encrypts or decrypts. Bundled the way build/compile.ts bundles (ESM,
// --splitting), an entry that imports every src/age module must keep the library out of its own chunk.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "netraven-age-lazy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("an entry importing every src/age module keeps age-encryption in a chunk of its own, loaded on first use", () => {
  const modules = readdirSync(join(ROOT, "src", "age")).filter((name) => name.endsWith(".ts"));
  expect(modules.length).toBeGreaterThanOrEqual(6);
  const entry = join(dir, "entry.ts");
  writeFileSync(entry, `${modules.map((name, i) => `import * as m${i} from ${JSON.stringify(join(ROOT, "src", "age", name))};`).join("\n")}\nconsole.log(${modules.map((_, i) => `m${i}`).join(", ")});\n`);
  const out = join(dir, "out");
  const build = spawnSync(process.execPath, ["build", entry, "--format=esm", "--splitting", "--minify", "--target=bun", "--outdir", out], { cwd: ROOT, encoding: "utf8" });
  expect({ status: build.status, stderr: build.stderr }).toEqual({ status: 0, stderr: "" });

  // A string only the library holds (the X25519 stanza label), and one only our modules hold.
  const LIBRARY_MARK = "age-encryption.org/v1/X25519";
  const OUR_MARK = "other users can access this secret key file";
  const files = readdirSync(out).filter((name) => name.endsWith(".js"));
  const entryChunk = readFileSync(join(out, "entry.js"), "utf8");
  expect(entryChunk).toContain(OUR_MARK);
  expect(entryChunk).not.toContain(LIBRARY_MARK);
  expect(entryChunk).not.toContain("mlkem768x25519");
  const libraryChunks = files.filter((name) => name !== "entry.js" && readFileSync(join(out, name), "utf8").includes(LIBRARY_MARK));
  expect(libraryChunks.length).toBe(1);
  expect(entryChunk).toContain(libraryChunks[0]!); // the entry names the chunk for its dynamic import
});
