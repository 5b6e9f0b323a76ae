// The S3 client: every request signed with AWS Signature V4 (aws4fetch's signer: ~11 KB, no dependencies, WebCrypto
// only, so it runs unchanged in Bun, the compiled binary and Deno; Bun's built-in S3 client does not exist under Deno
// and the AWS SDK costs megabytes and start-up), sent with web fetch through http.ts, retried when the endpoint does
// not answer or answers 5xx/throttling, and classified (classify.ts) when it refuses. One method per S3 operation the
// backups need; bodies we send are always buffered (at most one part), bodies we read may stream.
//
// Every signed request carries x-amz-content-sha256 (RGW refuses requests without it): the SHA-256 of the body over
// plain http, where it is the only integrity check; UNSIGNED-PAYLOAD for large bodies over https, where TLS already
// protects them (what the AWS SDKs do).
import { createHash } from "node:crypto";
import { AwsV4Signer } from "aws4fetch";
import type { RetrySettings } from "../config.ts";
import { Errors, NetravenError } from "../errors.ts";
import { log } from "../log.ts";
import { classifyAnswer, type RequestContext } from "./classify.ts";
import { createFetch, describeNetworkError, type Fetch } from "./http.ts";
import { formatS3Url } from "./location.ts";
import { addressingFor, type S3Settings } from "./settings.ts";
import { child, children, completeMultipartXml, deleteObjectsXml, parseRoot, requiredText, text, type XmlElement } from "./xml.ts";

export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const UNSIGNED_ABOVE_BYTES = 64 * 1024;

export type RetentionMode = "GOVERNANCE" | "COMPLIANCE";

export interface Retention {
  mode: RetentionMode;
  retainUntil: Date;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** Without quotes. A multipart object's ETag ends with -N. */
  etag: string;
  lastModified: Date;
  versionId?: string;
  retention?: Retention;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** With a delimiter: the "subdirectories". */
  prefixes: string[];
  truncated: boolean;
}

export interface MultipartUploadInfo {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: Date;
}

export interface RequestEvent {
  action: string;
  method: string;
  url: string;
  attempt: number;
  /** HTTP status, or undefined when the request never got an answer. */
  status?: number;
}

export interface S3ClientOptions {
  /** Applies to every request: attempts in all, and the backoff between them. */
  retry?: RetrySettings;
  /** How long to wait for an answer (and for a buffered body); grows with the size of the body sent. */
  timeoutMs?: number;
  /** Called once per HTTP request sent (counting, debugging). */
  onRequest?: (event: RequestEvent) => void;
}

export const DEFAULT_RETRY: RetrySettings = { attempts: 4, intervalMs: 500, maxIntervalMs: 10_000 };

type Method = "GET" | "PUT" | "POST" | "HEAD" | "DELETE";

