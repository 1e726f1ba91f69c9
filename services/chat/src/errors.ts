// Every error the chat service raises on purpose, and the stable codes a run can end with.
// Callers match on the class or the code, never on message text.

/** A request field is wrong; the message starts with the field's proto name. */
export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Missing, deleted, expired, or someone else's: deliberately indistinguishable. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(what: 'session' | 'run' | 'message' | 'share link') {
    super(`${what} not found`);
  }
}

/**
 * Why a request cannot be done in the resource's current state. The details the client gets start
 * with the stable code (`run_in_progress: ...`), which the gateway turns into its own error code.
 */
export const PRECONDITIONS = {
  run_in_progress: 'an answer is still being generated in this session; stop it or wait for it to finish',
  nothing_to_regenerate: 'this session has no message to answer again',
  not_continuable: 'only an answer cut at the token limit, with nothing after it, can be continued',
} as const;

export type PreconditionCode = keyof typeof PRECONDITIONS;

export class FailedPreconditionError extends Error {
  override readonly name = 'FailedPreconditionError';
  constructor(readonly code: PreconditionCode) {
    super(`${code}: ${PRECONDITIONS[code]}`);
  }
}

/**
 * A per-user limit is reached (gRPC RESOURCE_EXHAUSTED). The details start with the stable code, as
 * preconditions do; RESOURCE_EXHAUSTED without one is grpc-js's own (an oversize message).
 */
export const LIMITS = {
  too_many_runs: 'too many answers are being generated for you at once; wait for one to finish or stop one',
} as const;

export type LimitCode = keyof typeof LIMITS;

export class LimitExceededError extends Error {
  override readonly name = 'LimitExceededError';
  constructor(
    readonly code: LimitCode,
    detail?: string,
  ) {
    super(`${code}: ${LIMITS[code]}${detail ? ` (${detail})` : ''}`);
  }
}

/** Starting up or shutting down. */
export class UnavailableError extends Error {
  override readonly name: string = 'UnavailableError';
}

/** Why a run ended with a RunError event. The messages are generic: causes go to the log only. */
export const RUN_ERRORS = {
  inference_unavailable: 'the model service is unavailable; try again shortly',
  inference_error: 'the model service failed to answer',
  prompt_too_long: 'the conversation is too long for the model',
  invalid_argument: 'the model service rejected the generation parameters',
  interrupted: 'the chat service restarted before the answer was finished',
  storage_error: 'the answer could not be saved',
  internal: 'the answer could not be produced',
} as const;

export type RunErrorCode = keyof typeof RUN_ERRORS;

/**
 * The run error for a prompt the model refused, with the model's own counts ("the prompt is N
 * tokens; the model accepts at most M prompt tokens"), which inference sends on the `messages` field.
 */
export function promptTooLongMessage(details: string): string {
  const counts = details.replace(/^messages:\s*/, '').trim();
  return /\d/.test(counts) ? `${RUN_ERRORS.prompt_too_long}: ${counts}` : RUN_ERRORS.prompt_too_long;
}
