// The byte stream to one host, handed to postgres.js through its `socket` option, so the connection is the one libpq
// would make: TCP to hostaddr or the host name (or the unix socket), TLS negotiated with an SSLRequest as sslmode
// says, with libpq's files and checks (root certificate, revocation lists, client certificate and its password, SNI,
// protocol versions), TCP keepalive on, and the liveness watchdog attached. Doing TLS here rather than in postgres.js
// is what makes sslsni, sslcrl, sslpassword, client certificates in every mode and the protocol range possible, and
// tells "server refuses TLS" apart from a reset without a second connection.
// node:net, node:tls, node:crypto and node:dns are loaded when first needed (process.getBuiltinModule): each costs
// milliseconds of a compiled binary's start-up, and init over a plain connection needs none of them
// (native-socket.ts).
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { Errors } from "../errors.ts";
import { describeFsError } from "../files.ts";
import { isIP } from "./ip.ts";
import { duplexOf, NativeSocket } from "./native-socket.ts";
import type { ConnectionSettings, HostTarget } from "./settings.ts";
import { watchConnection } from "./watchdog.ts";

export type Stream = Socket | TLSSocket | NativeSocket;
/** The connection under TLS, if any: what was dialled. */
type Raw = Socket | NativeSocket;

const net = () => process.getBuiltinModule("node:net");
const tls = () => process.getBuiltinModule("node:tls");

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** A failure of the stream itself, with a code the connection classifier (db.ts) knows. */
export function streamError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

// Why we ended a stream on purpose (a silent server, connect_timeout, no password). postgres.js often reports only
// "connection closed" for it: sql.begin() races the transaction against the connection's close, and Bun emits
// `close` before the `error` given to destroy(). The classifiers in db.ts read the real reason here. A command has
// one connection at work at a time, so the latest deliberate failure is the one that matters.
let deliberate: (Error & { code: string }) | undefined;

/** The reason we ended a stream, if we did (cleared when a new client starts). */
export function deliberateFailure(): (Error & { code: string }) | undefined {
  return deliberate;
}

export function forgetDeliberateFailure(): void {
  deliberate = undefined;
}

/** Ends a stream on purpose, so its reader and the classifiers see `error` as the reason. */
export function failStream(stream: Pick<Stream, "emit" | "destroy" | "destroyed">, error: Error & { code: string }): void {
  if (stream.destroyed) return;
  deliberate = error;
  stream.emit("error", error);
  stream.destroy();
}

function socketPath(target: HostTarget): string {
  // Linux's abstract namespace (@name) is a path starting with a NUL byte.
  const dir = target.host.startsWith("@") ? `\0${target.host.slice(1)}` : target.host;
  return `${dir}/.s.PGSQL.${target.port}`;
}

/**
 * libpq tries every address a host name resolves to, in order, until one accepts (IPv6 ::1 refusing, then 127.0.0.1
 * answering, is the everyday case); hostaddr and IP literals are used as they are.
 */
async function dial(target: HostTarget, signal: AbortSignal, native: boolean): Promise<Raw> {
  const one = native ? dialNative : dialOne;
  if (target.socket || target.hostaddr || isIP(target.host) !== 0) return one(target, target.hostaddr ?? target.host, signal);
  const addresses = await abortable(process.getBuiltinModule("node:dns").promises.lookup(target.host, { all: true }), signal);
  let lastError: unknown;
  for (const { address } of addresses) {
    if (signal.aborted) throw signal.reason;
    try {
      return await one(target, address, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** A lookup cannot be cancelled; connect_timeout must still end the wait for it. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (error) => (signal.removeEventListener("abort", onAbort), reject(error)),
    );
  });
}

