// The use cases behind the gRPC methods: rules, passwords, tokens and storage, in that order.
import { randomUUID } from 'node:crypto';
import type { Counter, Logger } from '@freechat/shared';
import type { AccessTokenIssuer } from './access-tokens.js';
import { validateLoginPassword, validatePassword, validateUsername } from './credential-rules.js';
import { AUTH_ERROR_CODES, AuthError, InvalidArgumentError, invalidCredentials, invalidRefreshToken, userNotFound } from './errors.js';
import type { AuthMetrics } from './metrics.js';
import type { PasswordHasher } from './passwords.js';
import type { SettingsRepository } from './settings-repository.js';
import { decideRefresh, generateRefreshToken, hashRefreshToken, looksLikeRefreshToken } from './refresh-tokens.js';
import type { TokensRepository } from './tokens-repository.js';
import { readStoredSettings, toStoredChange, validateSettingsPatch, type SettingsPatch, type UserSettingsRecord } from './user-settings.js';
import type { UserRecord, UsersRepository } from './users-repository.js';

export interface IssuedTokens {
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
  /** Absent when a just-rotated token was presented within the grace window: keep the current one. */
  readonly refresh?: { readonly token: string; readonly expiresAt: Date };
}

export interface Session {
  readonly user: UserRecord;
  readonly tokens: IssuedTokens;
}

export interface AuthServiceOptions {
  readonly users: UsersRepository;
  readonly tokens: TokensRepository;
  readonly settings: SettingsRepository;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokenIssuer;
  readonly refreshTokenTtlSeconds: number;
  /** How long a just-rotated refresh token still yields an access token (concurrent tabs). */
  readonly refreshReuseGraceMs: number;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Outcome counters (metrics.ts); none in tests that do not look. */
  readonly metrics?: AuthMetrics;
}

/** A refresh token before it is stored: the caller adds its user and family. */
interface NewToken {
  readonly token: string;
  readonly row: { readonly id: string; readonly tokenHash: Buffer; readonly createdAt: Date; readonly expiresAt: Date };
}

export class AuthService {
  constructor(private readonly options: AuthServiceOptions) {}

  async register(username: string, password: string): Promise<Session> {
    return this.counted(this.options.metrics?.registrations, (error) => (error?.code === AUTH_ERROR_CODES.USERNAME_TAKEN ? 'username_taken' : undefined), () => this.registerUser(username, password));
  }

  async login(username: string, password: string): Promise<Session> {
    return this.counted(this.options.metrics?.logins, (error) => (error?.code === AUTH_ERROR_CODES.INVALID_CREDENTIALS ? 'invalid_credentials' : undefined), () => this.logIn(username, password));
  }

