// What the runtime underneath can and cannot do, where Bun (the compiled binary) and Deno differ in ways a user would
// notice. Measured, not assumed (strace of setsockopt; a TLS server that reports what the client sent):
//  - keepalive: node:net's setKeepAlive(true, ms) sets SO_KEEPALIVE and TCP_KEEPIDLE in both; Bun also fixes
//    TCP_KEEPINTVL=1 and TCP_KEEPCNT=10, Deno leaves the system's values. Neither can set TCP_USER_TIMEOUT.
//  - TLS: Bun checks the `crl` option, Deno ignores it; Deno sends SNI from `host` even with `servername: ""`.
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

export const runtime = {
  name: isDeno ? "Deno" : "Bun",
  /** node:tls honours `crl` (certificate revocation lists). */
  tlsChecksRevocation: !isDeno,
  /** What the kernel does after TCP_KEEPIDLE, which the runtime does not let us choose. */
  keepaliveProbes: isDeno ? "the system's tcp_keepalive_intvl and tcp_keepalive_probes" : "probes every 1 s, 10 of them",
} as const;

/**
 * The compiled binary starts with JavaScriptCore's JIT tier-up thresholds scaled up (build/compile.ts,
 * --compile-jit-policy): most of a command's code runs once, and compiling it was ~5 ms of every up-to-date
 * `init`. Work that moves a whole database calls this first, so its hot loops get the normal JIT at once.
 * A no-op under Deno and `bun src/main.ts`.
 */
export function normalJit(): void {
  const bun = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun;
  bun?.unsafe?.setJITPolicy?.(1);
}
