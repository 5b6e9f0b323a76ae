// Dockerfile, Dockerfile.alpine, .dockerignore and docker-compose.example.yml, checked without a Docker engine:
// a Dockerfile linter (dockerfile-utils from the npm registry; hadolint is on neither npm nor Debian), the Compose
// validator when one is installed (Debian's docker-compose, or the docker compose plugin), cross-checks against the
// repository (every COPY source exists and is in the build context, every npm script exists, the stage names
// match), and the commands the Compose file runs (db-init, the backup loop, its health check, the admin command
// its header and docs/deployment.md show), run for real against the test server with the Compose file's own
// environment, through the entrypoint the service really has: its own `entrypoint:` or else the image's, the
// official postgres image's docker-entrypoint.sh (vendored in tests/fixtures/postgres-image/).
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ageKeygen, requireAgeCli } from "../harness/age-cli.ts";
import { requireBinary } from "../harness/binary.ts";
import { createTestDatabase, testServer } from "../harness/db.ts";
import { commandWorks, EXPECT_ALL, optionalTool, useTool } from "../harness/tools.ts";
import { fencedBlocks, isShellBlock, shellCommands, shellWords } from "../harness/markdown.ts";
import { rgw } from "../harness/rgw.ts";

const TIMEOUT = 180_000;
const ROOT = resolve(import.meta.dir, "..", "..");
const DOCKERFILES = { debian: "Dockerfile", alpine: "Dockerfile.alpine" } as const;
const COMPOSE = join(ROOT, "docker-compose.example.yml");
/** The ENTRYPOINT of the official postgres image, which ours inherits (checked below: our Dockerfiles set none). */
const IMAGE_ENTRYPOINT = ["docker-entrypoint.sh"];
const OFFICIAL_ENTRYPOINT = join(ROOT, "tests", "fixtures", "postgres-image", "docker-entrypoint.sh");
const DOCKERFILE_UTILS = "dockerfile-utils@0.16.3";
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Dockerfile → instructions, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  let start = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trim().startsWith("#"))) return;
    if (pending === "") start = index + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = "";
    const [keyword, ...rest] = full.split(/\s+/);
    out.push({ keyword: keyword!.toUpperCase(), args: rest.join(" "), line: start });
  });
  return out;
}