  /** Counts the call's outcome: success, a named AuthError, invalid_argument, else error. */
  private async counted<T>(counter: Counter<'outcome'> | undefined, named: (error: AuthError | undefined) => string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      counter?.inc({ outcome: 'success' });
      return result;
    } catch (error) {
      const authError = error instanceof AuthError ? error : undefined;
      counter?.inc({ outcome: named(authError) ?? (authError?.code === AUTH_ERROR_CODES.INVALID_ARGUMENT ? 'invalid_argument' : 'error') });
      throw error;
    }
  }

  private async registerUser(username: string, password: string): Promise<Session> {
    validateUsername(username);
    validatePassword(password);
    const passwordHash = await this.options.passwords.hash(password);
    const user = await this.options.users.create({ username, passwordHash, createdAt: this.options.now() });
    this.options.logger.info({ userId: user.id }, 'user registered');
    return this.startSession(user);
  }

  /** One answer for an unknown user and a wrong password, after the same argon2 work. */
  private async logIn(username: string, password: string): Promise<Session> {
    validateLoginPassword(password);
    const found = await this.options.users.findByUsername(username);
    const matched = await this.options.passwords.verify(found?.passwordHash, password);
    if (!found || !matched) throw invalidCredentials();
    const { passwordHash: _hash, ...user } = found;
    return this.startSession(user);
  }

  async refresh(refreshToken: string): Promise<Session> {
    if (refreshToken === '') throw new InvalidArgumentError('refresh_token', 'is required');
    if (!looksLikeRefreshToken(refreshToken)) throw invalidRefreshToken();
    const now = this.options.now();
    const next = this.newRefreshToken(now);
    const outcome = await this.options.tokens.transaction(async (tx) => {
      const stored = await tx.lockByHash(hashRefreshToken(refreshToken));
      const decision = decideRefresh(stored, now, this.options.refreshReuseGraceMs);
      if (decision === 'rotate' && stored) {
        await tx.insert({ ...next.row, userId: stored.user.id, familyId: stored.familyId });
        await tx.markUsed(stored.id, now, next.row.id);
      } else if (decision === 'reuse-detected' && stored) {
        await tx.revokeFamily(stored.familyId, now);
      }
      return { decision, stored };
    });
    const { decision, stored } = outcome;
    const metrics = this.options.metrics;
    metrics?.refreshes.inc({ outcome: decision === 'reuse-detected' ? 'reuse_detected' : (decision === 'rotate' || decision === 'grace') && stored ? (decision === 'rotate' ? 'rotated' : 'grace') : 'invalid' });
    if (decision === 'reuse-detected') metrics?.refreshTokenReuseDetected.inc();
    if (decision === 'grace' && stored) return this.session(stored.user, undefined, now);
    if (decision !== 'rotate' || !stored) {
      if (decision === 'reuse-detected') {
        this.options.logger.warn({ userId: stored?.user.id, familyId: stored?.familyId }, 'rotated refresh token presented again; family revoked');
      }
      throw invalidRefreshToken();
    }
    return this.session(stored.user, next, now);
  }

  /** Idempotent: an unknown, expired or already revoked token is a successful logout. */
  async logout(refreshToken: string): Promise<void> {
    if (refreshToken === '') throw new InvalidArgumentError('refresh_token', 'is required');
    if (!looksLikeRefreshToken(refreshToken)) return;
    await this.options.tokens.revokeFamilyOf(hashRefreshToken(refreshToken), this.options.now());
  }

  async getUser(userId: string): Promise<UserRecord> {
    if (userId === '') throw new InvalidArgumentError('user_id', 'is required');
    const user = await this.options.users.findById(userId);
    if (!user) throw userNotFound();
    return user;
  }

  /** The user's settings, defaults filled in for whatever they never saved. */
  async getSettings(userId: string): Promise<UserSettingsRecord> {
    return readStoredSettings(await this.options.settings.find(userId));
  }

  /** Validates the given fields, merges them into what is stored and returns the whole result. */
  async updateSettings(userId: string, patch: SettingsPatch): Promise<UserSettingsRecord> {
    const change = toStoredChange(validateSettingsPatch(patch));
    return readStoredSettings(await this.options.settings.merge(userId, change, this.options.now()));
  }

  /** A new family: one per login or registration. */
  private async startSession(user: UserRecord): Promise<Session> {
    const now = this.options.now();
    const next = this.newRefreshToken(now);
    await this.options.tokens.insert({ ...next.row, userId: user.id, familyId: randomUUID() });
    return this.session(user, next, now);
  }

  private session(user: UserRecord, refresh: NewToken | undefined, now: Date): Session {
    const access = this.options.accessTokens.issue({ userId: user.id, username: user.username }, now);
    return {
      user,
      tokens: {
        accessToken: access.token,
        accessTokenExpiresAt: access.expiresAt,
        ...(refresh && { refresh: { token: refresh.token, expiresAt: refresh.row.expiresAt } }),
      },
    };
  }

  private newRefreshToken(now: Date): NewToken {
    const token = generateRefreshToken();
    const expiresAt = new Date(now.getTime() + this.options.refreshTokenTtlSeconds * 1000);
    return { token, row: { id: randomUUID(), tokenHash: hashRefreshToken(token), createdAt: now, expiresAt } };
  }
}
