// Where tests get a real PostgreSQL: DATABASE_URL if set (an existing server; tests create and drop their own
// databases on it), else a testcontainers postgres if a Docker engine answers, else a throwaway cluster from the
// installed server binaries (cluster.ts). No test ever skips for lack of a server: without one, the run fails.
import { existsSync } from "node:fs";
import { createCluster, type Cluster } from "./cluster.ts";

export interface TestServer {
  kind: "DATABASE_URL" | "testcontainers" | "local";
  host: string;
  port: number;
  user: string;
  password: string;
  /** Unix socket directory when the server is local to this machine. */
  socketDir?: string;
  /** The TLS certificate of a local cluster (self-signed, CN=localhost). */
  certFile?: string;
  cluster?: Cluster;
  url(database?: string): string;
  stop(): Promise<void>;
}

function dockerEngineLikely(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync("/var/run/docker.sock");
}

async function fromDatabaseUrl(raw: string): Promise<TestServer> {
  const url = new URL(raw);
  const password = decodeURIComponent(url.password);
  const user = decodeURIComponent(url.username) || "postgres";
  const host = url.hostname;
  const port = Number(url.port || 5432);
  return {
    kind: "DATABASE_URL",
    host,
    port,
    user,
    password,
    url: (database = decodeURIComponent(url.pathname.slice(1)) || "postgres") =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
    stop: async () => undefined,
  };
}

async function fromTestcontainers(): Promise<TestServer> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true"; // Ryuk's reaper does not work under Bun
  const { GenericContainer, Wait } = await import("testcontainers");
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const container = await new GenericContainer("postgres:15")
    .withEnvironment({ POSTGRES_PASSWORD: password })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(5432);
  return {
    kind: "testcontainers",
    host,
    port,
    user: "postgres",
    password,
    url: (database = "postgres") => `postgresql://postgres:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startTestServer(): Promise<TestServer> {
  if (process.env.DATABASE_URL) return fromDatabaseUrl(process.env.DATABASE_URL);
  if (dockerEngineLikely()) {
    try {
      return await fromTestcontainers();
    } catch (error) {
      console.error(`testcontainers unavailable (${(error as Error).message}); starting a local cluster instead`);
    }
  }
  const cluster = await createCluster({ tls: true });
  return {
    kind: "local",
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    password: cluster.password,
    socketDir: cluster.socketDir,
    certFile: cluster.certFile,
    cluster,
    url: (database) => cluster.url(database),
    stop: async () => cluster.destroy(),
  };
}
