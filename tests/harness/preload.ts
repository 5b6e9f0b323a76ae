// bun test preload: one PostgreSQL for the whole run, torn down at the end. Tests get it through db.ts. The S3 server
// (rgw.ts) starts only when a test asks for it, and is stopped here too. Also marks each test's start and end for
// cleanup.ts, so what a test made is removed right after it, passed or failed.
import { afterAll, afterEach, beforeEach } from "bun:test";
import { startTestServer } from "./server.ts";
import { setTestServer, dropCreatedDatabases } from "./db.ts";
import { stopSharedRgw } from "./rgw.ts";
import { runEnded, testEnded, testStarted } from "./cleanup.ts";

const server = await startTestServer();
setTestServer(server);

// A run stopped with Ctrl-C or killed by a timeout never reaches afterAll: without this, the throwaway server
// would keep running (and holding its port and temp dir) until the machine restarts.
for (const [signal, status] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  process.once(signal, () => {
    void runEnded()
      .finally(() => Promise.allSettled([server.stop(), stopSharedRgw()]))
      .finally(() => process.exit(status));
  });
}

beforeEach(() => testStarted());
afterEach(() => testEnded());

// Generous timeout: on a busy machine, stopping servers and removing a run's data (about 1 GB) can take a while, and
// a teardown cut short by the hook timeout would leave the servers running.
afterAll(async () => {
  try {
    await runEnded();
    await dropCreatedDatabases({ dropEach: server.kind === "DATABASE_URL" });
    await server.stop();
  } finally {
    await stopSharedRgw();
  }
}, { timeout: 600_000 });