/** Bun's own socket (native-socket.ts), when the command moves no bulk data and the runtime is Bun. */
function dialNative(target: HostTarget, address: string, signal: AbortSignal): Promise<Raw> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const connecting = NativeSocket.connect(target.socket ? { path: socketPath(target) } : { host: address, port: target.port });
  // A connect cannot be cancelled: one that completes after connect_timeout gave up is closed at once.
  connecting.then(
    (socket) => signal.aborted && socket.destroy(),
    () => undefined,
  );
  return abortable(connecting, signal);
}

function dialOne(target: HostTarget, address: string, signal: AbortSignal): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const { connect: netConnect } = net();
    const socket = target.socket ? netConnect({ path: socketPath(target) }) : netConnect({ host: address, port: target.port });
    const onAbort = () => socket.destroy(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

/** The server's one-byte answer to an SSLRequest: S (go ahead), N (no TLS here) or E (it failed to start). */
function sslAnswer(socket: Raw, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal.removeEventListener("abort", onAbort);
    };
    const onData = (data: Buffer) => {
      cleanup();
      // libpq: anything after the answer byte was not encrypted and may have been injected by a man in the middle.
      if (data.length > 1 && data[0] === 0x53) reject(streamError("TLS_INJECTED", "received unencrypted data after the server's TLS answer"));
      else resolve(data[0]!);
    };
    const onError = (error: Error) => (cleanup(), reject(error));
    const onClose = () => (cleanup(), reject(streamError("CONNECTION_CLOSED", "the server closed the connection")));
    const onAbort = () => (cleanup(), socket.destroy(), reject(signal.reason as Error));
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.write(SSL_REQUEST);
  });
}

function readFile(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw Errors.config(setting, `cannot read ${path}: ${describeFsError(error)}`);
  }
}

