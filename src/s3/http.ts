// The one place that knows how Bun and Deno differ for HTTP(S): how fetch trusts a private CA (AWS_CA_BUNDLE) and how
// a failed connection looks. Bun takes `tls: { ca }` per request and reports errno-like codes (ECONNREFUSED);
// Deno takes a client from Deno.createHttpClient({ caCerts }) and reports "fetch failed" with the reason in words in
// `cause`. Everything else in src/s3 uses plain web fetch.
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

declare const Deno: { createHttpClient(options: { caCerts?: string[] }): unknown } | undefined;

const isDeno = typeof Deno !== "undefined" && typeof Deno?.createHttpClient === "function";

/** A fetch that trusts `caBundle` (PEM) instead of the system CAs when given; never follows redirects. */
export function createFetch(caBundle?: string): Fetch {
  // Redirects are answers to classify (a bucket in another region), not to follow: a followed PUT would lose its body
  // and its signature. Bun decompresses by default: S3 bodies are stored bytes and must arrive as stored.
  const base: Record<string, unknown> = { redirect: "manual", decompress: false };
  if (caBundle) {
    if (isDeno) base.client = Deno!.createHttpClient({ caCerts: [caBundle] });
    else base.tls = { ca: caBundle };
  }
  return (url, init) => fetch(url, { ...base, ...init } as RequestInit);
}

export interface NetworkFailure {
  /** A TLS failure (untrusted or mismatched certificate) cannot heal by retrying; the rest may. */
  tls: boolean;
  /** In words, for messages: "connection refused", "host name does not resolve", ... */
  reason: string;
}

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: "connection refused (is the endpoint running and listening there?)",
  ConnectionRefused: "connection refused (is the endpoint running and listening there?)",
  ENOTFOUND: "host name does not resolve",
  EAI_AGAIN: "host name lookup failed temporarily",
  ECONNRESET: "connection reset by the server",
  ConnectionClosed: "the server closed the connection",
  EPIPE: "the server closed the connection",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  FailedToOpenSocket: "could not open a connection",
};

// Deno's wording (hyper/rustls) → ours.
const BY_TEXT: Array<[RegExp, string, boolean]> = [
  [/invalid peer certificate|certificate|UnknownIssuer|NotValidForName|tls/i, "", true],
  [/connection refused/i, BY_CODE.ECONNREFUSED!, false],
  [/dns error|failed to lookup|name or service not known/i, BY_CODE.ENOTFOUND!, false],
  [/connection reset/i, BY_CODE.ECONNRESET!, false],
  [/connection closed|broken pipe|unexpected eof|incomplete message/i, BY_CODE.ConnectionClosed!, false],
  [/timed out/i, BY_CODE.ETIMEDOUT!, false],
];

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO|HOSTNAME|ALTNAME/;

/** Describes an error thrown by fetch (not an HTTP answer), or undefined when it is not a transport failure. */
export function describeNetworkError(error: unknown): NetworkFailure | undefined {
  const e = error as { name?: string; code?: unknown; message?: string; cause?: { code?: unknown; message?: string } };
  if (e?.name === "TimeoutError") return { tls: false, reason: "no answer before the request timeout" };
  const code = typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : undefined;
  const words = `${e?.message ?? ""} ${e?.cause?.message ?? ""}`;
  if (code && TLS_CODE.test(code)) return { tls: true, reason: `certificate not accepted (${code})` };
  if (code && BY_CODE[code]) return { tls: false, reason: BY_CODE[code]! };
  if (!(error instanceof TypeError) && !(error instanceof Error)) return undefined;
  for (const [pattern, reason, tls] of BY_TEXT) {
    if (pattern.test(words)) return { tls, reason: tls ? `certificate not accepted (${(e.cause?.message ?? e.message ?? "").replace(/^.*client error \(Connect\): /, "")})` : reason };
  }
  if (error instanceof TypeError) return { tls: false, reason: (e.cause?.message ?? e.message ?? "network error").replace(/^error sending request.*?: /, "") };
  return undefined;
}
