// Every connection parameter libpq knows (PostgreSQL 15 to 18), the PG* variable libpq reads for it, libpq's own check
// of its value, and what netraven-db cannot honour. One table, so the string parser, the service file reader and the
// environment reader agree, and a parameter that is accepted is never silently ignored: what the tool cannot do is
// refused in one line that names the parameter and says why. A keyword libpq does not know is a typo.
import { runtime } from "../runtime.ts";
import { isIP } from "./ip.ts";

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
export const TARGET_SESSION_ATTRS = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];
export const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;

interface Rule {
  /** The environment variable libpq falls back to when the parameter is not in the connection string. */
  env?: string;
  /** libpq's own validation: a problem in words, or undefined. */
  check?: (value: string) => string | undefined;
  /** Why netraven-db cannot honour this value; undefined when it does. */
  refuse?: (value: string) => string | undefined;
  /** Never echoed in messages. */
  secret?: boolean;
}

const oneOf = (allowed: readonly string[]) => (value: string) => (allowed.includes(value) ? undefined : `must be one of ${allowed.join(", ")}`);
// libpq's pqParseIntParam: an optional sign, digits, trailing blanks.
const integer = (value: string) => (/^\s*[-+]?\d+\s*$/.test(value) && Math.abs(Number(value)) <= 2 ** 31 - 1 ? undefined : "must be a whole number");
const zeroOrOne = oneOf(["0", "1"]);
const always = (reason: string) => () => reason;
const NO_GSSAPI = "netraven-db has no GSSAPI/Kerberos support";

const RULES = {
  host: { env: "PGHOST" },
  hostaddr: {
    env: "PGHOSTADDR",
    check: (value) => (value.split(",").every((a) => a === "" || isIP(a) !== 0) ? undefined : "must be numeric IP addresses (IPv4 or IPv6), comma-separated; names go in host"),
  },
  // Checked per host where the list is split (settings.ts).
  port: { env: "PGPORT" },
  dbname: { env: "PGDATABASE" },
  user: { env: "PGUSER" },
  password: { env: "PGPASSWORD", secret: true },
  passfile: { env: "PGPASSFILE" },
  service: { env: "PGSERVICE" },
  servicefile: { env: "PGSERVICEFILE" },
  connect_timeout: { env: "PGCONNECT_TIMEOUT", check: integer },
  client_encoding: {
    env: "PGCLIENTENCODING",
    // Backups are UTF-8 text and postgres.js decodes every byte as UTF-8: another encoding would corrupt data.
    refuse: (value) => (["utf8", "unicode", "auto"].includes(value.toLowerCase().replace(/[-_]/g, "")) ? undefined : "netraven-db reads and writes UTF-8 only (backups are UTF-8 text); use UTF8 or leave it unset"),
  },
  options: { env: "PGOPTIONS" },
  application_name: { env: "PGAPPNAME" },
  fallback_application_name: {},
  keepalives: { check: integer },
  keepalives_idle: { check: integer },
  keepalives_interval: { check: integer },
  keepalives_count: { check: integer },
  tcp_user_timeout: { check: integer },
  sslmode: { env: "PGSSLMODE", check: oneOf(SSL_MODES) },
  sslnegotiation: {
    env: "PGSSLNEGOTIATION",
    check: oneOf(["postgres", "direct"]),
    refuse: (value) => (value === "direct" ? "netraven-db negotiates TLS the classic way only (sslnegotiation=postgres), which every server accepts" : undefined),
  },
  sslcompression: { env: "PGSSLCOMPRESSION", check: zeroOrOne, refuse: (value) => (value === "1" ? "TLS compression is not available in the TLS library netraven-db uses (and is off in every current OpenSSL)" : undefined) },
  sslcert: { env: "PGSSLCERT" },
  sslkey: { env: "PGSSLKEY" },
  sslpassword: { secret: true },
  sslcertmode: {
    env: "PGSSLCERTMODE",
    check: oneOf(["disable", "allow", "require"]),
    refuse: (value) => (value === "require" ? "netraven-db cannot tell whether the server asked for a client certificate, so it cannot require that it did" : undefined),
  },
  sslrootcert: { env: "PGSSLROOTCERT" },
  sslcrl: { env: "PGSSLCRL", refuse: () => (runtime.tlsChecksRevocation ? undefined : `${runtime.name}'s TLS does not check certificate revocation lists; use the compiled netraven-db binary`) },
  sslcrldir: { env: "PGSSLCRLDIR", refuse: () => (runtime.tlsChecksRevocation ? undefined : `${runtime.name}'s TLS does not check certificate revocation lists; use the compiled netraven-db binary`) },
  sslsni: { env: "PGSSLSNI", check: zeroOrOne },
  sslkeylogfile: { refuse: always("netraven-db does not write TLS key logs") },
  ssl_min_protocol_version: { env: "PGSSLMINPROTOCOLVERSION", check: oneOf(TLS_VERSIONS) },
  ssl_max_protocol_version: { env: "PGSSLMAXPROTOCOLVERSION", check: oneOf(TLS_VERSIONS) },
  requirepeer: { env: "PGREQUIREPEER", refuse: always("netraven-db cannot check the owner of a unix socket's peer (the runtime does not expose SO_PEERCRED)") },
  require_auth: { env: "PGREQUIREAUTH", refuse: always("netraven-db cannot restrict which authentication method the server asks for") },
  channel_binding: {
    env: "PGCHANNELBINDING",
    check: oneOf(["disable", "prefer", "require"]),
    refuse: (value) => (value === "require" ? "netraven-db authenticates with SCRAM-SHA-256 without channel binding (SCRAM-SHA-256-PLUS is not supported)" : undefined),
  },
  gssencmode: { env: "PGGSSENCMODE", check: oneOf(["disable", "prefer", "require"]), refuse: (value) => (value === "require" ? NO_GSSAPI : undefined) },
  krbsrvname: { env: "PGKRBSRVNAME", refuse: always(NO_GSSAPI) },
  gsslib: { env: "PGGSSLIB", refuse: always(NO_GSSAPI) },
  gssdelegation: { env: "PGGSSDELEGATION", check: zeroOrOne, refuse: (value) => (value === "1" ? NO_GSSAPI : undefined) },
  replication: {
    refuse: (value) => (["0", "off", "false", "no"].includes(value.toLowerCase()) ? undefined : "netraven-db does not open replication connections"),
  },
  target_session_attrs: { env: "PGTARGETSESSIONATTRS", check: oneOf(TARGET_SESSION_ATTRS) },
  load_balance_hosts: { env: "PGLOADBALANCEHOSTS", check: oneOf(["disable", "random"]) },
  min_protocol_version: {
    env: "PGMINPROTOCOLVERSION",
    check: oneOf(["3.0", "3.2", "latest"]),
    refuse: (value) => (value === "3.0" ? undefined : "netraven-db speaks protocol version 3.0 only"),
  },
  max_protocol_version: { env: "PGMAXPROTOCOLVERSION", check: oneOf(["3.0", "3.2", "latest"]) },
  scram_client_key: { secret: true, refuse: always("netraven-db authenticates with a password, not with SCRAM keys") },
  scram_server_key: { secret: true, refuse: always("netraven-db authenticates with a password, not with SCRAM keys") },
  oauth_issuer: { refuse: always("netraven-db has no OAuth support") },
  oauth_client_id: { refuse: always("netraven-db has no OAuth support") },
  oauth_client_secret: { secret: true, refuse: always("netraven-db has no OAuth support") },
  oauth_scope: { refuse: always("netraven-db has no OAuth support") },
} satisfies Record<string, Rule>;

