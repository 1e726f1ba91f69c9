// Pure translation between the gRPC contract and the service's vocabulary, including errors → status codes.
import type { AuthResponse, User } from '@freechat/proto/freechat/auth/v1/auth';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { status as Status } from '@grpc/grpc-js';
import { mapError, type MappedStatus } from '@freechat/shared';
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
      ...(tokens.refresh && { refreshToken: tokens.refresh.token, refreshTokenExpiresAt: toTimestamp(tokens.refresh.expiresAt) }),
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

/** SQL, driver and key errors stay in our logs, never in responses. */
export function toStatus(error: unknown): MappedStatus {
  return mapError(error, (e) => (e instanceof AuthError ? STATUS_BY_CODE[e.code] : undefined));
}
