// TLS parameters through the compiled binary and through psql, against a server whose certificate is signed by a
// test CA and that asks for client certificates (ssl_ca_file) and requires one for `certuser` (pg_hba `cert`):
// sslcrl, sslcrldir, sslpassword with an encrypted client key, sslcertmode, key file permissions, and libpq's
// default files in ~/.postgresql (root.crt, root.crl, postgresql.crt/.key; sslmode=require with a root.crt behaves
// as verify-ca). Where psql connects, the binary connects; where psql fails, the binary fails with one line.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBinary } from "../harness/binary.ts";
import { createCluster, type Cluster } from "../harness/cluster.ts";
import { psqlSession } from "../harness/session.ts";

let root: string;
let cluster: Cluster;
const pki: Record<string, string> = {};
const KEY_PASSWORD = "client-key-pass-8831";

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: "pipe" });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "netraven-tls-test-"));
  const ca = join(root, "ca");
  mkdirSync(ca);
  writeFileSync(join(ca, "ca.cnf"), "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n");
  writeFileSync(join(ca, "index.txt"), "");
  writeFileSync(join(ca, "crlnumber"), "01\n");
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=netraven test CA", "-keyout", "ca.key", "-out", "ca.crt"], ca);
  openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=another CA", "-keyout", "other.key", "-out", "other.crt"], ca);
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", "server.key", "-out", "server.csr"], ca);
  openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-copy_extensions", "copy", "-out", "server.crt"], ca);
  openssl(["genrsa", "-aes256", "-passout", `pass:${KEY_PASSWORD}`, "-out", "client.key", "2048"], ca);
  openssl(["req", "-new", "-key", "client.key", "-passin", `pass:${KEY_PASSWORD}`, "-subj", "/CN=certuser", "-out", "client.csr"], ca);
  openssl(["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", "client.crt"], ca);
  openssl(["ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "empty.crl"], ca);
  openssl(["ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-revoke", "server.crt"], ca);
  openssl(["ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "revoked.crl"], ca);
  for (const name of ["ca.crt", "other.crt", "server.crt", "server.key", "client.crt", "client.key", "empty.crl", "revoked.crl"]) pki[name] = join(ca, name);
  chmodSync(pki["client.key"]!, 0o600);
  // libpq's sslcrldir is an OpenSSL hashed directory: <issuer hash>.r0
  const hash = execFileSync("openssl", ["crl", "-hash", "-noout", "-in", pki["revoked.crl"]!], { encoding: "utf8" }).trim();
  for (const [dir, crl] of [["crl-revoked", "revoked.crl"], ["crl-empty", "empty.crl"]] as const) {
    mkdirSync(join(root, dir));
    copyFileSync(pki[crl]!, join(root, dir, `${hash}.r0`));
    pki[dir] = join(root, dir);
  }
  cluster = await createCluster({
    tls: true,
    certificate: { cert: pki["server.crt"]!, key: pki["server.key"]!, ca: pki["ca.crt"]! },
    hba: ["hostssl all certuser 127.0.0.1/32 cert"],
  });
  execFileSync("psql", ["-X", "-q", "-c", "create role certuser login", cluster.url("postgres")], { stdio: "pipe" });
});

afterAll(() => {
  cluster?.destroy();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A HOME of its own, optionally with libpq's default files in ~/.postgresql. */
function home(files: Record<string, string> = {}, keyMode = 0o600): string {
  const dir = mkdtempSync(join(root, "home-"));
  if (Object.keys(files).length) mkdirSync(join(dir, ".postgresql"));
  for (const [name, source] of Object.entries(files)) {
    copyFileSync(source, join(dir, ".postgresql", name));
    if (name.endsWith(".key")) chmodSync(join(dir, ".postgresql", name), keyMode);
  }
  return dir;
}

const base = (extra: string, user = "postgres") => `host=localhost port=${cluster.port} dbname=postgres user=${user} ${extra}`;

/** The binary and psql for the same string: both connect, or both fail (the binary in one line, exit `status`). */
async function same(conninfo: string, env: Record<string, string>, outcome: { ok: true } | { status: number; message: RegExp }) {
  const full = { PGPASSWORD: cluster.password, ...env };
  const psql = await psqlSession(conninfo, full);
  const run = await runBinary(["init", "--dry-run", "--url", conninfo], { env: full, timeoutMs: 60_000 });
  if ("ok" in outcome) {
    expect({ psql: psql.status, psqlError: psql.stderr }).toEqual({ psql: 0, psqlError: "" });
    expect({ ours: run.status, errors: run.stderr.split("\n").filter((l) => l.includes("error:")) }).toEqual({ ours: 0, errors: [] });
  } else {
    expect(psql.status).not.toBe(0);
    expect(run.status).toBe(outcome.status);
    const errors = run.stderr.split("\n").filter((l) => l.includes("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(outcome.message);
  }
  return run;
}

describe("certificate revocation lists", () => {
  test("sslcrl: an empty list connects, a list revoking the server's certificate does not (exit 5)", async () => {
    const env = { HOME: home() };
    await same(base(`sslmode=verify-ca sslrootcert=${pki["ca.crt"]} sslcrl=${pki["empty.crl"]}`), env, { ok: true });
    await same(base(`sslmode=verify-ca sslrootcert=${pki["ca.crt"]} sslcrl=${pki["revoked.crl"]}`), env, { status: 5, message: /^netraven-db: error: TLS failed with postgres@localhost:\d+\/postgres \(sslmode=verify-ca\): .*revoked/ });
  });

  test("sslcrldir: a hashed directory, as OpenSSL reads it", async () => {
    const env = { HOME: home() };
    await same(base(`sslmode=verify-full sslrootcert=${pki["ca.crt"]} sslcrldir=${pki["crl-empty"]}`), env, { ok: true });
    await same(base(`sslmode=verify-full sslrootcert=${pki["ca.crt"]} sslcrldir=${pki["crl-revoked"]}`), env, { status: 5, message: /revoked/ });
  });

  test("~/.postgresql/root.crl is used without sslcrl", async () => {
    await same(base("sslmode=verify-ca"), { HOME: home({ "root.crt": pki["ca.crt"]!, "root.crl": pki["revoked.crl"]! }) }, { status: 5, message: /revoked/ });
    await same(base("sslmode=verify-ca"), { HOME: home({ "root.crt": pki["ca.crt"]! }) }, { ok: true });
  });
});

describe("libpq's default root certificate", () => {
  test("~/.postgresql/root.crt is the CA for verify-full when sslrootcert is not given", async () => {
    await same(base("sslmode=verify-full"), { HOME: home({ "root.crt": pki["ca.crt"]! }) }, { ok: true });
  });

  test("sslmode=require with a root.crt checks the certificate against it (libpq: require behaves as verify-ca then)", async () => {
    await same(base("sslmode=require"), { HOME: home({ "root.crt": pki["other.crt"]! }) }, { status: 5, message: /^netraven-db: error: TLS failed with .*\(sslmode=require\)/ });
    await same(base("sslmode=require"), { HOME: home() }, { ok: true });
  });
});

describe("client certificates", () => {
  test("sslcert + sslkey + sslpassword: the encrypted key is unlocked and the server's cert authentication accepts it", async () => {
    await same(base(`sslmode=require sslcert=${pki["client.crt"]} sslkey=${pki["client.key"]} sslpassword=${KEY_PASSWORD}`, "certuser"), { HOME: home() }, { ok: true });
  });

  test("the default ~/.postgresql/postgresql.crt and postgresql.key, with sslpassword", async () => {
    await same(base(`sslmode=require sslpassword=${KEY_PASSWORD}`, "certuser"), { HOME: home({ "postgresql.crt": pki["client.crt"]!, "postgresql.key": pki["client.key"]! }) }, { ok: true });
  });

  test("a wrong sslpassword, or none for an encrypted key: one line before connecting (exit 3), never the password", async () => {
    const wrong = await same(base(`sslmode=require sslcert=${pki["client.crt"]} sslkey=${pki["client.key"]} sslpassword=not-the-key-pass`, "certuser"), { HOME: home() }, {
      status: 3,
      message: /^netraven-db: error: sslkey: cannot decrypt the private key .*client\.key with sslpassword \(wrong password\?\)$/,
    });
    expect(wrong.stderr).not.toContain("not-the-key-pass");
    await same(base(`sslmode=require sslcert=${pki["client.crt"]} sslkey=${pki["client.key"]}`, "certuser"), { HOME: home() }, {
      status: 3,
      message: /^netraven-db: error: sslkey: private key .*client\.key is encrypted: give its password with sslpassword$/,
    });
  });

  test("a private key others can read is refused, as libpq refuses it", async () => {
    await same(base(`sslmode=require sslpassword=${KEY_PASSWORD}`, "certuser"), { HOME: home({ "postgresql.crt": pki["client.crt"]!, "postgresql.key": pki["client.key"]! }, 0o644) }, {
      status: 3,
      message: /^netraven-db: error: sslkey: private key file .*postgresql\.key has group or world access; it must be 0600 or less/,
    });
  });

  test("sslcertmode=disable keeps the certificate back, so cert authentication refuses the user (exit 5)", async () => {
    // psql 15 does not know sslcertmode (libpq 16): the binary alone.
    const run = await runBinary(["init", "--dry-run", "--url", base(`sslmode=require sslcert=${pki["client.crt"]} sslkey=${pki["client.key"]} sslpassword=${KEY_PASSWORD} sslcertmode=disable`, "certuser")], {
      env: { HOME: home() },
    });
    expect(run.status).toBe(5);
    expect(run.stderr).toMatch(/error: the server refused user "certuser" at certuser@localhost:\d+\/postgres: /);
  });
});