const isFile = (path: string) => {
  if (!path) return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** Whether the server certificate is checked: libpq's verify modes, and `require` when a root certificate exists. */
export function verifiesServer(settings: ConnectionSettings): boolean {
  if (settings.sslmode === "verify-ca" || settings.sslmode === "verify-full") return true;
  // libpq, for compatibility with its older releases: sslmode=require with a root certificate file behaves as verify-ca.
  return settings.sslmode === "require" && settings.tls.rootcert !== "system" && isFile(settings.tls.rootcert);
}

/** The node:tls options for this host, from libpq's settings and its default files in ~/.postgresql. */
export function tlsOptions(settings: ConnectionSettings, target: HostTarget): ConnectionOptions {
  const tls = settings.tls;
  const verify = verifiesServer(settings);
  const options: ConnectionOptions = {
    rejectUnauthorized: verify,
    // The host name is checked below for verify-full: neither runtime's own check can be told to skip SNI.
    checkServerIdentity: () => undefined,
    // Never `host`: Deno sends SNI from it even when servername is empty.
    servername: tls.sni && target.host && !target.socket && isIP(target.host) === 0 ? target.host : "",
    minVersion: tls.minVersion as ConnectionOptions["minVersion"],
    maxVersion: tls.maxVersion as ConnectionOptions["maxVersion"],
  };
  if (verify) {
    if (tls.rootcert !== "system") {
      if (!tls.rootcertGiven && !isFile(tls.rootcert)) {
        // libpq's words; a TLS failure (exit 5) like every other certificate problem.
        throw streamError("TLS_NO_ROOT_CERTIFICATE", `root certificate file "${tls.rootcert || "~/.postgresql/root.crt"}" does not exist: give the CA certificate with sslrootcert, use the system's trusted roots with sslrootcert=system, or use an sslmode that does not verify the server`);
      }
      options.ca = readFile(tls.rootcert, "sslrootcert");
    }
    const crls: Buffer[] = [];
    if (tls.crlGiven || isFile(tls.crl)) crls.push(readFile(tls.crl, "sslcrl"));
    if (tls.crldir) {
      let names: string[];
      try {
        names = readdirSync(tls.crldir);
      } catch (error) {
        throw Errors.config("sslcrldir", `cannot read ${tls.crldir}: ${describeFsError(error)}`);
      }
      for (const name of names) if (isFile(join(tls.crldir, name))) crls.push(readFile(join(tls.crldir, name), "sslcrldir"));
    }
    if (crls.length) options.crl = crls;
  }
  // libpq sends the client certificate in every mode (when the server asks), unless sslcertmode=disable.
  if (tls.sendCert && isFile(tls.cert)) {
    if (!isFile(tls.key)) throw Errors.config("sslkey", `certificate ${tls.cert} is present, but not its private key file ${tls.key}`);
    const mode = statSync(tls.key).mode;
    // libpq: the key must be u=rw (0600) or less, or u=rw,g=r (0640) or less when root owns it.
    if (mode & 0o077 && !(statSync(tls.key).uid === 0 && (mode & 0o037) === 0)) {
      throw Errors.config("sslkey", `private key file ${tls.key} has group or world access; it must be 0600 or less (0640 if owned by root): chmod 0600 ${tls.key}`);
    }
    const key = readFile(tls.key, "sslkey");
    try {
      process.getBuiltinModule("node:crypto").createPrivateKey({ key, format: "pem", passphrase: tls.password ?? "" });
    } catch {
      throw Errors.config("sslkey", tls.password ? `cannot decrypt the private key ${tls.key} with sslpassword (wrong password?)` : `private key ${tls.key} is encrypted: give its password with sslpassword`);
    }
    options.cert = readFile(tls.cert, "sslcert");
    options.key = key;
    if (tls.password) options.passphrase = tls.password;
  }
  return options;
}

function upgrade(dialled: Raw, settings: ConnectionSettings, target: HostTarget, signal: AbortSignal): Promise<TLSSocket> {
  const options = tlsOptions(settings, target);
  const raw: Socket | Duplex = dialled instanceof NativeSocket ? duplexOf(dialled) : dialled;
  return new Promise((resolve, reject) => {
    let secure: TLSSocket;
    try {
      secure = tls().connect({ ...options, socket: raw as Socket });
    } catch (error) {
      raw.destroy();
      reject(error);
      return;
    }
    const onAbort = () => secure.destroy(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    secure.once("secureConnect", () => {
      signal.removeEventListener("abort", onAbort);
      secure.removeAllListeners("error");
      // From here on postgres.js listens on the TLS socket; a failure of the socket underneath must reach it there.
      raw.on("error", (error) => secure.destroy(error));
      if (settings.sslmode === "verify-full") {
        const problem = tls().checkServerIdentity(target.host || target.hostaddr!, secure.getPeerCertificate());
        if (problem) {
          secure.destroy();
          reject(problem);
          return;
        }
      }
      resolve(secure);
    });
    secure.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      raw.destroy();
      reject(error);
    });
  });
}

// The address each stream was dialled at: a TLS socket over a NativeSocket's Duplex does not know it.
const dialled = new WeakMap<Stream, string | undefined>();

/** The IP address a stream is connected to (undefined for a unix socket). */
export function streamAddress(stream: Stream): string | undefined {
  return dialled.has(stream) ? dialled.get(stream) : stream.remoteAddress;
}

/**
 * The first PBKDF2 of a Bun process costs ~2 ms more than the next ones (WebCrypto starts up). SCRAM computes one
 * as soon as the server's first message arrives; a throwaway one started while the server is still starting the
 * session takes that cost off the connection's critical path.
 */
let scramWarmed = false;
function warmScram(): void {
  if (scramWarmed || typeof Bun === "undefined") return;
  scramWarmed = true;
  const subtle = globalThis.crypto.subtle;
  subtle
    .importKey("raw", new Uint8Array(1), "PBKDF2", false, ["deriveBits"])
    .then((key) => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(1), iterations: 1 }, key, 256))
    .catch(() => undefined);
}

