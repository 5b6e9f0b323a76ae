// What an S3 error answer means for the run, as classifyConnectError does for the database: transient answers
// (throttling, 5xx, a request timeout) are retried with backoff; a refusal that retrying cannot fix (wrong key, wrong
// secret, clock skew, missing bucket, denied action) fails at once with one line naming the location and the action.
// Never a secret in a message: only the access key id (not secret, and the way to tell which key was used) and the
// server's code and message, which S3 servers never fill with the secret.
import { Errors, NetravenError } from "../errors.ts";

export interface S3ErrorAnswer {
  status: number;
  /** <Code> of the error document (absent for HEAD answers, which have no body). */
  code?: string;
  /** <Message>: may be empty (RGW sends an empty one with SignatureDoesNotMatch). */
  message?: string;
  /** x-amz-bucket-region of a redirect or a wrong-region answer. */
  region?: string;
}

export interface RequestContext {
  action: string;
  /** s3://bucket/key as shown in messages. */
  where: string;
  bucket: string;
  accessKeyId: string;
  region: string;
}

export type Verdict = { retry: true; reason: string } | { retry: false; error: NetravenError };

const RETRY_CODES = new Set(["SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "RequestTimeout", "InternalError", "ServiceUnavailable", "OperationAborted"]);

function serverSays(answer: S3ErrorAnswer): string {
  const code = answer.code ? ` ${answer.code}` : "";
  const message = answer.message?.trim() ? `: ${answer.message.trim().replace(/\s+/g, " ")}` : "";
  return `HTTP ${answer.status}${code}${message}`;
}

export function classifyAnswer(answer: S3ErrorAnswer, context: RequestContext): Verdict {
  const { status, code } = answer;
  const { action, where } = context;
  const details = { action, bucket: context.bucket, http_status: status, s3_code: code ?? null };
  // 501 NotImplemented is a 5xx that never heals (e.g. a provider without Object Lock).
  if ((status >= 500 && status !== 501) || status === 429 || (code !== undefined && RETRY_CODES.has(code))) {
    return { retry: true, reason: `the storage answered ${serverSays(answer)}` };
  }
  switch (code) {
    case "InvalidAccessKeyId":
      return { retry: false, error: Errors.s3AuthFailed(`${where}: the storage does not know access key "${context.accessKeyId}" (${action}; check AWS_ACCESS_KEY_ID)`, { details }) };
    case "SignatureDoesNotMatch":
      return { retry: false, error: Errors.s3AuthFailed(`${where}: the request signature does not match for ${action}: the secret key is wrong (check AWS_SECRET_ACCESS_KEY for access key "${context.accessKeyId}")`, { details }) };
    case "RequestTimeTooSkewed":
      return { retry: false, error: Errors.s3AuthFailed(`${where}: the storage refused ${action}: this machine's clock differs too much from the storage's (fix the clock, e.g. with NTP)`, { details }) };
    case "ExpiredToken":
    case "TokenRefreshRequired":
    case "InvalidToken":
      return { retry: false, error: Errors.s3AuthFailed(`${where}: the session token is expired or invalid for ${action} (${code}; renew AWS_SESSION_TOKEN)`, { details }) };
    case "AccessDenied":
    case "AllAccessDisabled":
    case "AccountProblem":
      return {
        retry: false,
        error: Errors.s3AccessDenied(`${where}: access denied for ${action} (check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the key's permissions${action.startsWith("Delete") ? ", or an Object Lock retention protects the object" : ""})`, { details }),
      };
    case "NoSuchBucket":
      return { retry: false, error: Errors.s3BucketNotFound(`s3://${context.bucket}: no such bucket (${action}; check the bucket name, AWS_ENDPOINT_URL_S3 and AWS_REGION)`, { details }) };
    case "NoSuchKey":
      return { retry: false, error: Errors.s3ObjectNotFound(`${where}: no such object`, { details }) };
    case "NoSuchUpload":
      return { retry: false, error: Errors.s3RequestFailed(`${where}: ${action} failed: the multipart upload is gone (aborted by someone else, or expired)`, { details }) };
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
    case "IllegalLocationConstraintException":
      if (answer.region && answer.region !== context.region) {
        return { retry: false, error: Errors.config("AWS_REGION", `bucket ${context.bucket} is in region ${answer.region}, not ${context.region}; set AWS_REGION=${answer.region}`) };
      }
  }
  if (status === 301 || status === 307) {
    const region = answer.region ? `; it is in region ${answer.region}: set AWS_REGION=${answer.region}` : "";
    return { retry: false, error: Errors.s3RequestFailed(`${where}: ${action} was redirected (HTTP ${status})${region}`, { details }) };
  }
  if (status === 403) {
    // HEAD answers have no body: a 403 there may also be a wrong secret; the message says both.
    return { retry: false, error: Errors.s3AccessDenied(`${where}: access denied for ${action} (${serverSays(answer)}; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the key's permissions)`, { details }) };
  }
  if (status === 404) return { retry: false, error: Errors.s3ObjectNotFound(`${where}: no such object (${action})`, { details }) };
  return { retry: false, error: Errors.s3RequestFailed(`${where}: ${action} failed: ${serverSays(answer)}`, { details }) };
}
