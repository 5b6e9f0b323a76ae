// NativeSocket (src/connection/native-socket.ts) stands in for node:net's Socket under postgres.js on init and
// validate: these are the parts of node:net's behaviour that postgres.js, socket.ts and the watchdog rely on,
// checked against real sockets (a node:net server on loopback and on a unix socket).
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { duplexOf, NativeSocket } from "../../src/connection/native-socket.ts";
import { tempDir } from "../harness/cleanup.ts";

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const undo of cleanup.splice(0)) undo();
});

/** A server on loopback (or `path`) whose connection handler is `onConnection`. */
async function serve(onConnection: (socket: Socket) => void, path?: string): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => (path ? server.listen(path, resolve) : server.listen(0, "127.0.0.1", resolve)));
  cleanup.push(() => server.close());
  return { server, port: path ? 0 : (server.address() as { port: number }).port };
}

const next = (socket: NativeSocket, event: string) => new Promise<unknown[]>((resolve) => socket.once(event, (...args: never[]) => resolve(args)));

describe("NativeSocket", () => {
  test("a write the kernel cannot take at once is queued, reported (false, then drain) and arrives whole and in order", async () => {
    let peer!: Socket;
    const received: Buffer[] = [];
    const { port } = await serve((socket) => {
      peer = socket;
      socket.pause();
      socket.on("data", (chunk: Buffer) => received.push(chunk));
    });
    const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
    cleanup.push(() => socket.destroy());
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(256 * 1024, i));
    const answers = chunks.map((chunk) => socket.write(chunk));
    expect(answers[0]).toBe(true);
    expect(answers.at(-1)).toBe(false);
    let written = 0;
    const done = new Promise<void>((resolve) => socket.write(Buffer.from("end"), () => (written++, resolve())));
    const drained = next(socket, "drain");
    peer.resume();
    await drained;
    await done;
    expect(written).toBe(1);
    const expected = createHash("sha256").update(Buffer.concat([...chunks, Buffer.from("end")])).digest("hex");
    while (received.reduce((n, c) => n + c.length, 0) < 64 * 256 * 1024 + 3) await Bun.sleep(5);
    expect(createHash("sha256").update(Buffer.concat(received)).digest("hex")).toBe(expected);
  });

  test("the server's end: data first, then end and close without error; writes after it fail", async () => {
    const { port } = await serve((socket) => socket.end("bye"));
    const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
    const events: string[] = [];
    socket.on("data", (data: Buffer) => events.push(`data ${data}`));
    socket.on("end", () => events.push("end"));
    const closed = next(socket, "close");
    expect(await closed).toEqual([false]);
    expect(events).toEqual(["data bye", "end"]);
    expect(socket.readyState).toBe("closed");
    expect(socket.destroyed).toBe(true);
    const error = await new Promise<Error | undefined>((resolve) => socket.write("late", resolve));
    expect(error?.message).toMatch(/ended/);
  });

  test("destroy(error): error, then close(true), once each; a second destroy does nothing", async () => {
    const { port } = await serve(() => undefined);
    const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
    const events: unknown[] = [];
    socket.on("error", (error: Error) => events.push(error.message));
    socket.on("close", (hadError: boolean) => events.push(`close ${hadError}`));
    socket.destroy(new Error("gave up"));
    socket.destroy(new Error("again"));
    await Bun.sleep(20);
    expect(events).toEqual(["gave up", "close true"]);
    expect(socket.readyState).toBe("closed");
  });

  test("end() sends what is queued, then the end of the stream", async () => {
    let got = "";
    const ended = new Promise<void>((resolve) => {
      void serve((peer) => {
        peer.on("data", (chunk) => (got += chunk));
        peer.on("end", () => resolve());
      }).then(async ({ port }) => {
        const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
        cleanup.push(() => socket.destroy());
        socket.write("a");
        socket.end("b");
        expect(socket.readyState).toBe("readOnly");
      });
    });
    await ended;
    expect(got).toBe("ab");
  });

  test("pause() stops data events until resume()", async () => {
    let peer!: Socket;
    const { port } = await serve((socket) => (peer = socket));
    const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
    cleanup.push(() => socket.destroy());
    const seen: string[] = [];
    socket.on("data", (data: Buffer) => seen.push(String(data)));
    while (!peer) await Bun.sleep(1);
    socket.pause();
    expect(socket.isPaused()).toBe(true);
    peer.write("while paused");
    await Bun.sleep(50);
    expect(seen).toEqual([]);
    socket.resume();
    while (seen.length === 0) await Bun.sleep(5);
    expect(seen.join("")).toBe("while paused");
  });

  test("listeners: once runs once, off removes a once listener by the original function, removeAllListeners", async () => {
    const { port } = await serve(() => undefined);
    const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
    cleanup.push(() => socket.destroy());
    const calls: string[] = [];
    const a = () => calls.push("a");
    const b = () => calls.push("b");
    socket.once("x", a);
    socket.once("x", b);
    socket.off("x", b);
    socket.emit("x");
    socket.emit("x");
    expect(calls).toEqual(["a"]);
    socket.on("y", a);
    socket.removeAllListeners();
    expect(socket.emit("y")).toBe(false);
    expect(() => socket.emit("error", new Error("nobody listens"))).toThrow("nobody listens");
  });

  test("a refused connection and a missing unix socket fail with node:net's codes and wording", async () => {
    const { server, port } = await serve(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const refused = await NativeSocket.connect({ host: "127.0.0.1", port }).catch((error) => error);
    expect({ code: refused.code, message: refused.message }).toEqual({ code: "ECONNREFUSED", message: `connect ECONNREFUSED 127.0.0.1:${port}` });
    const missing = await NativeSocket.connect({ path: "/nonexistent-dir/.s.PGSQL.5432" }).catch((error) => error);
    expect({ code: missing.code, message: missing.message }).toEqual({ code: "ENOENT", message: "connect ENOENT /nonexistent-dir/.s.PGSQL.5432" });
  });

  test("a unix socket carries data both ways; it has no remote address", async () => {
    const dir = tempDir("native-socket");
    const path = join(dir, ".s.PGSQL.5432");
    await serve((peer) => peer.on("data", (chunk) => peer.write(`echo ${chunk}`)), path);
    const socket = await NativeSocket.connect({ path });
    cleanup.push(() => socket.destroy());
    expect(socket.remoteAddress).toBeUndefined();
    const answer = next(socket, "data");
    socket.write("ping");
    expect(String((await answer)[0])).toBe("echo ping");
  });

  test("duplexOf: a node:stream Duplex over the socket, for node:tls to wrap", async () => {
    const { port } = await serve((peer) => peer.on("data", (chunk) => peer.end(`echo ${chunk}`)));
    const socket = await NativeSocket.connect({ host: "127.0.0.1", port });
    const duplex = duplexOf(socket);
    expect({ address: duplex.remoteAddress, port: duplex.remotePort }).toEqual({ address: "127.0.0.1", port });
    const chunks: string[] = [];
    duplex.on("data", (chunk: Buffer) => chunks.push(String(chunk)));
    const ended = new Promise((resolve) => duplex.on("end", resolve));
    duplex.write("over the duplex");
    await ended;
    expect(chunks.join("")).toBe("echo over the duplex");
    duplex.destroy();
  });
});