/**
 * Opens the stream postgres.js will speak the protocol over. `signal` aborts it (connect_timeout, or giving up).
 * `native`: over Bun's own socket (native-socket.ts) when the runtime is Bun; `password`: a password is at hand, so
 * the server may ask for SCRAM.
 */
export async function openStream(settings: ConnectionSettings, target: HostTarget, signal: AbortSignal, options: { native?: boolean; password?: boolean } = {}): Promise<Stream> {
  const mode = settings.sslmode;
  const native = Boolean(options.native) && typeof Bun !== "undefined";
  const raw = await dial(target, signal, native);
  let stream: Stream = raw;
  if ((target.socket || mode === "disable") && options.password) warmScram();
  if (!target.socket) {
    raw.setNoDelay(true);
    // The kernel's half of keepalive: TCP_KEEPIDLE is all the runtime lets us set (see runtime.ts).
    if (settings.liveness.enabled) raw.setKeepAlive(true, settings.liveness.idleSeconds * 1000);
    // libpq never asks for TLS over a unix socket.
    if (mode !== "disable") {
      const answering = sslAnswer(raw, signal);
      // The request is on its way: the wait for the answer is idle time.
      if (options.password) warmScram();
      const answer = await answering;
      if (answer === 0x53) {
        try {
          stream = await upgrade(raw, settings, target, signal);
        } catch (error) {
          // libpq's prefer: a failed handshake is retried without TLS (a configuration error is not).
          if (mode !== "prefer" || signal.aborted || (error as { name?: string }).name === "NetravenError") throw error;
          return openPlain(settings, target, signal, native);
        }
      } else if (answer === 0x4e) {
        if (mode === "require" || mode === "verify-ca" || mode === "verify-full") {
          raw.destroy();
          throw streamError("TLS_REFUSED", "the server does not accept TLS connections");
        }
      } else {
        raw.destroy();
        throw streamError("CONNECTION_CLOSED", "the server could not start a session (it answered the TLS request with an error)");
      }
    }
    if (settings.liveness.enabled) watch(stream, raw, settings);
    dialled.set(stream, raw.remoteAddress);
  }
  return stream;
}

async function openPlain(settings: ConnectionSettings, target: HostTarget, signal: AbortSignal, native: boolean): Promise<Stream> {
  const raw = await dial(target, signal, native);
  raw.setNoDelay(true);
  if (settings.liveness.enabled) {
    raw.setKeepAlive(true, settings.liveness.idleSeconds * 1000);
    watch(raw, raw, settings);
  }
  return raw;
}

function watch(stream: Stream, raw: Raw, settings: ConnectionSettings): void {
  const target = { label: `${raw.remoteAddress}:${raw.remotePort}`, address: raw.remoteAddress!, port: raw.remotePort! };
  watchConnection(stream, target, settings.liveness, askServer, (error) => failStream(stream, error));
}

/**
 * Whether the server at address:port answers at all: a new connection and an SSLRequest, whose one-byte answer
 * comes from the server process itself (a TCP handshake alone would be answered by any proxy or kernel in between).
 * After an S the TLS handshake is completed and the connection closed, so the server logs nothing.
 */
export function askServer(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net().connect({ host: address, port });
    let settled = false;
    const finish = (alive: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(alive);
    };
    const timer = setTimeout(() => {
      finish(false);
      socket.destroy();
    }, timeoutMs);
    socket.once("error", () => {
      finish(false);
      socket.destroy();
    });
    socket.once("connect", () => socket.write(SSL_REQUEST));
    socket.once("data", (data: Buffer) => {
      finish(true);
      if (data[0] !== 0x53) {
        socket.end();
        return;
      }
      const secure = tls().connect({ socket, rejectUnauthorized: false, servername: "" });
      const drop = setTimeout(() => secure.destroy(), 5000);
      secure.once("secureConnect", () => {
        clearTimeout(drop);
        secure.end();
      });
      secure.once("error", () => {
        clearTimeout(drop);
        secure.destroy();
      });
    });
  });
}
