// Object-storage settings, read the way every S3 tool reads them (AWS CLI, SDKs, rclone, restic): AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION/AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL and
// AWS_CA_BUNDLE, each also as *_FILE (Docker and Kubernetes secrets), so an admin's existing S3 setup just works.
// Validated here with one line naming the variable; secrets are registered for scrubbing before anything can print.
//
// Addressing: custom endpoints (MinIO, Ceph RGW, Garage, R2, B2...) mostly serve path-style (`host/bucket/key`),
// AWS itself prefers virtual-hosted (`bucket.host/key`). NETRAVEN_DB_S3_ADDRESSING_STYLE=auto|path|virtual forces
// either; the name and values are the AWS CLI's own `s3.addressing_style` setting, which S3 admins already know.
import { readFileSync } from "node:fs";
import * as z from "../zod.ts";
import { readEnvOrFile, type Env } from "../config.ts";
import { Errors } from "../errors.ts";
import { describeFsError } from "../files.ts";
import { registerSecret } from "../secrets.ts";

export type AddressingStyle = "path" | "virtual";

export interface S3Settings {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  /** Endpoint base URL without a trailing slash, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:7480. */
  endpoint: URL;
  /** True when the endpoint came from AWS_ENDPOINT_URL(_S3), i.e. not AWS itself. */
  customEndpoint: boolean;
  /** "auto" resolved: path for custom endpoints, virtual for AWS (path for bucket names with dots, as the AWS CLI). */
  addressing: "auto" | AddressingStyle;
  /** PEM text of AWS_CA_BUNDLE: the CAs trusted for the endpoint instead of the system's. */
  caBundle?: string;
  /** Where the CA bundle came from, for messages. */
  caBundlePath?: string;
}

export const ADDRESSING_VARIABLE = "NETRAVEN_DB_S3_ADDRESSING_STYLE";

const REGION = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,40}[a-z0-9]$/, "must be a region name such as us-east-1, eu-central-1 or auto"));

const ACCESS_KEY = z
  .string()
  .check(z.minLength(3, "must be at least 3 characters"), z.maxLength(256, "must be at most 256 characters"), z.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"));

const SECRET = z
  .string()
  .check(
    z.minLength(3, "must be at least 3 characters"),
    z.maxLength(1024, "is too long"),
    z.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces (a trailing newline in a *_FILE is removed)"),
  );

const ENDPOINT = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    const problem = (message: string) => (ctx.issues.push({ code: "custom", message, input: text }), z.NEVER);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return problem("must be a URL such as https://s3.example.com or http://127.0.0.1:9000");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return problem("must start with http:// or https://");
    if (url.username || url.password) return problem("must not contain credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    if (url.search || url.hash) return problem("must not have a query or fragment");
    return url;
  }),
);

const ADDRESSING = z.enum(["auto", "path", "virtual"], { message: "must be auto, path or virtual" });

function parse<T>(schema: z.core.$ZodType<T>, variable: string, value: string, secret = false): T {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    const problem = parsed.error.issues[0]?.message ?? "invalid value";
    // A URL with user:password@ is not echoed either.
    const echo = !secret && !/\/\/[^/]*@/.test(value);
    throw Errors.config(variable, echo ? `${problem} (got ${JSON.stringify(value)})` : problem);
  }
  return parsed.data;
}

/** An AWS_* variable (or its *_FILE): empty means unset, as for the AWS CLI and SDKs (and libpq's PG* variables). */
function readAws(env: Env, name: string): string | undefined {
  return readEnvOrFile(env, name, { empty: "unset" });
}

/** The first variable of `names` that is set (directly or as *_FILE), with its value. */
function firstSet(env: Env, names: string[]): [string, string] | undefined {
  for (const name of names) {
    const value = readAws(env, name);
    if (value !== undefined) return [name, value];
  }
  return undefined;
}

function readCaBundle(path: string, variable: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw Errors.config(variable, `cannot read ${path}: ${describeFsError(error)}`);
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text)) {
    throw Errors.config(variable, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return text;
}

/** Resolves and validates the S3 settings from the environment; registers the secret key and token for scrubbing. */
export function resolveS3Settings(env: Env): S3Settings {
  // Secrets first: even when another setting is invalid, they must already be scrubbed from whatever prints.
  const secretRaw = readAws(env, "AWS_SECRET_ACCESS_KEY");
  const tokenRaw = readAws(env, "AWS_SESSION_TOKEN");
  registerSecret(secretRaw);
  registerSecret(tokenRaw);

  const keyRaw = readAws(env, "AWS_ACCESS_KEY_ID");
  if (keyRaw === undefined && secretRaw === undefined) {
    throw Errors.config("AWS_ACCESS_KEY_ID", "object storage needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their *_FILE variants)");
  }
  if (keyRaw === undefined) throw Errors.config("AWS_ACCESS_KEY_ID", "is not set, but AWS_SECRET_ACCESS_KEY is; set both");
  if (secretRaw === undefined) throw Errors.config("AWS_SECRET_ACCESS_KEY", "is not set, but AWS_ACCESS_KEY_ID is; set both");
  const accessKeyId = parse(ACCESS_KEY, "AWS_ACCESS_KEY_ID", keyRaw);
  const secretAccessKey = parse(SECRET, "AWS_SECRET_ACCESS_KEY", secretRaw, true);
  const sessionToken = tokenRaw === undefined ? undefined : parse(SECRET, "AWS_SESSION_TOKEN", tokenRaw, true);

  const regionSet = firstSet(env, ["AWS_REGION", "AWS_DEFAULT_REGION"]);
  const region = regionSet ? parse(REGION, regionSet[0], regionSet[1]) : "us-east-1";

  const endpointSet = firstSet(env, ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]);
  const endpoint = endpointSet
    ? parse(ENDPOINT, endpointSet[0], endpointSet[1])
    : new URL(region === "us-east-1" ? "https://s3.amazonaws.com" : `https://s3.${region}.amazonaws.com`);
  endpoint.pathname = endpoint.pathname.replace(/\/+$/, "");

  const addressingRaw = readEnvOrFile(env, ADDRESSING_VARIABLE);
  const addressing = addressingRaw === undefined ? "auto" : parse(ADDRESSING, ADDRESSING_VARIABLE, addressingRaw);

  const caPath = readAws(env, "AWS_CA_BUNDLE");
  const caBundle = caPath === undefined ? undefined : readCaBundle(caPath, "AWS_CA_BUNDLE");

  return { accessKeyId, secretAccessKey, sessionToken, region, endpoint, customEndpoint: endpointSet !== undefined, addressing, caBundle, caBundlePath: caPath };
}

/** Path- or virtual-hosted addressing for this bucket. */
export function addressingFor(settings: Pick<S3Settings, "addressing" | "customEndpoint" | "endpoint">, bucket: string): AddressingStyle {
  if (settings.addressing !== "auto") return settings.addressing;
  if (settings.customEndpoint) return "path";
  // A dotted bucket name does not match the *.s3.amazonaws.com certificate as a host name.
  return bucket.includes(".") ? "path" : "virtual";
}
