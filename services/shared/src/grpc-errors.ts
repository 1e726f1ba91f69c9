// The mechanics every gRPC service shares for errors: a service decides which of its own errors
// map to which status; anything else becomes INTERNAL with a generic message and is logged.
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { CallerKeysUnavailableError, UnauthenticatedCallerError } from './caller.js';

export interface MappedStatus {
  readonly code: Status;
  readonly details: string;
  /** True when the client sees only "internal error" and the cause must be logged. */
  readonly unexpected: boolean;
}

const INTERNAL: MappedStatus = { code: Status.INTERNAL, details: 'internal error', unexpected: true };

/** `statusOf` returns the status for an error raised on purpose, undefined for anything else. */
export function mapError(error: unknown, statusOf: (error: unknown) => Status | undefined): MappedStatus {
  const code =
    error instanceof UnauthenticatedCallerError ? Status.UNAUTHENTICATED : error instanceof CallerKeysUnavailableError ? Status.UNAVAILABLE : statusOf(error);
  return code === undefined || !(error instanceof Error) ? INTERNAL : { code, details: error.message, unexpected: false };
}

export function toServiceError(mapped: MappedStatus): Partial<ServiceError> {
  return Object.assign(new Error(mapped.details), { code: mapped.code, details: mapped.details });
}
