// Passwords never reach output: redactUrl masks password-shaped text without knowing the value, scrub also masks
// every registered secret (raw, URL-encoded, JSON-escaped). The registry is process-wide, so every test registers
// values of its own that no other test uses.
import { describe, expect, test } from "bun:test";
import { redactUrl, registerSecret, scrub } from "../src/secrets.ts";

describe("redactUrl", () => {
  test("masks the password of a URL and keeps user, host and database", () => {
    expect(redactUrl("postgresql://netraven:hunter2@db:5432/netraven")).toBe("postgresql://netraven:****@db:5432/netraven");
    expect(redactUrl("postgres://u:pw@h/db")).toBe("postgres://u:****@h/db");
  });

  test("scheme in any case, URL inside a sentence", () => {
    expect(redactUrl('could not connect to "POSTGRESQL://app:abc123@10.0.0.5/app": refused')).toBe('could not connect to "POSTGRESQL://app:****@10.0.0.5/app": refused');
  });

  test("a password without a user", () => {
    expect(redactUrl("postgresql://:abc123@h/db")).toBe("postgresql://:****@h/db");
  });

  test("percent-encoded passwords are masked whole", () => {
    expect(redactUrl("postgresql://u:p%40ss%3Aw@h/db")).toBe("postgresql://u:****@h/db");
  });

  test("a raw @ inside the password is masked up to the @ that ends the user part", () => {
    // conninfo.ts takes the last @ before the path as the separator, so `p@ss` is the password here.
    const text = redactUrl("postgresql://u:p@ss@host/db");
    expect(text).toBe("postgresql://u:****@host/db");
    expect(text).not.toContain("ss");
  });

  test("an @ after the path is not taken for the separator", () => {
    expect(redactUrl("postgresql://u:pw@host/db?application_name=a@b")).toBe("postgresql://u:****@host/db?application_name=a@b");
  });

  test("every URL in the text", () => {
    expect(redactUrl("postgresql://a:one@h1/x and postgresql://b:two@h2/y")).toBe("postgresql://a:****@h1/x and postgresql://b:****@h2/y");
  });

  test("URLs without a password are left alone", () => {
    for (const text of ["postgresql://u@h:5432/db", "postgresql://h:5432/db", "postgresql:///db?host=/var/run/postgresql"]) {
      expect(redactUrl(text)).toBe(text);
    }
  });

  test("?password= in a URL query", () => {
    expect(redactUrl("postgresql://u@h/db?password=s3cret&sslmode=require")).toBe("postgresql://u@h/db?password=****&sslmode=require");
  });

  test("password= in keyword/value strings, plain or quoted", () => {
    expect(redactUrl("host=h password=s3cret dbname=d")).toBe("host=h password=**** dbname=d");
    expect(redactUrl("host=h password = 's3 cret' dbname=d")).toBe("host=h password = **** dbname=d");
    expect(redactUrl(String.raw`password='it\'s secret' user=u`)).toBe("password=**** user=u");
    expect(redactUrl("PASSWORD=abc")).toBe("PASSWORD=****");
  });

  test("the word password in prose is not a password", () => {
    const text = 'password authentication failed for user "netraven"';
    expect(redactUrl(text)).toBe(text);
  });
});

describe("scrub", () => {
  test("masks a registered secret wherever it appears", () => {
    registerSecret("Tr0ub4dor&3");
    expect(scrub("auth failed with Tr0ub4dor&3 twice: Tr0ub4dor&3")).toBe("auth failed with **** twice: ****");
  });

  test("masks the URL-encoded form of a registered secret", () => {
    registerSecret("p@ss w/rd:1");
    expect(encodeURIComponent("p@ss w/rd:1")).toBe("p%40ss%20w%2Frd%3A1");
    expect(scrub("retrying with p%40ss%20w%2Frd%3A1 now")).toBe("retrying with **** now");
    expect(scrub("raw p@ss w/rd:1 too")).toBe("raw **** too");
  });

  test("masks a secret as it appears inside serialised JSON", () => {
    registerSecret('q"uo\\te');
    const json = JSON.stringify({ message: 'server said q"uo\\te' });
    expect(json).toContain('q\\"uo\\\\te');
    expect(scrub(json)).toBe(JSON.stringify({ message: "server said ****" }));
  });

  test("a secret that contains another registered secret is masked whole", () => {
    registerSecret("short-pw");
    registerSecret("short-pw-but-longer");
    const text = scrub("admin=short-pw-but-longer db=short-pw");
    expect(text).toBe("admin=**** db=****");
    expect(text).not.toContain("but-longer");
  });

  test("also redacts URL passwords that were never registered", () => {
    expect(scrub("postgresql://u:never-registered-9@h/db")).toBe("postgresql://u:****@h/db");
  });

  test("values shorter than 3 characters are not registered (they would mask every such letter)", () => {
    registerSecret("x");
    registerSecret("zq");
    registerSecret("");
    registerSecret(undefined);
    expect(scrub("xylophone zq zebra")).toBe("xylophone zq zebra");
  });

  test("exactly 3 characters is enough to be registered", () => {
    registerSecret("kqv");
    expect(scrub("a kqv b")).toBe("a **** b");
  });

  test("text without secrets passes through unchanged", () => {
    const text = "Created schema netraven (13 tables, 31 indexes)";
    expect(scrub(text)).toBe(text);
  });
});
