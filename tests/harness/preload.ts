// bun test preload: one PostgreSQL for the whole run, torn down at the end. Tests get it through db.ts.
import { afterAll } from "bun:test";
import { startTestServer } from "./server.ts";
import { setTestServer, dropCreatedDatabases } from "./db.ts";

const server = await startTestServer();
setTestServer(server);

afterAll(async () => {
  await dropCreatedDatabases();
  await server.stop();
});
