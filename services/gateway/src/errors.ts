// Every error the public API can answer: a stable snake_case code, its HTTP status and a default
// message. Codes are part of the API: never rename or reuse one.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PATTERN_DESCRIPTIONS } from './schemas.js';

export const ERRORS = {
  invalid_request: { status: 400, message: 'invalid request' },
  invalid_json: { status: 400, message: 'request body is not valid JSON' },
  unauthenticated: { status: 401, message: 'authentication required' },
  permission_denied: { status: 403, message: 'permission denied' },
  not_found: { status: 404, message: 'not found' },
  already_exists: { status: 409, message: 'already exists' },
  failed_precondition: { status: 409, message: 'the resource is not in a state that allows this' },
  run_in_progress: { status: 409, message: 'an answer is still being generated in this conversation' },
  nothing_to_regenerate: { status: 409, message: 'this conversation has no message to answer again' },
  not_continuable: { status: 409, message: 'only an answer cut at the token limit, with nothing after it, can be continued' },
  payload_too_large: { status: 413, message: 'request body too large' },
  unsupported_media_type: { status: 415, message: 'unsupported content type; send application/json' },
  rate_limited: { status: 429, message: 'too many requests; try again later' },
  too_many_runs: { status: 429, message: 'too many answers are being generated for you at once; wait for one to finish or stop one' },
  internal: { status: 500, message: 'internal error' },
  upstream_response_too_large: { status: 502, message: 'the answer was larger than the service may send' },
  service_unavailable: { status: 503, message: 'service temporarily unavailable' },
  upstream_unavailable: { status: 503, message: 'the model service is unavailable; try again shortly' },
  upstream_timeout: { status: 504, message: 'upstream service timed out' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
  ) {
    super(message);
    this.status = ERRORS[code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

// Upstream services write these statuses' details for clients (e.g. "title: at most 200
// characters"). Transport-level statuses carry grpc-js internals (addresses, errno), never shown.
const FROM_GRPC: ReadonlyMap<number, { code: ErrorCode; passDetails: boolean }> = new Map([
  [GrpcStatus.INVALID_ARGUMENT, { code: 'invalid_request', passDetails: true }],
  [GrpcStatus.UNAUTHENTICATED, { code: 'unauthenticated', passDetails: true }],
  [GrpcStatus.PERMISSION_DENIED, { code: 'permission_denied', passDetails: true }],
  [GrpcStatus.NOT_FOUND, { code: 'not_found', passDetails: true }],
  [GrpcStatus.ALREADY_EXISTS, { code: 'already_exists', passDetails: true }],
  [GrpcStatus.FAILED_PRECONDITION, { code: 'failed_precondition', passDetails: true }],
  [GrpcStatus.RESOURCE_EXHAUSTED, { code: 'rate_limited', passDetails: false }],
  [GrpcStatus.UNAVAILABLE, { code: 'service_unavailable', passDetails: false }],
  [GrpcStatus.DEADLINE_EXCEEDED, { code: 'upstream_timeout', passDetails: false }],
]);

export function isGrpcError(error: unknown): error is Error & { code: number; details?: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'metadata' in error;
}

/**
 * Details that start with one of these codes (`run_in_progress: ...`, chat's contract) keep the code,
 * so clients can tell the cases apart without reading messages: FAILED_PRECONDITION's, and
 * RESOURCE_EXHAUSTED's per-user limits (without a code, RESOURCE_EXHAUSTED stays `rate_limited`
 * with no details, except grpc-js's oversize messages: `upstream_response_too_large`).
 */
const CODED_DETAILS: ReadonlyMap<number, ReadonlySet<ErrorCode>> = new Map([
  [GrpcStatus.FAILED_PRECONDITION, new Set<ErrorCode>(['run_in_progress', 'nothing_to_regenerate', 'not_continuable'])],
  [GrpcStatus.RESOURCE_EXHAUSTED, new Set<ErrorCode>(['too_many_runs'])],
]);

/** grpc-js's wording for a message over `grpc.max_(send|receive)_message_length`. */
const OVERSIZE_MESSAGE = /^(Received|Sent) message larger than max/;

/** Pure: the API error for a gRPC status. Unknown or internal statuses become 500 "internal error". */
export function fromGrpcStatus(code: number, details: string | undefined): ApiError {
  const mapped = FROM_GRPC.get(code);
  if (!mapped) return new ApiError('internal');
  // grpc-js reports a message over the size limit as RESOURCE_EXHAUSTED: our fault, not the caller's
  // rate, so never a 429 that would have them retry the same oversize request.
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && details && OVERSIZE_MESSAGE.test(details)) return new ApiError('upstream_response_too_large');
  const coded = CODED_DETAILS.get(code);
  if (coded && details) {
    const match = /^([a-z]+(?:_[a-z]+)*): (.+)$/s.exec(details);
    const known = match?.[1] as ErrorCode | undefined;
    if (known && coded.has(known)) return new ApiError(known, match![2]);
  }
  return mapped.passDetails && details ? new ApiError(mapped.code, details) : new ApiError(mapped.code);
}

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_INVALID_URL: 'invalid_request',
};

export interface ClassifiedError {
  readonly apiError: ApiError;
  /** True when the cause is ours or an upstream's fault and belongs in the log at error level. */
  readonly unexpected: boolean;
}

/**
 * fastify's message names the field ("body/content must match pattern \"…\""); a pattern the
 * schemas describe (PATTERN_DESCRIPTIONS) is said in words instead.
 */
function validationMessage(message: unknown, validation: readonly unknown[]): string | undefined {
  if (typeof message !== 'string') return undefined;
  const first = validation[0] as { keyword?: unknown; params?: { pattern?: unknown } } | undefined;
  const pattern = first?.keyword === 'pattern' ? first.params?.pattern : undefined;
  const description = typeof pattern === 'string' ? PATTERN_DESCRIPTIONS.get(pattern) : undefined;
  if (!description) return message;
  const at = message.indexOf(' must match pattern ');
  return at === -1 ? message : `${message.slice(0, at)} ${description}`;
}

/** Pure: any thrown value → the API error to answer with. */
export function classifyError(error: unknown): ClassifiedError {
  if (error instanceof ApiError) return { apiError: error, unexpected: error.status >= 500 && error.code === 'internal' };
  if (isGrpcError(error)) {
    const apiError = fromGrpcStatus(error.code, error.details);
    return { apiError, unexpected: apiError.status >= 500 };
  }
  const e = error as { code?: unknown; statusCode?: unknown; validation?: unknown; message?: unknown };
  if (e && typeof e === 'object') {
    if (Array.isArray(e.validation)) {
      return { apiError: new ApiError('invalid_request', validationMessage(e.message, e.validation)), unexpected: false };
    }
    const known = typeof e.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
    if (known) return { apiError: new ApiError(known), unexpected: false };
    // JSON.parse in the body parser throws a SyntaxError that fastify marks 400.
    if (error instanceof SyntaxError && e.statusCode === 400) return { apiError: new ApiError('invalid_json'), unexpected: false };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return { apiError: new ApiError(e.statusCode === 404 ? 'not_found' : 'invalid_request'), unexpected: false };
    }
  }
  return { apiError: new ApiError('internal'), unexpected: true };
}
