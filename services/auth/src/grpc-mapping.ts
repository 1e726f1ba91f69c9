// Pure translation between the gRPC contract and the service's vocabulary, including errors → status codes.
import type { AuthResponse, User } from '@freechat/proto/freechat/auth/v1/auth';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import type { Session } from './auth-service.js';
import { AuthError, type AuthErrorCode } from './errors.js';
import type { UserRecord } from './users-repository.js';

export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

export function toUser(user: UserRecord): User {
  return { id: user.id, username: user.username, createdAt: toTimestamp(user.createdAt) };
}

export function toAuthResponse(session: Session): AuthResponse {
  const { tokens } = session;
  return {
    user: toUser(session.user),
    tokens: {
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: toTimestamp(tokens.accessTokenExpiresAt),
      refreshToken: tokens.refreshToken,
      refreshTokenExpiresAt: toTimestamp(tokens.refreshTokenExpiresAt),
    },
  };
}

const STATUS_BY_CODE: Record<AuthErrorCode, Status> = {
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  USERNAME_TAKEN: Status.ALREADY_EXISTS,
  INVALID_CREDENTIALS: Status.UNAUTHENTICATED,
  INVALID_REFRESH_TOKEN: Status.UNAUTHENTICATED,
  USER_NOT_FOUND: Status.NOT_FOUND,
  NOT_READY: Status.UNAVAILABLE,
};

export interface MappedStatus {
  readonly code: Status;
  readonly details: string;
  /** True when the cause must be logged because the client sees only a generic message. */
  readonly unexpected: boolean;
}

export function toStatus(error: unknown): MappedStatus {
  if (error instanceof AuthError) return { code: STATUS_BY_CODE[error.code], details: error.message, unexpected: false };
  // SQL, driver and key errors stay in our logs, never in responses.
  return { code: Status.INTERNAL, details: 'internal error', unexpected: true };
}

export function toServiceError(mapped: MappedStatus): Partial<ServiceError> {
  return Object.assign(new Error(mapped.details), { code: mapped.code, details: mapped.details });
}
