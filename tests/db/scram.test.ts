// Password authentication through the compiled binary, whose postgres.js computes SCRAM-SHA-256 with the runtime's
// built-in crypto (WebCrypto PBKDF2, Bun.CryptoHasher) and md5 with Bun.CryptoHasher (build/patch-postgres.mjs).
// Each method is tried over both connection paths: init connects over Bun's own socket (native-socket.ts), backup
// over node:net. A right password connects; a wrong one fails at once with exit 5, as psql does.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runBinary } from "../harness/binary.ts";
import { tempDir, testCluster } from "../harness/cleanup.ts";
import type { Cluster } from "../harness/cluster.ts";
import { psql } from "../harness/db.ts";

let cluster: Cluster;
let dir: string;
// Long, non-ASCII and with characters URLs escape: the password reaches PBKDF2 as UTF-8, as libpq sends it.
const PASSWORDS = { scramuser: "sçram pässwörd/with:colons@and%percent-and-a-long-tail-0123456789", md5user: "md5 pässwörd:@%/ 42" };

beforeAll(async () => {
  cluster = await testCluster({ hba: ["host all md5user 127.0.0.1/32 md5", "host all scramuser 127.0.0.1/32 scram-sha-256"] });
  dir = tempDir("scram-test");
  const sql = [
    "set password_encryption = 'md5'",
    `create role md5user login superuser password '${PASSWORDS.md5user}'`,
    "set password_encryption = 'scram-sha-256'",
    `create role scramuser login superuser password '${PASSWORDS.scramuser}'`,
  ];
  psql(cluster.url(), [], `${sql.join(";\n")};\n`);
});

const url = (user: string) => `postgresql://${user}@127.0.0.1:${cluster.port}/postgres?sslmode=disable`;

describe.each([
  ["SCRAM-SHA-256", "scramuser"],
  ["md5", "md5user"],
] as const)("%s", (_method, user) => {
  const password = PASSWORDS[user];

  test("the stored verifier is the method's own, so the server really asks for it", async () => {
    const stored = psql(cluster.url(), ["-Atc", `select left(rolpassword, 7) from pg_authid where rolname = '${user}'`]).trim();
    expect(stored.startsWith(user === "md5user" ? "md5" : "SCRAM-SHA-256".slice(0, 7))).toBe(true);
  });

  test("init (Bun's own socket) logs in with the right password", async () => {
    // A real init: the backup below needs the tables.
    const run = await runBinary(["init", "--url", url(user)], { env: { PGPASSWORD: password }, timeoutMs: 60_000 });
    expect({ status: run.status, errors: run.stderr.split("\n").filter((l) => l.includes("error:")) }).toEqual({ status: 0, errors: [] });
  });

  test("backup (node:net) logs in with the right password", async () => {
    mkdirSync(join(dir, user));
    const run = await runBinary(["backup", "--dir", join(dir, user), "--url", url(user), "-q"], { env: { PGPASSWORD: password }, timeoutMs: 120_000 });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  });

  test.each(["init", "backup"])("%s with a wrong password fails at once with exit 5", async (command) => {
    mkdirSync(join(dir, `${user}-${command}`));
    const args = command === "init" ? ["init", "--dry-run"] : ["backup", "--dir", join(dir, `${user}-${command}`)];
    const run = await runBinary([...args, "--url", url(user), "--retry", "5"], { env: { PGPASSWORD: `${password}x` }, timeoutMs: 60_000 });
    expect(run.status).toBe(5);
    expect(run.stderr).toMatch(/password authentication failed/);
    expect(run.stderr).not.toContain(password);
  });
});
