// A connection over Bun's own socket (Bun.connect), shaped like the part of node:net's Socket that postgres.js,
// socket.ts and the watchdog use: events (data, drain, end, error, close), write with partial writes queued until
// the kernel takes them, end, destroy, pause and resume, keepalive and no-delay. Why: in a compiled binary, loading
// node:net (and node:stream under it) costs ~7 ms of start-up on its own; a command that moves no bulk data (init,
// validate) connects this way. Bulk work keeps node:net, whose backpressure the COPY paths were measured with. When the server accepts TLS, `duplexOf` puts a
// node:stream Duplex in front of it, so node:tls does the handshake and checks exactly as over node:net.
// The event emitter is hand-written for the same reason: node:events is one more module to load.
import type { Duplex } from "node:stream";

type Listener = ((...args: never[]) => void) & { listener?: Listener };
type BunSocket = import("bun").Socket<undefined>;

export class NativeSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  destroyed = false;
  /** node:net's names: postgres.js sends Terminate only while "open", and waits for close unless "closed". */
  readyState: "open" | "readOnly" | "closed" = "open";
  private readonly listeners = new Map<string, Listener[]>();
  private queued: Uint8Array[] = [];
  private whenWritten: ((error?: Error) => void)[] = [];
  private needDrain = false;
  private ending = false;
  private paused = false;
  private closeEmitted = false;
  private socket!: BunSocket;

  private constructor(address: string | undefined, port: number | undefined) {
    this.remoteAddress = address;
    this.remotePort = port;
  }

  /** Connects to host:port or a unix socket path; rejects with node:net's error codes and messages. */
  static async connect(to: { host: string; port: number } | { path: string }): Promise<NativeSocket> {
    const self = new NativeSocket("path" in to ? undefined : to.host, "path" in to ? undefined : to.port);
    const handlers = {
      data: (_socket: BunSocket, data: Buffer) => void self.emit("data", data),
      drain: () => self.flush(),
      end: (socket: BunSocket) => {
        // node:net with allowHalfOpen off: the peer's end of the stream ends ours too.
        self.emit("end");
        socket.end();
      },
      error: (_socket: BunSocket, error: Error) => self.fail(error),
      // After destroy() the close is ours to report (with its error first). Bun closes inside end(); node:net
      // reports a close on a later tick, after the caller of end() has finished, and postgres.js expects that.
      close: (_socket: BunSocket, error?: Error) =>
        queueMicrotask(() => {
          if (self.destroyed) return;
          if (error) self.fail(error);
          else self.closed(false);
        }),
    };
    try {
      self.socket = "path" in to ? await Bun.connect({ unix: to.path, socket: handlers }) : await Bun.connect({ hostname: to.host, port: to.port, socket: handlers });
    } catch (error) {
      const e = error as Error & { code?: string };
      // node:net's wording ("connect ECONNREFUSED 127.0.0.1:5432"), which messages and logs quote.
      if (e.code) e.message = `connect ${e.code} ${"path" in to ? to.path : `${to.host}:${to.port}`}`;
      throw e;
    }
    return self;
  }

  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapper: Listener = (...args: never[]) => {
      this.off(event, wrapper);
      listener(...args);
    };
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  off(event: string, listener: Listener): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    // The last one added goes first, as in node:events.
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i]!.listener === listener) {
        list.splice(i, 1);
        break;
      }
    }
    return this;
  }

  removeListener(event: string, listener: Listener): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit(event: string, ...args: unknown[]): boolean {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) {
      // node:events: an error nobody listens for is thrown, never swallowed.
      if (event === "error") throw args[0];
      return false;
    }
    for (const listener of [...list]) (listener as (...a: unknown[]) => void)(...args);
    return true;
  }

  /** Queues what the kernel does not take now; false (and a later "drain") when something is queued. */
  write(chunk: Uint8Array | string, callback?: (error?: Error) => void): boolean {
    if (this.destroyed || this.ending) {
      const error = Object.assign(new Error("This socket has been ended by the other party"), { code: "EPIPE" });
      if (callback) queueMicrotask(() => callback(error));
      return false;
    }
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.queued.length === 0) {
      const written = Math.max(0, this.socket.write(bytes));
      if (written === bytes.length) {
        if (callback) queueMicrotask(() => callback());
        return true;
      }
      this.queued.push(bytes.subarray(written));
    } else {
      this.queued.push(bytes);
    }
    if (callback) this.whenWritten.push(callback);
    this.needDrain = true;
    return false;
  }

  /** Bun's drain: the kernel has room again. */
  private flush(): void {
    while (this.queued.length > 0) {
      const head = this.queued[0]!;
      const written = Math.max(0, this.socket.write(head));
      if (written < head.length) {
        this.queued[0] = head.subarray(written);
        return;
      }
      this.queued.shift();
    }
    const callbacks = this.whenWritten;
    this.whenWritten = [];
    for (const callback of callbacks) callback();
    if (this.ending) {
      this.socket.end();
      return;
    }
    if (this.needDrain) {
      this.needDrain = false;
      this.emit("drain");
    }
  }

  end(chunk?: Uint8Array | string): this {
    if (this.destroyed || this.ending) return this;
    if (chunk !== undefined) this.write(chunk);
    this.ending = true;
    this.readyState = "readOnly";
    if (this.queued.length === 0) this.socket.end();
    return this;
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.readyState = "closed";
    this.socket.terminate();
    // node:net reports on the next tick: error first, then close.
    queueMicrotask(() => {
      if (error) this.emit("error", error);
      this.closed(Boolean(error));
    });
    return this;
  }

  pause(): this {
    this.paused = true;
    this.socket.pause();
    return this;
  }

  resume(): this {
    this.paused = false;
    this.socket.resume();
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  setNoDelay(noDelay = true): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelayMs = 0): this {
    this.socket.setKeepAlive(enable, initialDelayMs);
    return this;
  }

  private fail(error: Error): void {
    if (this.closeEmitted) return;
    this.destroyed = true;
    this.readyState = "closed";
    this.emit("error", error);
    this.closed(true);
  }

  private closed(hadError: boolean): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.destroyed = true;
    this.readyState = "closed";
    const callbacks = this.whenWritten;
    this.whenWritten = [];
    this.queued = [];
    const lost = Object.assign(new Error("the connection closed before the data was sent"), { code: "EPIPE" });
    for (const callback of callbacks) callback(lost);
    this.emit("close", hadError);
  }
}

/**
 * A node:stream Duplex over a NativeSocket, for node:tls to wrap (the server said yes to TLS). The Duplex owns the
 * socket from here on: its data, end and close become the Duplex's.
 */
export function duplexOf(socket: NativeSocket): Duplex & { remoteAddress?: string; remotePort?: number } {
  const { Duplex } = process.getBuiltinModule("node:stream") as typeof import("node:stream");
  socket.removeAllListeners();
  const duplex = new Duplex({
    read() {
      if (socket.isPaused()) socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (error: Error) => duplex.destroy(error));
  socket.on("close", () => duplex.destroy());
  return Object.assign(duplex, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
}