interface RequestSpec {
  action: string;
  method: Method;
  bucket: string;
  key?: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Send Content-MD5 (DeleteObjects and Object Lock writes require it). */
  md5?: boolean;
  /** Statuses that are answers, not errors (404 for "not there"). */
  accept?: number[];
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export interface StreamAnswer {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array>;
  /** Aborts the transfer (idle timeout, consumer gone). */
  abort(reason?: unknown): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Capped exponential backoff with jitter in [50%, 100%]: clients throttled together do not come back together. */
export function retryDelay(attempt: number, retry: RetrySettings, random = Math.random): number {
  const base = Math.min(retry.maxIntervalMs, retry.intervalMs * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + 0.5 * random()));
}

/** RFC 3986 encoding of a key, slashes kept: what SigV4 canonicalises and S3 decodes. */
export function encodeKey(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

const unquote = (etag: string | null | undefined) => (etag ?? "").replace(/^"|"$/g, "");

function sha256Hex(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

export class S3Client {
  readonly settings: S3Settings;
  readonly retry: RetrySettings;
  private readonly timeoutMs: number;
  private readonly onRequest?: (event: RequestEvent) => void;
  private readonly fetch: Fetch;
  private readonly signingCache = new Map<string, ArrayBuffer>();

  constructor(settings: S3Settings, options: S3ClientOptions = {}) {
    this.settings = settings;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.onRequest = options.onRequest;
    this.fetch = createFetch(settings.caBundle);
  }

  /** The request URL for a bucket/key, path- or virtual-hosted as the settings say. */
  url(bucket: string, key = "", query: Record<string, string | undefined> = {}): string {
    const endpoint = this.settings.endpoint;
    const base = endpoint.pathname.replace(/\/+$/, "");
    const path = key === "" ? "" : encodeKey(key);
    const url =
      addressingFor(this.settings, bucket) === "path"
        ? new URL(`${endpoint.protocol}//${endpoint.host}${base}/${bucket}/${path}`)
        : new URL(`${endpoint.protocol}//${bucket}.${endpoint.host}${base}/${path}`);
    const search = Object.entries(query)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([k, v]) => (v === "" ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
      .join("&");
    return search ? `${url.href}?${search}` : url.href;
  }

  private context(spec: RequestSpec): RequestContext {
    return { action: spec.action, where: formatS3Url(spec.bucket, spec.key ?? spec.query?.prefix ?? ""), bucket: spec.bucket, accessKeyId: this.settings.accessKeyId, region: this.settings.region };
  }

  private async signedInit(spec: RequestSpec, url: string): Promise<{ method: Method; headers: Headers; body?: Uint8Array }> {
    const body = spec.body;
    const headers: Record<string, string> = { ...spec.headers };
    const https = this.settings.endpoint.protocol === "https:";
    headers["x-amz-content-sha256"] = !body || body.length === 0 ? EMPTY_SHA256 : https && body.length > UNSIGNED_ABOVE_BYTES ? "UNSIGNED-PAYLOAD" : sha256Hex(body);
    if (spec.md5) headers["content-md5"] = createHash("md5").update(body ?? new Uint8Array(0)).digest("base64");
    const signer = new AwsV4Signer({
      method: spec.method,
      url,
      headers,
      accessKeyId: this.settings.accessKeyId,
      secretAccessKey: this.settings.secretAccessKey,
      sessionToken: this.settings.sessionToken,
      service: "s3",
      region: this.settings.region,
      cache: this.signingCache,
    });
    const signed = await signer.sign();
    return { method: spec.method, headers: signed.headers, body };
  }

  /**
   * Sends a request, retrying what can heal; returns the answer for 2xx (and `accept`ed statuses), throws a
   * NetravenError otherwise. `stream` leaves the body unread for the caller (GetObject).
   */
  private async exchange(spec: RequestSpec, stream: false): Promise<Answer>;
  private async exchange(spec: RequestSpec, stream: true): Promise<StreamAnswer>;
  private async exchange(spec: RequestSpec, stream: boolean): Promise<Answer | StreamAnswer> {
    const url = this.url(spec.bucket, spec.key, spec.query);
    const context = this.context(spec);
    const started = Date.now();
    const attempts = Math.max(1, this.retry.attempts);
    let lastReason = "";
    let answered = false;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const controller = new AbortController();
      const timeout = this.timeoutMs + (spec.body ? Math.ceil(spec.body.length / 128) : 0); // + 1 s per 128 KB sent
      const timer = setTimeout(() => controller.abort(new DOMException("no answer before the request timeout", "TimeoutError")), timeout);
      let response: Response;
      try {
        const init = await this.signedInit(spec, url);
        response = await this.fetch(url, { method: init.method, headers: init.headers, body: init.body as RequestInit["body"], signal: controller.signal });
      } catch (error) {
        clearTimeout(timer);
        this.onRequest?.({ action: spec.action, method: spec.method, url, attempt });
        const failure = describeNetworkError(controller.signal.aborted ? controller.signal.reason : error);
        if (!failure) throw Errors.s3RequestFailed(`${context.where}: ${spec.action} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        if (failure.tls) {
          throw new NetravenError("TLS_FAILED", `${context.where}: TLS failed with ${this.settings.endpoint.origin} for ${spec.action}: ${failure.reason}`, {
            hint: this.settings.caBundlePath ? `check that ${this.settings.caBundlePath} (AWS_CA_BUNDLE) holds the CA that signed the endpoint's certificate` : "for a private CA, set AWS_CA_BUNDLE to its PEM file",
            cause: error,
          });
        }
        lastReason = failure.reason;
        await this.pause(attempt, attempts, lastReason);
        continue;
      }
      this.onRequest?.({ action: spec.action, method: spec.method, url, attempt, status: response.status });
      answered = true;
      const ok = (response.status >= 200 && response.status < 300) || spec.accept?.includes(response.status);
      try {
        if (ok && stream && response.body) {
          clearTimeout(timer); // from here on the reader's idle timeout (download.ts) guards the transfer
          return { status: response.status, headers: response.headers, body: response.body, abort: (reason) => controller.abort(reason) };
        }
        const bodyText = spec.method === "HEAD" ? "" : await response.text();
        clearTimeout(timer);
        if (ok) return { status: response.status, headers: response.headers, text: bodyText };
        const answer = { status: response.status, ...parseErrorDocument(bodyText), region: response.headers.get("x-amz-bucket-region") ?? undefined };
        const verdict = classifyAnswer(answer, context);
        if (!verdict.retry) throw verdict.error;
        lastReason = verdict.reason;
      } catch (error) {
        clearTimeout(timer);
        if (error instanceof NetravenError) throw error;
        // The answer was cut off while being read: as a network failure, it may heal.
        const failure = describeNetworkError(controller.signal.aborted ? controller.signal.reason : error);
        if (!failure) throw Errors.s3RequestFailed(`${context.where}: ${spec.action} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        lastReason = failure.reason;
      }
      await this.pause(attempt, attempts, lastReason);
    }
    const waited = ((Date.now() - started) / 1000).toFixed(1);
    const what = answered ? `the storage at ${this.settings.endpoint.origin} kept failing ${spec.action}` : `cannot reach ${this.settings.endpoint.origin} for ${spec.action}`;
    throw Errors.s3Unreachable(`${context.where}: ${what}: ${lastReason}; gave up after ${attempts} attempt${attempts === 1 ? "" : "s"} over ${waited} s`, {
      hint: answered ? "the storage is overloaded or failing; try again later, or raise --retry" : "check AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) and that the storage is up; wait longer with --retry N",
      details: { action: spec.action, bucket: spec.bucket },
    });
  }

  private async pause(attempt: number, attempts: number, reason: string): Promise<void> {
    if (attempt >= attempts) return;
    const delay = retryDelay(attempt, this.retry);
    log.info(`Waiting for object storage at ${this.settings.endpoint.host} (attempt ${attempt}/${attempts}): ${reason}; retrying in ${(delay / 1000).toFixed(1)} s`);
    await sleep(delay);
  }

  private request(spec: RequestSpec): Promise<Answer> {
    return this.exchange(spec, false);
  }

  private xml(answer: Answer, spec: Pick<RequestSpec, "action" | "bucket" | "key">): XmlElement {
    try {
      return parseRoot(answer.text);
    } catch (error) {
      throw Errors.s3RequestFailed(`${formatS3Url(spec.bucket, spec.key ?? "")}: ${spec.action} failed: the storage's answer is not valid XML (${(error as Error).message.split("\n")[0]})`);
    }
  }

  // ---- buckets ----

  /** Checks that the bucket exists and the credentials may use it (HEAD has no error body: a 404 is the bucket). */
  async headBucket(bucket: string, forAction = "HeadBucket"): Promise<void> {
    const answer = await this.request({ action: forAction, method: "HEAD", bucket, accept: [404] });
    if (answer.status === 404) throw Errors.s3BucketNotFound(`s3://${bucket}: no such bucket (${forAction}; check the bucket name, AWS_ENDPOINT_URL_S3 and AWS_REGION)`);
  }

  /** Whether Object Lock is on for the bucket, and its default retention if any. */
  async getObjectLockConfiguration(bucket: string): Promise<{ enabled: boolean; defaultRetention?: { mode: RetentionMode; days?: number; years?: number } }> {
    const spec: RequestSpec = { action: "GetObjectLockConfiguration", method: "GET", bucket, query: { "object-lock": "" }, accept: [404] };
    const answer = await this.request(spec);
    if (answer.status === 404) {
      const { code } = parseErrorDocument(answer.text);
      if (code === "NoSuchBucket") throw Errors.s3BucketNotFound(`s3://${bucket}: no such bucket (GetObjectLockConfiguration; check the bucket name, AWS_ENDPOINT_URL_S3 and AWS_REGION)`);
      return { enabled: false };
    }
    const root = this.xml(answer, spec);
    const rule = child(root, "Rule");
    const retention = rule ? child(rule, "DefaultRetention") : undefined;
    return {
      enabled: text(root, "ObjectLockEnabled") === "Enabled",
      defaultRetention: retention
        ? { mode: text(retention, "Mode") as RetentionMode, days: optionalNumber(text(retention, "Days")), years: optionalNumber(text(retention, "Years")) }
        : undefined,
    };
  }

  // ---- objects ----

  async putObject(bucket: string, key: string, body: Uint8Array, options: { contentType?: string; retention?: Retention } = {}): Promise<{ etag: string; versionId?: string }> {
    const answer = await this.request({
      action: "PutObject",
      method: "PUT",
      bucket,
      key,
      body,
      headers: { "content-type": options.contentType ?? "application/octet-stream", ...retentionHeaders(options.retention) },
      md5: options.retention !== undefined,
    });
    return { etag: unquote(answer.headers.get("etag")), versionId: answer.headers.get("x-amz-version-id") ?? undefined };
  }

  /** The object's size and ETag, or undefined when there is no such key (a missing bucket still throws). */
  async headObject(bucket: string, key: string, options: { versionId?: string } = {}): Promise<ObjectInfo | undefined> {
    const answer = await this.request({ action: "HeadObject", method: "HEAD", bucket, key, query: { versionId: options.versionId }, accept: [404] });
    if (answer.status === 404) {
      await this.headBucket(bucket, "HeadObject"); // a HEAD 404 has no body: tell a missing bucket from a missing key
      return undefined;
    }
    const mode = answer.headers.get("x-amz-object-lock-mode");
    const until = answer.headers.get("x-amz-object-lock-retain-until-date");
    return {
      key,
      size: Number(answer.headers.get("content-length") ?? 0),
      etag: unquote(answer.headers.get("etag")),
      lastModified: new Date(answer.headers.get("last-modified") ?? 0),
      versionId: answer.headers.get("x-amz-version-id") ?? undefined,
      retention: mode && until ? { mode: mode as RetentionMode, retainUntil: new Date(until) } : undefined,
    };
  }

  /**
   * GetObject with the body unread (download.ts streams it). `range` is inclusive, as in HTTP: [first, last];
   * `ifMatch` pins the object version a resumed or ranged read expects.
   */
  async getObject(bucket: string, key: string, options: { range?: [number, number?]; ifMatch?: string; versionId?: string } = {}): Promise<StreamAnswer> {
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    if (options.range) headers.range = `bytes=${options.range[0]}-${options.range[1] ?? ""}`;
    if (options.ifMatch) headers["if-match"] = `"${options.ifMatch}"`;
    return this.exchange({ action: "GetObject", method: "GET", bucket, key, headers, query: { versionId: options.versionId } }, true);
  }

  /** ListObjectsV2, one request per page; yields each page as it arrives. */
  async *listObjectPages(bucket: string, prefix: string, options: { pageSize?: number; delimiter?: string; startAfter?: string } = {}): AsyncGenerator<ListPage> {
    let token: string | undefined;
    do {
      const spec: RequestSpec = {
        action: "ListObjectsV2",
        method: "GET",
        bucket,
        query: { "list-type": "2", prefix, "max-keys": options.pageSize ? String(options.pageSize) : undefined, delimiter: options.delimiter, "continuation-token": token, "start-after": token ? undefined : options.startAfter },
      };
      const root = this.xml(await this.request(spec), { ...spec, key: prefix });
      const truncated = text(root, "IsTruncated") === "true";
      token = truncated ? text(root, "NextContinuationToken") : undefined;
      if (truncated && !token) throw Errors.s3RequestFailed(`${formatS3Url(bucket, prefix)}: ListObjectsV2 failed: a truncated page without NextContinuationToken`);
      yield {
        objects: children(root, "Contents").map((c) => ({
          key: requiredText(c, "Key"),
          size: Number(text(c, "Size") ?? 0),
          etag: unquote(text(c, "ETag")),
          lastModified: new Date(text(c, "LastModified") ?? 0),
        })),
        prefixes: children(root, "CommonPrefixes").map((p) => requiredText(p, "Prefix")),
        truncated,
      };
    } while (token);
  }

  /** Every object under the prefix (all pages). */
  async listObjects(bucket: string, prefix: string, options: { pageSize?: number } = {}): Promise<ObjectInfo[]> {
    const all: ObjectInfo[] = [];
    for await (const page of this.listObjectPages(bucket, prefix, options)) all.push(...page.objects);
    return all;
  }

  /** DeleteObject. In a versioned (Object Lock) bucket, without versionId it only adds a delete marker. */
  async deleteObject(bucket: string, key: string, options: { versionId?: string; bypassGovernance?: boolean } = {}): Promise<void> {
    await this.request({
      action: "DeleteObject",
      method: "DELETE",
      bucket,
      key,
      query: { versionId: options.versionId },
      headers: options.bypassGovernance ? { "x-amz-bypass-governance-retention": "true" } : {},
    });
  }

  /** DeleteObjects in batches of 1000; the answer lists what the storage refused per key (e.g. a locked version). */
  async deleteObjects(bucket: string, objects: Array<{ key: string; versionId?: string }>): Promise<{ deleted: string[]; errors: Array<{ key: string; code: string; message: string }> }> {
    const deleted: string[] = [];
    const errors: Array<{ key: string; code: string; message: string }> = [];
    for (let i = 0; i < objects.length; i += 1000) {
      const batch = objects.slice(i, i + 1000);
      const spec: RequestSpec = { action: "DeleteObjects", method: "POST", bucket, query: { delete: "" }, body: new TextEncoder().encode(deleteObjectsXml(batch, false)), md5: true, headers: { "content-type": "application/xml" } };
      const root = this.xml(await this.request(spec), spec);
      for (const d of children(root, "Deleted")) deleted.push(requiredText(d, "Key"));
      for (const e of children(root, "Error")) errors.push({ key: text(e, "Key") ?? "", code: text(e, "Code") ?? "", message: text(e, "Message") ?? "" });
    }
    return { deleted, errors };
  }

  /** The object's Object Lock retention, or undefined when it has none. */
  async getObjectRetention(bucket: string, key: string, options: { versionId?: string } = {}): Promise<Retention | undefined> {
    const spec: RequestSpec = { action: "GetObjectRetention", method: "GET", bucket, key, query: { retention: "", versionId: options.versionId }, accept: [404, 400] };
    const answer = await this.request(spec);
    if (answer.status !== 200) {
      const error = parseErrorDocument(answer.text);
      // A missing key or bucket is an error; "no retention here" (NoSuchObjectLockConfiguration, or 400
      // InvalidRequest when the bucket has no Object Lock) is an answer.
      const missing = error.code === "NoSuchKey" || error.code === "NoSuchBucket";
      if (missing || (answer.status === 400 && error.code !== "InvalidRequest")) {
        const verdict = classifyAnswer({ status: answer.status, ...error }, this.context(spec));
        if (!verdict.retry) throw verdict.error;
      }
      return undefined;
    }
    const root = this.xml(answer, spec);
    const mode = text(root, "Mode");
    const until = text(root, "RetainUntilDate");
    return mode && until ? { mode: mode as RetentionMode, retainUntil: new Date(until) } : undefined;
  }

  /** Sets Object Lock retention on an existing object (version). Retention can be lengthened, never shortened. */
  async putObjectRetention(bucket: string, key: string, retention: Retention, options: { versionId?: string } = {}): Promise<void> {
    const until = retention.retainUntil.toISOString().replace(/\.\d{3}Z$/, "Z");
    const xml = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>${retention.mode}</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`;
    await this.request({ action: "PutObjectRetention", method: "PUT", bucket, key, query: { retention: "", versionId: options.versionId }, body: new TextEncoder().encode(xml), md5: true, headers: { "content-type": "application/xml" } });
  }

  // ---- multipart uploads ----

  async createMultipartUpload(bucket: string, key: string, options: { contentType?: string; retention?: Retention } = {}): Promise<string> {
    const spec: RequestSpec = {
      action: "CreateMultipartUpload",
      method: "POST",
      bucket,
      key,
      query: { uploads: "" },
      headers: { "content-type": options.contentType ?? "application/octet-stream", ...retentionHeaders(options.retention) },
    };
    const root = this.xml(await this.request(spec), spec);
    const uploadId = text(root, "UploadId");
    if (!uploadId) throw Errors.s3RequestFailed(`${formatS3Url(bucket, key)}: CreateMultipartUpload failed: no UploadId in the answer`);
    return uploadId;
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Uint8Array, options: { md5?: boolean } = {}): Promise<string> {
    const answer = await this.request({ action: "UploadPart", method: "PUT", bucket, key, query: { partNumber: String(partNumber), uploadId }, body, md5: options.md5 });
    const etag = unquote(answer.headers.get("etag"));
    if (!etag) throw Errors.s3RequestFailed(`${formatS3Url(bucket, key)}: UploadPart ${partNumber} failed: no ETag in the answer`);
    return etag;
  }

  /**
   * CompleteMultipartUpload. S3 may answer 200 with an <Error> document (the failure is then in the body), and RGW
   * 16 answers an empty <ETag>: the returned etag may be "" (HEAD the object for the real one).
   */
  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<{ etag: string; versionId?: string }> {
    const spec: RequestSpec = {
      action: "CompleteMultipartUpload",
      method: "POST",
      bucket,
      key,
      query: { uploadId },
      body: new TextEncoder().encode(completeMultipartXml(parts.map((p) => ({ partNumber: p.partNumber, etag: `"${p.etag}"` })))),
      headers: { "content-type": "application/xml" },
    };
    const answer = await this.request(spec);
    const root = this.xml(answer, spec);
    if (root.name === "Error") {
      const verdict = classifyAnswer({ status: 200, code: text(root, "Code"), message: text(root, "Message") }, this.context(spec));
      throw verdict.retry ? Errors.s3RequestFailed(`${formatS3Url(bucket, key)}: CompleteMultipartUpload failed: ${verdict.reason}`) : verdict.error;
    }
    return { etag: unquote(text(root, "ETag")), versionId: answer.headers.get("x-amz-version-id") ?? undefined };
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    // 404 NoSuchUpload: already gone, which is what abort wants.
    await this.request({ action: "AbortMultipartUpload", method: "DELETE", bucket, key, query: { uploadId }, accept: [404] });
  }

  /** ListMultipartUploads under a prefix, all pages. */
  async listMultipartUploads(bucket: string, prefix: string): Promise<MultipartUploadInfo[]> {
    const uploads: MultipartUploadInfo[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const spec: RequestSpec = { action: "ListMultipartUploads", method: "GET", bucket, query: { uploads: "", prefix, "key-marker": keyMarker, "upload-id-marker": uploadIdMarker } };
      const root = this.xml(await this.request(spec), { ...spec, key: prefix });
      for (const u of children(root, "Upload")) {
        uploads.push({ key: requiredText(u, "Key"), uploadId: requiredText(u, "UploadId"), initiated: new Date(text(u, "Initiated") ?? 0) });
      }
      const truncated = text(root, "IsTruncated") === "true";
      keyMarker = truncated ? text(root, "NextKeyMarker") : undefined;
      uploadIdMarker = truncated ? text(root, "NextUploadIdMarker") : undefined;
      if (truncated && !keyMarker) break;
    } while (keyMarker);
    return uploads;
  }

  /** The parts uploaded so far (all pages). */
  async listParts(bucket: string, key: string, uploadId: string): Promise<PartInfo[]> {
    const parts: PartInfo[] = [];
    let marker: string | undefined;
    do {
      const spec: RequestSpec = { action: "ListParts", method: "GET", bucket, key, query: { uploadId, "part-number-marker": marker } };
      const root = this.xml(await this.request(spec), spec);
      for (const p of children(root, "Part")) {
        parts.push({ partNumber: Number(requiredText(p, "PartNumber")), etag: unquote(text(p, "ETag")), size: Number(text(p, "Size") ?? 0), lastModified: new Date(text(p, "LastModified") ?? 0) });
      }
      marker = text(root, "IsTruncated") === "true" ? text(root, "NextPartNumberMarker") : undefined;
    } while (marker);
    return parts;
  }
}

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined || value === "" ? undefined : Number(value);
}

function retentionHeaders(retention: Retention | undefined): Record<string, string> {
  if (!retention) return {};
  return { "x-amz-object-lock-mode": retention.mode, "x-amz-object-lock-retain-until-date": retention.retainUntil.toISOString().replace(/\.\d{3}Z$/, "Z") };
}

/** <Error><Code/><Message/></Error>, tolerant of an empty or non-XML body (HEAD, proxies). */
export function parseErrorDocument(body: string): { code?: string; message?: string } {
  if (!body.trim()) return {};
  try {
    const root = parseRoot(body);
    if (root.name !== "Error") return {};
    return { code: text(root, "Code") || undefined, message: text(root, "Message") || undefined };
  } catch {
    return {};
  }
}
