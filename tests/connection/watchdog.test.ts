// The liveness watchdog (src/connection/watchdog.ts) without a network: a stand-in stream and a stand-in check of
// the server. The real thing, a server that goes silent behind a proxy, is in tests/connection/silent.test.ts.
import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { MessageFramer, watchConnection } from "../../src/connection/watchdog.ts";

const message = (type: string, body: number[] = []) => Buffer.from([type.charCodeAt(0), 0, 0, 0, 4 + body.length, ...body]);
const startup = Buffer.from([0, 0, 0, 9, 0, 3, 0, 0, 0]);

describe("MessageFramer", () => {
  test("reports each message once it is complete, however the bytes are cut", () => {
    const bytes = Buffer.concat([message("T", [1, 2, 3]), message("D", [9]), message("C"), message("Z", [0x49])]);
    for (const size of [1, 2, 3, 5, 7, bytes.length]) {
      const seen: string[] = [];
      const framer = new MessageFramer(false, (type) => seen.push(String.fromCharCode(type)));
      for (let i = 0; i < bytes.length; i += size) framer.push(bytes.subarray(i, i + size));
      expect(seen).toEqual(["T", "D", "C", "Z"]);
    }
  });

  test("the client side starts with the untyped startup message", () => {
    const seen: number[] = [];
    const framer = new MessageFramer(true, (type) => seen.push(type));
    framer.push(Buffer.concat([startup, message("Q", [0x61, 0]), message("S")]));
    expect(seen).toEqual([0, "Q".charCodeAt(0), "S".charCodeAt(0)]);
  });
});

class FakeStream extends EventEmitter {
  destroyed = false;
  paused = false;
  error?: Error & { code?: string };
  written: Buffer[] = [];
  fail(error: Error & { code?: string }) {
    this.error = error;
    this.destroy();
  }
  write(chunk: Buffer) {
    this.written.push(chunk);
    return true;
  }
  isPaused() {
    return this.paused;
  }
  destroy() {
    this.destroyed = true;
    this.emit("close");
    return this;
  }
}

const liveness = { enabled: true, idleSeconds: 0.2, intervalSeconds: 0.1, count: 2, userTimeoutMs: 0 };
const target = { label: "127.0.0.1:5432", address: "127.0.0.1", port: 5432 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function watched(answer: boolean) {
  const stream = new FakeStream();
  const checks: number[] = [];
  watchConnection(
    stream as never,
    target,
    liveness,
    async (_address, _port, timeoutMs) => {
      checks.push(timeoutMs);
      return answer;
    },
    (error) => stream.fail(error),
  );
  return { stream, checks };
}

describe("watchConnection", () => {
  test("an idle session is never checked, however long it is quiet", async () => {
    const { stream, checks } = watched(false);
    stream.write(startup);
    stream.emit("data", message("Z", [0x49]));
    await sleep(600);
    expect(checks).toEqual([]);
    expect(stream.destroyed).toBe(false);
  });

  test("a silent server that misses keepalives_count checks is given up on, with one line naming it", async () => {
    const { stream, checks } = watched(false);
    stream.write(startup);
    stream.emit("data", message("Z", [0x49]));
    stream.write(message("Q", [0x61, 0]));
    await sleep(1200);
    expect(checks.length).toBe(2);
    expect(stream.destroyed).toBe(true);
    expect(stream.error?.code).toBe("SERVER_SILENT");
    expect(stream.error?.message).toMatch(/^the server at 127\.0\.0\.1:5432 stopped answering: nothing received for \d+\.\d s while waiting for it, and it did not answer 2 checks over a new connection$/);
  });

  test("a silent server that answers the check is busy, not gone: it is left alone", async () => {
    const { stream, checks } = watched(true);
    stream.write(startup);
    await sleep(900);
    expect(checks.length).toBeGreaterThan(1);
    expect(stream.destroyed).toBe(false);
    stream.destroy();
  });

  test("while we are not reading (backpressure) the server's silence does not count", async () => {
    const { stream, checks } = watched(false);
    stream.write(startup);
    stream.paused = true;
    await sleep(600);
    expect(checks).toEqual([]);
    stream.destroy();
  });

  test("tcp_user_timeout: one failed check after that long is enough", async () => {
    const stream = new FakeStream();
    const checks: number[] = [];
    watchConnection(
      stream as never,
      target,
      { ...liveness, idleSeconds: 10, count: 5, userTimeoutMs: 150 },
      async (_a, _p, timeoutMs) => {
        checks.push(timeoutMs);
        return false;
      },
      (error) => stream.fail(error),
    );
    stream.write(startup);
    await sleep(800);
    expect(checks).toEqual([100]);
    expect(stream.error?.code).toBe("SERVER_SILENT");
  });
});