export type Keyword = keyof typeof RULES;
export type ConnInfo = Partial<Record<Keyword, string>>;

export const KEYWORDS = Object.keys(RULES) as Keyword[];

/** Spellings other clients use (JDBC, postgres.js) that users paste into URLs. */
const SYNONYMS: Record<string, Keyword> = { database: "dbname", username: "user" };

export function keywordFor(name: string): Keyword | undefined {
  const normalized = SYNONYMS[name] ?? name;
  return Object.hasOwn(RULES, normalized) ? (normalized as Keyword) : undefined;
}

export function envVariable(keyword: Keyword): string | undefined {
  return (RULES[keyword] as Rule).env;
}

export function isSecret(keyword: Keyword): boolean {
  return Boolean((RULES[keyword] as Rule).secret);
}

/** libpq's check of the value, then whether netraven-db can honour it: the problem in words, or undefined. */
export function problemWith(keyword: Keyword, value: string): string | undefined {
  const rule = RULES[keyword] as Rule;
  const problem = rule.check?.(value);
  if (problem) return isSecret(keyword) ? problem : `${problem} (got ${JSON.stringify(value)})`;
  const refusal = rule.refuse?.(value);
  if (refusal) return `not supported: ${refusal}`;
  return undefined;
}

/** Every keyword netraven-db refuses outright or for some values, for the README and the tests. */
export function refusals(): Array<{ keyword: Keyword; example: string; reason: string }> {
  const examples: Partial<Record<Keyword, string>> = {
    client_encoding: "LATIN1", sslnegotiation: "direct", sslcompression: "1", sslcertmode: "require", channel_binding: "require",
    gssencmode: "require", gssdelegation: "1", replication: "database", min_protocol_version: "3.2",
  };
  return KEYWORDS.flatMap((keyword) => {
    const rule = RULES[keyword] as Rule;
    const example = examples[keyword] ?? "x";
    const reason = rule.refuse?.(example);
    return reason ? [{ keyword, example, reason }] : [];
  });
}
