// The parameter table (src/connection/parameters.ts) against libpq itself: PQconndefaults() of the installed libpq
// (the one psql uses) lists every keyword it knows and the environment variable it reads for it. Each must be in
// our table with the same variable, so no libpq parameter is ever "unknown" here, and every one we cannot honour
// must be refused in one line and listed in the README.
import { describe, expect, test } from "bun:test";
import { CString, dlopen, FFIType, read } from "bun:ffi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { envVariable, keywordFor, problemWith, refusals } from "../../src/connection/parameters.ts";

/** [keyword, PG* variable] for every option of the installed libpq. */
function libpqOptions(): Array<[string, string | null]> {
  const lib = dlopen("libpq.so.5", {
    PQconndefaults: { args: [], returns: FFIType.ptr },
    PQconninfoFree: { args: [FFIType.ptr], returns: FFIType.void },
  });
  const options = lib.symbols.PQconndefaults();
  if (!options) throw new Error("PQconndefaults returned NULL");
  // PQconninfoOption: six char* (keyword, envvar, compiled, val, label, dispchar) and an int: 56 bytes on 64-bit.
  const out: Array<[string, string | null]> = [];
  for (let offset = 0; ; offset += 56) {
    const keyword = read.ptr(options, offset);
    if (!keyword) break;
    const env = read.ptr(options, offset + 8);
    out.push([new CString(keyword).toString(), env ? new CString(env).toString() : null]);
  }
  lib.symbols.PQconninfoFree(options);
  return out;
}

describe("the installed libpq's parameters", () => {
  test("every keyword libpq knows is known here, with the variable libpq reads for it", () => {
    const options = libpqOptions();
    expect(options.length).toBeGreaterThan(30);
    expect(options.map(([keyword]) => keyword)).toContain("target_session_attrs");
    for (const [keyword, env] of options) {
      const ours = keywordFor(keyword);
      expect({ keyword, known: ours }).toEqual({ keyword, known: keyword as never });
      expect({ keyword, env: envVariable(ours!) ?? null }).toEqual({ keyword, env });
    }
  });
});

describe("refusals", () => {
  test("each is one problem sentence, and libpq's checks come first", () => {
    expect(problemWith("sslmode", "sometimes")).toBe('must be one of disable, allow, prefer, require, verify-ca, verify-full (got "sometimes")');
    expect(problemWith("gssencmode", "require")).toBe("not supported: netraven-db has no GSSAPI/Kerberos support");
    expect(problemWith("gssencmode", "never")).toMatch(/^must be one of disable, prefer, require/);
    expect(problemWith("sslpassword", "x y")).toBeUndefined();
    expect(problemWith("keepalives_idle", " 12 ")).toBeUndefined();
  });

  test("the README's table of refused parameters lists every one", () => {
    const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("| refused | why |"), readme.indexOf("A parameter libpq does not know is refused too"));
    for (const { keyword } of refusals()) expect({ keyword, listed: table.includes(keyword.startsWith("oauth_") ? "`oauth_*`" : `\`${keyword}`) }).toEqual({ keyword, listed: true });
  });
});
