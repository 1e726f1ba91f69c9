// Every error the auth service raises on purpose: one stable code each, mapped to gRPC in grpc-mapping.ts.

export const AUTH_ERROR_CODES = {
  /** A request field breaks a rule; `field` names it. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  /** Unknown user or wrong password: deliberately one code and one message. */
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  /** Unknown, expired, revoked or reused refresh token: the caller must log in again. */
  INVALID_REFRESH_TOKEN: 'INVALID_REFRESH_TOKEN',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  /** The database is not reachable or not migrated yet. */
  NOT_READY: 'NOT_READY',
} as const;

export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[keyof typeof AUTH_ERROR_CODES];

export class AuthError extends Error {
  override readonly name: string = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class InvalidArgumentError extends AuthError {
  override readonly name = 'InvalidArgumentError';
  constructor(
    /** Proto field name, e.g. `username`. */
    readonly field: string,
    rule: string,
  ) {
    super(AUTH_ERROR_CODES.INVALID_ARGUMENT, `${field}: ${rule}`);
  }
}

export const usernameTaken = (): AuthError => new AuthError(AUTH_ERROR_CODES.USERNAME_TAKEN, 'username is already taken');
export const invalidCredentials = (): AuthError =>
  new AuthError(AUTH_ERROR_CODES.INVALID_CREDENTIALS, 'invalid username or password');
export const invalidRefreshToken = (): AuthError =>
  new AuthError(AUTH_ERROR_CODES.INVALID_REFRESH_TOKEN, 'invalid or expired refresh token');
export const userNotFound = (): AuthError => new AuthError(AUTH_ERROR_CODES.USER_NOT_FOUND, 'user not found');
export const notReady = (): AuthError => new AuthError(AUTH_ERROR_CODES.NOT_READY, 'auth service is starting');