function dockerignorePatterns(): string[] {
  return readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

/** Whether .dockerignore keeps `path` (a repository-relative path) out of the build context (simple patterns only). */
function ignored(path: string, patterns: string[]): boolean {
  return patterns.some((pattern) => {
    const p = pattern.replace(/\/$/, "");
    if (p.startsWith("*.")) return path.endsWith(p.slice(1));
    return path === p || path.startsWith(`${p}/`);
  });
}

function lintDockerfile(file: string): { status: number | null; output: string } {
  const local = join(ROOT, "node_modules", ".bin", "dockerfile-utils");
  const [command, args] = existsSync(local)
    ? [local, ["lint", file]]
    : ["npm", ["exec", "--yes", `--package=${DOCKERFILE_UTILS}`, "--", "dockerfile-utils", "lint", file]];
  const result = spawnSync(command, args, { encoding: "utf8", cwd: tmpdir(), timeout: 150_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("Dockerfiles", () => {
  test(
    `pass the ${DOCKERFILE_UTILS} linter (npm), which fails a broken Dockerfile`,
    () => {
      for (const name of Object.values(DOCKERFILES)) {
        const result = lintDockerfile(join(ROOT, name));
        expect(`${name}: ${result.output.trim()}`).toBe(`${name}: `);
        expect(result.status).toBe(0);
      }
      const dir = mkdtempSync(join(tmpdir(), "netraven-lint-"));
      try {
        writeFileSync(join(dir, "Dockerfile"), "FROM postgres:15\nCOPY --chmodd=0755 a b\nFRM x\n");
        const broken = lintDockerfile(join(dir, "Dockerfile"));
        expect(broken.output).toContain("Unknown flag: chmodd");
        expect(broken.output).toContain("Unknown instruction: FRM");
        expect(broken.status).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  for (const [flavour, name] of Object.entries(DOCKERFILES)) {
    test(`${name}: ARG PG_VERSION=15, a Bun build stage, FROM postgres:\${PG_VERSION}${flavour === "alpine" ? "-alpine" : ""}, binary and hook in place`, () => {
      const steps = parseDockerfile(readFileSync(join(ROOT, name), "utf8"));
      const froms = steps.filter((s) => s.keyword === "FROM");
      const firstFrom = steps.indexOf(froms[0]!);
      expect(steps.slice(0, firstFrom).map((s) => `${s.keyword} ${s.args}`)).toContain("ARG PG_VERSION=15");
      expect(froms).toHaveLength(2);
      expect(froms[0]!.args).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim AS build$/);
      expect(froms[1]!.args).toBe(flavour === "alpine" ? "postgres:${PG_VERSION}-alpine" : "postgres:${PG_VERSION}");

      const build = steps.slice(steps.indexOf(froms[0]!), steps.indexOf(froms[1]!));
      const final = steps.slice(steps.indexOf(froms[1]!));
      const runs = build.filter((s) => s.keyword === "RUN").map((s) => s.args).join("\n");
      expect(runs).toContain("npm ci");
      for (const [, script] of runs.matchAll(/npm run (\S+)/g)) expect(Object.keys(pkg.scripts)).toContain(script!);
      expect(pkg.scripts[flavour === "alpine" ? "build:all" : "build"]).toContain("build/compile.ts");

      // Every COPY from the context names something that exists and that .dockerignore lets through.
      const patterns = dockerignorePatterns();
      for (const copy of steps.filter((s) => s.keyword === "COPY" && !s.args.includes("--from="))) {
        const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith("--"));
        for (const source of parts.slice(0, -1)) {
          const path = source.replace(/\/$/, "");
          if (path === ".") continue;
          expect(`${path}: ${existsSync(join(ROOT, path))}`).toBe(`${path}: true`);
          expect(`${path}: ignored=${ignored(path, patterns)}`).toBe(`${path}: ignored=false`);
        }
      }
      // COPY --from names a stage that exists.
      const stages = froms.map((f) => f.args.match(/ AS (\S+)$/i)?.[1]).filter(Boolean);
      for (const copy of steps.filter((s) => s.args.includes("--from="))) expect(stages).toContain(copy.args.match(/--from=(\S+)/)![1]!);

      const finalText = final.map((s) => `${s.keyword} ${s.args}`).join("\n");
      expect(finalText).toMatch(/^COPY --from=build \S+ \/usr\/local\/bin\/netraven-db$/m);
      expect(finalText).toMatch(/^COPY --chmod=0755 docker\/initdb-netraven\.sh \/docker-entrypoint-initdb\.d\/\d\d-[\w-]+\.sh$/m);
      expect(finalText).toContain('RUN ["netraven-db", "--version"]');
      // The image keeps the postgres image's ENTRYPOINT: Compose commands below rely on it passing commands through.
      expect(final.filter((s) => s.keyword === "ENTRYPOINT")).toEqual([]);
      if (flavour === "alpine") {
        expect(runs).toContain("netraven-db-linux-${arch}-musl");
        expect(finalText).toMatch(/apk add --no-cache libstdc\+\+ libgcc/);
      }
    });
  }

  test(".dockerignore keeps node_modules/ and dist/ out of the context but not the sources or .git (revision stamp)", () => {
    const patterns = dockerignorePatterns();
    for (const path of ["node_modules", "dist", "dist/netraven-db", ".tmp"]) expect(`${path}: ${ignored(path, patterns)}`).toBe(`${path}: true`);
    for (const path of ["src/main.ts", "sql/bootstrap.sql", "build/compile.ts", "build/patch-postgres.mjs", "package.json", "package-lock.json", "docker/initdb-netraven.sh", ".git"]) {
      expect(`${path}: ${ignored(path, patterns)}`).toBe(`${path}: false`);
    }
  });

  test("the musl libraries Dockerfile.alpine installs cover what the musl binary needs (when built)", () => {
    const musl = join(ROOT, "dist", "netraven-db-linux-x64-musl");
    const provided: Record<string, string> = { "libc.musl-x86_64.so.1": "(musl, in every Alpine image)", "libstdc++.so.6": "libstdc++", "libgcc_s.so.1": "libgcc" };
    // Under NETRAVEN_DB_EXPECT_ALL_TARGETS=1 the musl build must be there: no fallback to the list below.
    const needed = existsSync(musl) || EXPECT_ALL
      ? [...spawnSync("readelf", ["-d", "-W", musl], { encoding: "utf8" }).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!)
      : ["libc.musl-x86_64.so.1", "libstdc++.so.6"]; // what Bun 1.4.5's musl runtime needed when last built here
    expect(needed.length).toBeGreaterThan(0);
    const apk = readFileSync(join(ROOT, DOCKERFILES.alpine), "utf8").match(/apk add --no-cache ([^\n]+)/)![1]!.split(/\s+/);
    for (const lib of needed) {
      expect(`${lib}: ${provided[lib] ?? "unknown library"}`).not.toContain("unknown library");
      if (!provided[lib]!.startsWith("(")) expect(apk).toContain(provided[lib]!);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

type Compose = {
  services: Record<string, any>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
};
const compose = Bun.YAML.parse(readFileSync(COMPOSE, "utf8")) as Compose;

/** The docker compose plugin, else Debian's docker-compose: the argv that runs it. */
function composeValidator(): string[] | undefined {
  if (commandWorks(["docker", "compose", "version"])) return ["docker", "compose"];
  if (commandWorks(["docker-compose", "version"])) return ["docker-compose"];
  return undefined;
}

/** The Compose file's `$$` is a literal `$` once Compose has read the file. */
const unescape = (text: string) => text.replace(/\$\$/g, "$");

/**
 * What a container of `service` runs: its `entrypoint:` (else the image's) followed by `command` (what `docker compose
 * run SERVICE ...` gives, else the service's `command:`), with the image's entrypoint script taken from the fixture.
 */
function containerArgv(service: { entrypoint?: string[]; command?: string[] }, command?: string[]): string[] {
  const argv = [...(service.entrypoint ?? IMAGE_ENTRYPOINT), ...(command ?? service.command ?? [])];
  return argv.map((word, i) => (i === 0 && word === "docker-entrypoint.sh" ? OFFICIAL_ENTRYPOINT : word));
}

/** Runs argv (in its own process group) for at most `forMs`, then stops it as `docker stop` would. */
function runContainer(argv: string[], env: Record<string, string>, forMs: number): Promise<{ output: string; status: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (output += c));
    child.on("error", reject);
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGTERM"), forMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolvePromise({ output, status });
    });
  });
}

describe("docker-compose.example.yml", () => {
  const validatorArgv = composeValidator();
  const validator = optionalTool("a Compose validator (docker compose, docker-compose)", validatorArgv !== undefined, "apt-get install -y docker-compose");
  test(
    `is valid YAML with the documented structure, and valid for \`${validatorArgv?.join(" ") ?? "docker-compose"} config\`${validator.note}`,
    () => {
      // Structure checks run in every case; the validator runs when one is installed (always in CI).
      expect(Object.keys(compose.services).sort()).toEqual(["app", "backup", "backup-offsite", "db", "db-init"]);
      if (!useTool(validator)) return;
      const dir = mkdtempSync(join(tmpdir(), "netraven-compose-"));
      try {
        copyFileSync(COMPOSE, join(dir, "docker-compose.yml"));
        const result = spawnSync(validatorArgv![0]!, [...validatorArgv!.slice(1), "-f", "docker-compose.yml", "config", "-q"], { cwd: dir, encoding: "utf8" });
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        // And the validator rejects a broken file, so a pass means something.
        writeFileSync(join(dir, "docker-compose.yml"), readFileSync(COMPOSE, "utf8").replace("condition: service_healthy", "condition: service_is_fine"));
        const broken = spawnSync(validatorArgv![0]!, [...validatorArgv!.slice(1), "-f", "docker-compose.yml", "config", "-q"], { cwd: dir, encoding: "utf8" });
        expect(broken.status).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  test("service order, health check over TCP, one-shot init with --retry 30, dedicated backup volume, no passwords", () => {
    const { db, "db-init": init, backup, app } = compose.services;
    expect(db.image).toBe("postgres:15");
    expect(db.volumes).toEqual(["pgdata:/var/lib/postgresql/data"]);
    expect(db.healthcheck.test.join(" ")).toContain("pg_isready -h 127.0.0.1");
    expect(db.environment.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/db_password");

    expect(init.entrypoint).toEqual(["netraven-db"]);
    expect(init.command).toEqual(["init", "--retry", "30"]);
    expect(init.depends_on).toEqual({ db: { condition: "service_healthy" } });
    expect(init.restart).toBe("no");
    expect(init.environment.PGHOST).toBe("db");
    expect(app.depends_on).toEqual({ "db-init": { condition: "service_completed_successfully" } });
    expect(backup.depends_on).toEqual({ "db-init": { condition: "service_completed_successfully" } });

    expect(backup.entrypoint).toBeUndefined(); // the image's: `run --rm backup netraven-db ...` works as typed
    expect(backup.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(backup.volumes).toEqual(["backups:/backups"]);
    expect(Object.keys(compose.volumes).sort()).toEqual(["backups", "pgdata"]);
    expect(backup.command.join("\n")).toContain("netraven-db backup --dir /backups --keep-days 7");
    expect(Number(backup.environment.BACKUP_INTERVAL_SECONDS)).toBe(86_400);

    // The off-site sidecar: only with its profile (its secrets need not exist otherwise), to the bucket only, with
    // public keys and bucket keys as secret files, the bucket and endpoint passed through from the shell or .env.
    const offsite = compose.services["backup-offsite"];
    expect(offsite.profiles).toEqual(["offsite"]);
    expect(offsite.entrypoint).toBeUndefined();
    expect(offsite.depends_on).toEqual({ "db-init": { condition: "service_completed_successfully" } });
    expect(offsite.volumes).toBeUndefined();
    expect(offsite.command.join("\n")).toContain('netraven-db backup --dir "$${NETRAVEN_BACKUP_BUCKET_URL}" --keep-days 30 --retry 30');
    expect(offsite.environment.NETRAVEN_DB_RECIPIENTS_FILE).toBe("/run/secrets/backup_recipients");
    expect(offsite.environment.AWS_ACCESS_KEY_ID_FILE).toBe("/run/secrets/s3_access_key_id");
    expect(offsite.environment.AWS_SECRET_ACCESS_KEY_FILE).toBe("/run/secrets/s3_secret_access_key");
    for (const passed of ["NETRAVEN_BACKUP_BUCKET_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "NETRAVEN_DB_OBJECT_LOCK_DAYS"]) expect(offsite.environment[passed]).toBeNull();
    expect(offsite.secrets.sort()).toEqual(["backup_recipients", "db_password", "s3_access_key_id", "s3_secret_access_key"]);
    for (const key of Object.keys(offsite.environment)) expect(key).not.toMatch(/^AWS_(SECRET_ACCESS_KEY|ACCESS_KEY_ID|SESSION_TOKEN)$/);

    for (const service of Object.values(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        expect(`${key}`).not.toMatch(/^(PGPASSWORD|POSTGRES_PASSWORD|NETRAVEN_DB_ADMIN_PASSWORD)$/);
        expect(`${key}=${value}`).not.toMatch(/:\/\/[^@/]*:[^@/]*@/); // no password inside a URL
      }
    }
    for (const secret of Object.values(compose.secrets)) expect(secret.file).toMatch(/^\.\/secrets\//);
  });

  test(
    "db-init's command with db-init's environment initialises the database (secrets as files)",
    async () => {
      const db = await createTestDatabase("nrt_compose");
      const server = testServer();
      const secrets = mkdtempSync(join(tmpdir(), "netraven-secrets-"));
      try {
        writeFileSync(join(secrets, "db_password"), `${server.password}\n`);
        writeFileSync(join(secrets, "netraven_admin_password"), "Compose-admin-pw-5e1\n");
        const init = compose.services["db-init"];
        // The Compose environment, with the service name and the secrets' mount points mapped to this machine.
        const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: secrets };
        for (const [key, value] of Object.entries(init.environment as Record<string, string>)) env[key] = String(value).replace("/run/secrets", secrets);
        Object.assign(env, { PGHOST: server.host.startsWith("/") ? "127.0.0.1" : server.host, PGPORT: String(server.port), PGUSER: server.user, PGDATABASE: db.name });
        const [bin, ...args] = [...init.entrypoint, ...init.command] as string[];
        expect(bin).toBe("netraven-db");
        const result = spawnSync(requireBinary(), args, { env, encoding: "utf8", timeout: 120_000 });
        expect(result.stderr).toContain(`Created schema "netraven" in database "${db.name}"`);
        expect(result.stderr).toContain("the admin user");
        expect(result.status).toBe(0);
        expect(result.stderr + result.stdout).not.toContain(server.password);
        const [admin] = await db.sql`select username from netraven.users`;
        expect(admin!.username).toBe("admin");
      } finally {
        rmSync(secrets, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  test(
    "the backup sidecar's loop writes backups, logs a failed round and goes on; its health check sees both states",
    async () => {
      const db = await createTestDatabase("nrt_sidecar");
      const server = testServer();
      const work = mkdtempSync(join(tmpdir(), "netraven-sidecar-"));
      try {
        const bin = join(work, "bin");
        mkdirSync(bin);
        copyFileSync(requireBinary(), join(bin, "netraven-db"));
        chmodSync(join(bin, "netraven-db"), 0o755);
        const backups = join(work, "backups");
        mkdirSync(backups);
        writeFileSync(join(work, "db_password"), `${server.password}\n`);
        const sidecar = compose.services.backup;
        const argv = containerArgv(sidecar).map((word) => unescape(word).replaceAll("/backups", backups));
        const health = unescape(sidecar.healthcheck.test[1] as string).replaceAll("/backups", backups);
        const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: work };
        for (const [key, value] of Object.entries(sidecar.environment as Record<string, string>)) env[key] = String(value).replace("/run/secrets", work);
        Object.assign(env, { PGHOST: "127.0.0.1", PGPORT: String(server.port), PGUSER: server.user, PGDATABASE: db.name, BACKUP_INTERVAL_SECONDS: "1" });
        expect(spawnSync(join(bin, "netraven-db"), ["init"], { env, encoding: "utf8" }).status).toBe(0);

        // Nothing yet: the health check must fail.
        expect(spawnSync("/bin/sh", ["-c", health]).status).not.toBe(0);

        const good = await runContainer(argv, env, 3_500);
        expect(good.output).toContain("backup-sidecar: backup done; next in 1s");
        expect(good.output).not.toContain(server.password);
        const files = readdirSync(backups).filter((f) => /^netraven_\d{8}_\d{6}\.sql\.gz$/.test(f));
        expect(files.length).toBeGreaterThanOrEqual(1);
        expect(spawnSync("/bin/sh", ["-c", health]).status).toBe(0);

        // A round that fails is reported with netraven-db's exit status, and the loop keeps going.
        const bad = await runContainer(argv, { ...env, PGDATABASE: "no_such_database" }, 2_500);
        const failures = bad.output.split("\n").filter((l) => l.includes("backup-sidecar: BACKUP FAILED with exit status 5"));
        expect(failures.length).toBeGreaterThanOrEqual(2);
        expect(bad.output).not.toContain(server.password);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  test(
    "the off-site sidecar's loop writes age-encrypted backups and their manifests to a bucket on the real S3 server; its health check sees it; without a bucket URL it stops with one line",
    async () => {
      requireAgeCli();
      const server = await rgw();
      const bucket = await server.createBucket();
      const db = await createTestDatabase("nrt_offsite");
      const pg = testServer();
      const work = mkdtempSync(join(tmpdir(), "netraven-offsite-"));
      try {
        const bin = join(work, "bin");
        mkdirSync(bin);
        copyFileSync(requireBinary(), join(bin, "netraven-db"));
        chmodSync(join(bin, "netraven-db"), 0o755);
        const key = ageKeygen(work); // the identity stays with the test, as it stays off the Compose host
        // The secret files, as docs/deployment.md's off-site step writes them.
        writeFileSync(join(work, "db_password"), `${pg.password}\n`);
        writeFileSync(join(work, "backup_recipients"), `${key.publicKey}\n`);
        writeFileSync(join(work, "s3_access_key_id"), `${server.accessKeyId}\n`);
        writeFileSync(join(work, "s3_secret_access_key"), `${server.secretAccessKey}\n`);
        const service = compose.services["backup-offsite"];
        const marker = join(work, "backup-offsite.ok");
        const argv = containerArgv(service).map((word) => unescape(word).replaceAll("/tmp/backup-offsite.ok", marker));
        const health = unescape(service.healthcheck.test[1] as string).replaceAll("/tmp/backup-offsite.ok", marker);
        // The variables the file passes through (no value in it) come from the reader's shell or .env; the rest are
        // the file's own, with the secrets' mount point mapped to this machine.
        const url = `s3://${bucket}/netraven/`;
        const shell: Record<string, string> = { NETRAVEN_BACKUP_BUCKET_URL: url, AWS_ENDPOINT_URL: server.endpoint, AWS_REGION: server.region };
        const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: work };
        for (const [name, value] of Object.entries(service.environment as Record<string, string | null>)) {
          if (value !== null) env[name] = String(value).replace("/run/secrets", work);
          else if (shell[name] !== undefined) env[name] = shell[name]!;
        }
        Object.assign(env, { PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: pg.user, PGDATABASE: db.name, BACKUP_INTERVAL_SECONDS: "1" });
        expect(spawnSync(join(bin, "netraven-db"), ["init"], { env, encoding: "utf8" }).status).toBe(0);
        expect(spawnSync("/bin/sh", ["-c", health]).status).not.toBe(0);

        const good = await runContainer(argv, env, 8_000);
        expect(good.output).toContain("backup-offsite: backup done; next in 1s");
        expect(good.output).not.toContain("BACKUP FAILED");
        for (const secret of [server.secretAccessKey, pg.password, key.secretKey]) expect(good.output).not.toContain(secret);
        expect(spawnSync("/bin/sh", ["-c", health]).status).toBe(0);

        // In the bucket: encrypted backups, each with its manifest (list reads the manifests), and the identity
        // that never was on the "host" reads every byte of the newest.
        const list = spawnSync(join(bin, "netraven-db"), ["list", "--dir", url, "--json"], { env, encoding: "utf8" });
        expect(list.status).toBe(0);
        const backups = JSON.parse(list.stdout).backups as Array<{ path: string; encrypted: boolean }>;
        expect(backups.length).toBeGreaterThanOrEqual(1);
        for (const b of backups) expect(`${b.path} ${b.encrypted}`).toMatch(/^s3:\/\/.*\/netraven_\d{8}_\d{6}\.sql\.gz\.age true$/);
        const verify = spawnSync(join(bin, "netraven-db"), ["verify", backups[0]!.path, "--identity", key.identityFile], { env, encoding: "utf8" });
        expect(`${verify.status} ${verify.stderr}`).toMatch(/^0 /);

        // No bucket named in the shell or .env: the container stops at once, saying which variable is missing.
        const { NETRAVEN_BACKUP_BUCKET_URL: _unset, ...withoutBucket } = env;
        const missing = await runContainer(argv, withoutBucket, 5_000);
        expect(missing.status).not.toBe(0);
        expect(missing.status).not.toBeNull(); // exited by itself, not stopped by the timer
        expect(missing.output).toContain("NETRAVEN_BACKUP_BUCKET_URL: is not set: give it s3://bucket/prefix/");
      } finally {
        rmSync(work, { recursive: true, force: true });
        await server.deleteBucket(bucket).catch(() => undefined);
      }
    },
    TIMEOUT,
  );

  test("its secrets are the files the guide's secrets step creates (docs/deployment.md, run as written)", () => {
    const dir = mkdtempSync(join(tmpdir(), "netraven-secrets-"));
    try {
      const guide = fencedBlocks(join(ROOT, "docs", "deployment.md")).filter(isShellBlock).flatMap(shellCommands);
      // The database secrets' step and the off-site step (its values from the reader's shell, as the guide says).
      const steps = guide.filter((c) => c.text.includes("umask 077"));
      expect(steps).toHaveLength(2);
      const shellEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", NETRAVEN_BACKUP_RECIPIENT: "age1example", AWS_ACCESS_KEY_ID: "EXAMPLEKEY", AWS_SECRET_ACCESS_KEY: "example-secret" };
      for (const step of steps) {
        const result = spawnSync("/bin/sh", ["-c", step.text], { cwd: dir, encoding: "utf8", env: shellEnv });
        expect(`${step.text}: ${result.stderr}`).toBe(`${step.text}: `);
        expect(result.status).toBe(0);
      }
      expect(readFileSync(join(dir, "secrets", "s3_secret_access_key"), "utf8")).toBe("example-secret\n");
      for (const [name, secret] of Object.entries(compose.secrets)) {
        expect(`${name}: ${secret.file} ${existsSync(join(dir, secret.file)) ? "created" : "never created by the guide"}`).toBe(`${name}: ${secret.file} created`);
        expect(statSync(join(dir, secret.file)).mode & 0o777).toBe(0o600);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(
    "the admin command `run --rm backup netraven-db list --dir /backups` (docs/deployment.md, the file's header) runs netraven-db through the service's entrypoint, as typed",
    async () => {
      const db = await createTestDatabase("nrt_admin");
      const server = testServer();
      const work = mkdtempSync(join(tmpdir(), "netraven-admin-"));
      try {
        const bin = join(work, "bin");
        mkdirSync(bin);
        copyFileSync(requireBinary(), join(bin, "netraven-db"));
        chmodSync(join(bin, "netraven-db"), 0o755);
        const backups = join(work, "backups");
        mkdirSync(backups);
        writeFileSync(join(work, "db_password"), `${server.password}\n`);
        const service = compose.services.backup;
        const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: work };
        for (const [key, value] of Object.entries(service.environment as Record<string, string>)) env[key] = String(value).replace("/run/secrets", work);
        Object.assign(env, { PGHOST: "127.0.0.1", PGPORT: String(server.port), PGUSER: server.user, PGDATABASE: db.name });
        for (const args of [["init"], ["backup", "--dir", backups]]) expect(spawnSync(join(bin, "netraven-db"), args, { env, encoding: "utf8" }).status).toBe(0);
        const made = readdirSync(backups).find((f) => f.endsWith(".sql.gz"))!;

        // The command as the guide and the file's header write it (the guide's fenced blocks; the header's comment).
        const guide = fencedBlocks(join(ROOT, "docs", "deployment.md")).filter(isShellBlock).flatMap(shellCommands).map((c) => c.text);
        const header = readFileSync(COMPOSE, "utf8").split("\n").filter((l) => /^#\s+docker compose /.test(l)).map((l) => l.replace(/^#\s+/, "").replace(/\s+#.*$/, ""));
        const lines = [...guide, ...header].filter((l) => /\brun --rm backup\b/.test(l));
        expect(lines.length).toBeGreaterThanOrEqual(2);
        for (const line of lines) {
          const words = shellWords(line);
          const command = words.slice(words.indexOf("backup") + 1).map((w) => w.replaceAll("/backups", backups));
          const argv = containerArgv(service, command);
          const result = spawnSync(argv[0]!, argv.slice(1), { env, encoding: "utf8", timeout: 60_000 });
          expect(`${line}: exit ${result.status}: ${result.stdout}${result.stderr}`).toContain(`${line}: exit 0: `);
          expect(result.stdout).toContain(made);
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );
});
