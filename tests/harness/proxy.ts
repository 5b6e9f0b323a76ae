// A TCP proxy on loopback between the binary and a real PostgreSQL, for what a real network does and a test cannot
// arrange otherwise: go silent (a cut cable, a frozen VM: nothing is forwarded any more, nothing is closed, new
// connections are accepted and never answered), and show what the client sent in its TLS ClientHello (the server
// name, for sslsni). Listens on 127.0.0.1 only; close() drops every connection.
import { createServer, connect, type Socket } from "node:net";

export interface Proxy {
  host: string;
  port: number;
  /** Bytes forwarded so far: up = client to server, down = server to client. */
  bytes: { up: number; down: number };
  /** Per connection that started TLS, the server name its ClientHello carried ("" = no SNI), in order. */
  serverNames: string[];
  /** Stop forwarding in both directions from now on, keeping every connection open. */
  silence(): void;
  silent(): boolean;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Go silent once this many bytes have passed up (client to server) or down. */
  silenceAfter?: { up?: number; down?: number };
  /** Silent from the start: accepts connections and never answers (a host that swallows packets). */
  silent?: boolean;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** The server_name extension of a TLS ClientHello record, "" when there is none, undefined when incomplete. */
export function clientHelloServerName(record: Buffer): string | undefined {
  if (record.length < 5 || record[0] !== 0x16) return "";
  const length = record.readUInt16BE(3);
  if (record.length < 5 + length) return undefined;
  let i = 5 + 4 + 2 + 32; // handshake header, client version, random
  i += 1 + record[i]!; // session id
  i += 2 + record.readUInt16BE(i); // cipher suites
  i += 1 + record[i]!; // compression methods
  const end = i + 2 + record.readUInt16BE(i);
  i += 2;
  while (i + 4 <= end) {
    const type = record.readUInt16BE(i);
    const size = record.readUInt16BE(i + 2);
    if (type === 0) {
      const nameLength = record.readUInt16BE(i + 7);
      return record.subarray(i + 9, i + 9 + nameLength).toString("latin1");
    }
    i += 4 + size;
  }
  return "";
}

export async function startProxy(target: { host: string; port: number }, options: ProxyOptions = {}): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const bytes = { up: 0, down: 0 };
  const serverNames: string[] = [];
  let quiet = Boolean(options.silent);
  const silence = () => {
    if (quiet) return;
    quiet = true;
    // Stop reading too, so the peers' buffers fill as they would behind a dead link.
    for (const socket of sockets) socket.pause();
  };
  const server = createServer((client) => {
    sockets.add(client);
    client.on("error", () => undefined);
    client.once("close", () => sockets.delete(client));
    if (quiet) {
      client.pause();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    upstream.once("close", () => {
      sockets.delete(upstream);
      if (!quiet) client.destroy();
    });
    client.once("close", () => {
      if (!quiet) upstream.destroy();
    });
    let hello: Buffer | undefined = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      if (quiet) return;
      if (hello) {
        hello = Buffer.concat([hello, chunk]);
        if (hello.length >= 8 && !hello.subarray(0, 8).equals(SSL_REQUEST)) hello = undefined;
        else if (hello.length > 8) {
          const name = clientHelloServerName(hello.subarray(8));
          if (name !== undefined) {
            serverNames.push(name);
            hello = undefined;
          }
        }
      }
      bytes.up += chunk.length;
      upstream.write(chunk);
      if (options.silenceAfter?.up !== undefined && bytes.up >= options.silenceAfter.up) silence();
    });
    upstream.on("data", (chunk: Buffer) => {
      if (quiet) return;
      bytes.down += chunk.length;
      client.write(chunk);
      if (options.silenceAfter?.down !== undefined && bytes.down >= options.silenceAfter.down) silence();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    host: "127.0.0.1",
    port: typeof address === "object" && address ? address.port : 0,
    bytes,
    serverNames,
    silence,
    silent: () => quiet,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
