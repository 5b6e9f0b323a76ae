// Notices a server that has gone silent (a cut network, a frozen VM: packets vanish, nothing resets the connection),
// which would otherwise hang a backup or restore forever. The runtime lets us set only TCP_KEEPIDLE (runtime.ts), so
// libpq's keepalives_interval, keepalives_count and tcp_user_timeout are honoured here, at the application level:
// while a reply is owed and nothing has arrived for keepalives_idle seconds (or tcp_user_timeout), the server is asked
// over a new connection whether it is there at all (socket.ts askServer). A server that answers is alive and busy
// (an index build can be silent for minutes) and is left alone; one that misses keepalives_count checks, taken every
// keepalives_interval seconds, or the check after tcp_user_timeout, is given up on and the connection is destroyed
// with a SERVER_SILENT error. "A reply is owed" is read from the protocol itself: every Query, Sync and FunctionCall
// (and the startup) is answered by exactly one ReadyForQuery, so an idle session is never probed.
import type { Liveness } from "./settings.ts";

/** What is watched: a node:net or node:tls socket, or a NativeSocket. */
interface Stream {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  once(event: "close", listener: () => void): unknown;
  write(chunk: Uint8Array | string, ...rest: never[]): boolean;
  isPaused(): boolean;
  readonly destroyed: boolean;
}

const READY_FOR_QUERY = 0x5a; // Z
const STARTUP = 0; // the untyped first message
const OWES_REPLY = new Set([STARTUP, 0x51 /* Q */, 0x53 /* S: Sync */, 0x46 /* F */]);

/** Splits a protocol byte stream into messages and reports each one's type as it completes. */
export class MessageFramer {
  private readonly header = new Uint8Array(5);
  private filled = 0;
  private remaining = 0;
  private type = 0;

  constructor(
    private untypedFirst: boolean,
    private readonly onMessage: (type: number) => void,
  ) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.onMessage(this.type);
        continue;
      }
      // The usual case, a whole header in this chunk: read it in place (this runs once per row of a COPY).
      if (!this.untypedFirst && this.filled === 0 && i + 5 <= chunk.length) {
        this.type = chunk[i]!;
        this.remaining = Math.max(0, ((chunk[i + 1]! << 24) | (chunk[i + 2]! << 16) | (chunk[i + 3]! << 8) | chunk[i + 4]!) - 4);
        i += 5;
        if (this.remaining === 0) this.onMessage(this.type);
        continue;
      }
      const size = this.untypedFirst ? 4 : 5;
      const take = Math.min(size - this.filled, chunk.length - i);
      this.header.set(chunk.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled < size) continue;
      const view = new DataView(this.header.buffer);
      const length = view.getUint32(size - 4);
      this.type = this.untypedFirst ? STARTUP : this.header[0]!;
      this.untypedFirst = false;
      this.filled = 0;
      this.remaining = Math.max(0, length - 4);
      if (this.remaining === 0) this.onMessage(this.type);
    }
  }
}

export interface WatchTarget {
  /** address:port, for the message. */
  label: string;
  address: string;
  port: number;
}

export type Ask = (address: string, port: number, timeoutMs: number) => Promise<boolean>;

const bytes = (chunk: unknown): Uint8Array => (typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array));

/** `fail` ends the stream with the reason (socket.ts failStream). */
export function watchConnection(stream: Stream, target: WatchTarget, liveness: Liveness, ask: Ask, fail: (error: Error & { code: string }) => void): void {
  const idleMs = liveness.idleSeconds * 1000;
  const intervalMs = liveness.intervalSeconds * 1000;
  const userMs = liveness.userTimeoutMs;
  let owed = 0;
  let heardAt = Date.now();
  let checkedAt = 0;
  let misses = 0;
  let checking = false;

  const incoming = new MessageFramer(false, (type) => {
    if (type === READY_FOR_QUERY) owed = Math.max(0, owed - 1);
  });
  const outgoing = new MessageFramer(true, (type) => {
    if (OWES_REPLY.has(type)) owed++;
  });
  stream.on("data", (chunk: Uint8Array) => {
    heardAt = Date.now();
    misses = 0;
    incoming.push(chunk);
  });
  const write = stream.write;
  stream.write = function (this: Stream, chunk: unknown, ...rest: unknown[]) {
    outgoing.push(bytes(chunk));
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Stream["write"];

  const giveUp = () => {
    const silent = ((Date.now() - heardAt) / 1000).toFixed(1);
    const checks = `${misses} check${misses === 1 ? "" : "s"}`;
    const error = Object.assign(new Error(`the server at ${target.label} stopped answering: nothing received for ${silent} s while waiting for it, and it did not answer ${checks} over a new connection`), {
      code: "SERVER_SILENT",
    });
    fail(error);
  };

  const tick = () => {
    if (stream.destroyed) return clearInterval(timer);
    if (checking) return;
    const now = Date.now();
    // Nothing owed, or we are the ones not reading (backpressure): silence is not the server's.
    if (owed === 0 || stream.isPaused()) {
      heardAt = now;
      misses = 0;
      return;
    }
    const firstCheckAfter = userMs > 0 ? Math.min(idleMs, userMs) : idleMs;
    const due = misses === 0 ? now - heardAt >= firstCheckAfter : now - checkedAt >= intervalMs;
    if (!due) return;
    checking = true;
    checkedAt = now;
    // Like TCP keepalive probes: one every keepalives_interval, each given that long to be answered, so the wait is
    // bounded by keepalives_idle + keepalives_count x keepalives_interval after the last byte.
    void ask(target.address, target.port, userMs > 0 ? Math.min(intervalMs, userMs) : intervalMs).then((alive) => {
      checking = false;
      if (stream.destroyed) return;
      if (alive) {
        heardAt = Date.now();
        misses = 0;
        return;
      }
      misses++;
      const userTimeoutPassed = userMs > 0 && Date.now() - heardAt >= userMs;
      if (misses >= liveness.count || userTimeoutPassed) giveUp();
    });
  };
  const timer = setInterval(tick, Math.max(50, Math.min(1000, Math.floor(Math.min(idleMs, intervalMs, userMs || Infinity) / 4))));
  // The open socket keeps the process alive while it matters; the timer must not keep it alive after.
  (timer as { unref?: () => void }).unref?.();
  stream.once("close", () => clearInterval(timer));
}
