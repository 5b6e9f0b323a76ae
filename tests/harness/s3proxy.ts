// A small HTTP(S) proxy in front of the real S3 server, for the faults a healthy server never shows: answers 503
// SlowDown a few times, cuts a download short, stalls, or terminates TLS with a private CA. It forwards requests
// unchanged (the Host header too, so the client's signature still verifies at RGW) and counts what passes. Every byte
// that is not injected comes from the real server. Plain node: APIs (Bun and Deno).
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface Injected {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface ProxyOptions {
  /** Terminate TLS with this certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Answer this request instead of forwarding it (index counts from 0 over all requests). */
  inject?: (request: IncomingMessage, index: number) => Injected | undefined;
  /** Close the client's connection after this many response body bytes (of GET answers). */
  cutAfterBytes?: number;
  /** Stop sending (but keep the connection open) after this many response body bytes. */
  stallAfterBytes?: number;
  /** Never answer this request (the client waits: a writer provably in the middle of an upload). */
  hold?: (request: IncomingMessage, index: number) => boolean;
}

export interface S3Proxy {
  /** http(s)://127.0.0.1:PORT (https uses the host name "localhost" to match the certificate). */
  url: string;
  requests: Array<{ method: string; url: string; injected: boolean; headers: Record<string, string | string[] | undefined> }>;
  /** Response body bytes forwarded to clients so far. */
  bytesToClient: number;
  close(): Promise<void>;
}

export async function startS3Proxy(target: string, options: ProxyOptions = {}): Promise<S3Proxy> {
  const upstream = new URL(target);
  const open = new Set<ServerResponse>();
  const proxy: S3Proxy = { url: "", requests: [], bytesToClient: 0, close: async () => undefined };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const index = proxy.requests.length;
    const injected = options.inject?.(req, index);
    proxy.requests.push({ method: req.method ?? "", url: req.url ?? "", injected: Boolean(injected), headers: { ...req.headers } });
    if (options.hold?.(req, index)) {
      req.resume();
      open.add(res);
      res.once("close", () => open.delete(res));
      return;
    }
    if (injected) {
      req.resume();
      res.writeHead(injected.status, { "content-type": "application/xml", ...injected.headers });
      res.end(injected.body);
      return;
    }
    open.add(res);
    res.once("close", () => open.delete(res));
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let sent = 0;
        answer.on("data", (chunk: Buffer) => {
          let piece = chunk;
          const limit = options.cutAfterBytes ?? options.stallAfterBytes;
          if (req.method === "GET" && limit !== undefined && sent + piece.length > limit) piece = piece.subarray(0, Math.max(0, limit - sent));
          sent += piece.length;
          proxy.bytesToClient += piece.length;
          if (piece.length > 0 && !res.write(piece)) {
            answer.pause();
            res.once("drain", () => answer.resume());
          }
          if (req.method === "GET" && limit !== undefined && sent >= limit && piece.length < chunk.length) {
            answer.destroy();
            // End the connection after what was sent (FIN, not RST: the client gets every byte up to the cut).
            if (options.cutAfterBytes !== undefined) res.socket?.end();
          }
        });
        answer.on("end", () => res.end());
        answer.on("error", () => res.destroy());
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  };
  const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.url = options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const res of open) res.destroy();
      server.close(() => resolve());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  return proxy;
}

export function slowDown(): Injected {
  return { status: 503, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' };
}
