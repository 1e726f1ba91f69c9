// Pure translation between the gRPC contract and the service's vocabulary, including errors → status codes.
import { Theme, type AuthResponse, type User, type UserSettings } from '@freechat/proto/freechat/auth/v1/auth';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { status as Status } from '@grpc/grpc-js';
import { float32ToShortest, mapError, type MappedStatus } from '@freechat/shared';
import type { Session } from './auth-service.js';
import { AuthError, InvalidArgumentError, type AuthErrorCode } from './errors.js';
import type { SettingsPatch, ThemeName, UserSettingsRecord } from './user-settings.js';
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

const THEME_TO_PROTO: Readonly<Record<ThemeName, Theme>> = { system: Theme.THEME_SYSTEM, light: Theme.THEME_LIGHT, dark: Theme.THEME_DARK };
const THEME_FROM_PROTO: ReadonlyMap<number, ThemeName> = new Map(Object.entries(THEME_TO_PROTO).map(([name, value]) => [value, name as ThemeName]));

export function toUserSettings(settings: UserSettingsRecord): UserSettings {
  return {
    thinking: settings.thinking,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    theme: THEME_TO_PROTO[settings.theme],
    language: settings.language,
  };
}

/**
 * The fields an UpdateSettings call gives: absent ones and THEME_UNSPECIFIED are left out, an empty
 * language forgets it; the temperature is the decimal that was sent (a proto float is 32-bit).
 */
export function toSettingsPatch(settings: UserSettings | undefined): SettingsPatch {
  if (!settings) return {};
  const theme = settings.theme === Theme.THEME_UNSPECIFIED ? undefined : THEME_FROM_PROTO.get(settings.theme);
  if (settings.theme !== Theme.THEME_UNSPECIFIED && theme === undefined) throw new InvalidArgumentError('theme', 'must be system, light or dark');
  return {
    ...(settings.thinking !== undefined && { thinking: settings.thinking }),
    ...(settings.temperature !== undefined && { temperature: float32ToShortest(settings.temperature) }),
    ...(settings.maxTokens !== undefined && { maxTokens: settings.maxTokens }),
    ...(theme !== undefined && { theme }),
    ...(settings.language !== undefined && { language: settings.language === '' ? null : settings.language }),
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
