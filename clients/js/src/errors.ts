/**
 * Typed errors mirroring keyward's answers, which use DRF's shapes:
 * `{"detail": "...", "code": "..."}` for most errors and `{"field": ["message"]}` for bad fields.
 */

/** A simplejwt `messages` entry: why one token class refused a token. */
export interface TokenClassMessage {
  token_class: string;
  token_type: string;
  message: string;
}

/** Any error answer from keyward (or none at all, for `NetworkError`). */
export class KeywardError extends Error {
  /** The HTTP status (0 when no answer came). */
  readonly status: number;
  /** The `detail` of the body, when it has one. */
  readonly detail: string | undefined;
  /** The `code` of the body (`token_not_valid`, `csrf_failed`, ...), when it has one. */
  readonly code: string | undefined;
  /** The parsed JSON body (or `undefined`). */
  readonly body: unknown;

  constructor(status: number, body: unknown, message?: string) {
    const detail = detailOf(body);
    super(message ?? detail ?? `keyward answered ${status}`);
    this.name = new.target.name;
    this.status = status;
    this.body = body;
    this.detail = detail;
    this.code = codeOf(body);
  }
}

/** 400 with per-field messages (`{"password": ["This password is too short. ..."]}`), or a
 * body that could not be parsed (`{"detail": "JSON parse error - ..."}`). */
export class ValidationError extends KeywardError {
  /** Field name -> messages; empty for a parse error. */
  readonly fields: Record<string, string[]>;

  constructor(status: number, body: unknown) {
    const fields = fieldsOf(body);
    const first = Object.entries(fields)[0];
    super(status, body, first ? `${first[0]}: ${first[1].join(" ")}` : undefined);
    this.fields = fields;
  }
}

/** 401: wrong credentials (no `code`), or a refused token or user (`user_inactive`, ...). */
export class AuthenticationError extends KeywardError {}

/** 401 `code: "token_not_valid"`: an expired, blacklisted or otherwise refused token. */
export class TokenNotValidError extends AuthenticationError {
  /** One entry per token class tried, on protected routes. */
  readonly messages: TokenClassMessage[];

  constructor(status: number, body: unknown) {
    super(status, body);
    const messages = (body as { messages?: unknown } | null)?.messages;
    this.messages = Array.isArray(messages) ? (messages as TokenClassMessage[]) : [];
  }
}

/** 403: not allowed, or (`code: "csrf_failed"`) a cookie request from an untrusted page. */
export class PermissionDeniedError extends KeywardError {}

/** 404. */
export class NotFoundError extends KeywardError {}

/** 429 after repeated failed sign-ins; wait `retryAfter` seconds. */
export class ThrottledError extends KeywardError {
  readonly retryAfter: number | undefined;

  constructor(status: number, body: unknown, retryAfter: number | undefined) {
    super(status, body);
    this.retryAfter = retryAfter;
  }
}

/** 503: keyward's database is unreachable for now; try again after `retryAfter` seconds. */
export class ServiceUnavailableError extends KeywardError {
  readonly retryAfter: number | undefined;

  constructor(status: number, body: unknown, retryAfter: number | undefined) {
    super(status, body);
    this.retryAfter = retryAfter;
  }
}

/** No answer: keyward unreachable, or (in a browser) a CORS refusal. */
export class NetworkError extends KeywardError {
  constructor(cause: unknown) {
    super(0, undefined, `keyward could not be reached: ${String(cause)}`);
    this.cause = cause;
  }
}

/** The call needs a session, and there is none (never signed in, logged out, or ended). */
export class NotAuthenticatedError extends AuthenticationError {
  constructor(message = "not signed in") {
    super(401, undefined, message);
  }
}

/** The typed error for a non-2xx answer (reads its body). */
export async function errorFromResponse(response: Response): Promise<KeywardError> {
  const body = await response.json().catch(() => undefined);
  return errorFrom(response.status, body, response.headers);
}

/** The typed error for a status and an already parsed body. */
export function errorFrom(status: number, body: unknown, headers?: Headers): KeywardError {
  const retryAfter = seconds(headers?.get("retry-after"));
  switch (status) {
    case 400:
      return new ValidationError(status, body);
    case 401:
      return codeOf(body) === "token_not_valid"
        ? new TokenNotValidError(status, body)
        : new AuthenticationError(status, body);
    case 403:
      return new PermissionDeniedError(status, body);
    case 404:
      return new NotFoundError(status, body);
    case 429:
      return new ThrottledError(status, body, retryAfter);
    case 503:
      return new ServiceUnavailableError(status, body, retryAfter);
    default:
      return new KeywardError(status, body);
  }
}

function detailOf(body: unknown): string | undefined {
  const detail = (body as { detail?: unknown } | null | undefined)?.detail;
  return typeof detail === "string" ? detail : undefined;
}

function codeOf(body: unknown): string | undefined {
  const code = (body as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function fieldsOf(body: unknown): Record<string, string[]> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return {};
  const fields: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(body)) {
    if (Array.isArray(value) && value.every((m) => typeof m === "string")) {
      fields[name] = value as string[];
    }
  }
  return fields;
}

function seconds(value: string | null | undefined): number | undefined {
  if (value == null) return undefined;
  const parsed = Number.parseInt(value, 10);
  return Number.isFinite(parsed) ? parsed : undefined;
}
