// Pure parts: credential rules, settings rules, refresh decisions and token shape, key thumbprints, config rules.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../src/config.js';
import { validatePassword, validateUsername } from '../src/credential-rules.js';
import { isConnectionError } from '../src/database.js';
import { InvalidArgumentError } from '../src/errors.js';
import { createPasswordHasher } from '../src/passwords.js';
import { decideRefresh, generateRefreshToken, hashRefreshToken, looksLikeRefreshToken } from '../src/refresh-tokens.js';
import { generatedKeyPath, jwkThumbprint, loadSigningKey, signingKeyFromPem } from '../src/signing-keys.js';
import { canonicalLanguageTag, DEFAULT_USER_SETTINGS, readStoredSettings, toStoredChange, validateSettingsPatch } from '../src/user-settings.js';

function fieldOf(run: () => void): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error.field;
    throw error;
  }
  return undefined;
}

describe('settings rules', () => {
  it('accepts temperature 0 to 2, max tokens 1 to 32768, the three themes and short language tags', () => {
    for (const ok of [{ temperature: 0 }, { temperature: 2 }, { maxTokens: 1 }, { maxTokens: 32_768 }, { theme: 'dark' as const }, { language: 'zh-CN' }, { language: null }, {}]) {
      expect(fieldOf(() => validateSettingsPatch(ok))).toBeUndefined();
    }
    const bad: [object, string][] = [
      [{ temperature: -0.1 }, 'temperature'],
      [{ temperature: 2.01 }, 'temperature'],
      [{ temperature: Number.NaN }, 'temperature'],
      [{ maxTokens: 0 }, 'max_tokens'],
      [{ maxTokens: 32_769 }, 'max_tokens'],
      [{ maxTokens: 1.5 }, 'max_tokens'],
      [{ theme: 'sepia' }, 'theme'],
      [{ language: 'english' }, 'language'],
      [{ language: 'en_US' }, 'language'],
      [{ language: 'zh-CN-x-private' }, 'language'],
      [{ language: '' }, 'language'],
    ];
    for (const [patch, field] of bad) expect(fieldOf(() => validateSettingsPatch(patch))).toBe(field);
  });

  it('writes language tags in their conventional case', () => {
    expect(validateSettingsPatch({ language: 'ZH-cn' })).toEqual({ language: 'zh-CN' });
    expect(canonicalLanguageTag('zh-hans-cn')).toBe('zh-Hans-CN');
    expect(canonicalLanguageTag('es-419')).toBe('es-419');
    expect(canonicalLanguageTag('e')).toBeUndefined();
  });

  it('reads a stored document over the defaults, forgiving values that break the rules', () => {
    expect(readStoredSettings(undefined)).toEqual(DEFAULT_USER_SETTINGS);
    expect(DEFAULT_USER_SETTINGS).toEqual({ thinking: true, temperature: 0.7, maxTokens: 1024, theme: 'system' });
    expect(readStoredSettings({ thinking: false, temperature: 1.2, theme: 'light', language: 'fr' })).toEqual({
      thinking: false,
      temperature: 1.2,
      maxTokens: 1024,
      theme: 'light',
      language: 'fr',
    });
    expect(readStoredSettings({ temperature: 5, maxTokens: 0.5, theme: 'sepia', thinking: 'yes', language: 42 })).toEqual(DEFAULT_USER_SETTINGS);
    expect(readStoredSettings([1, 2])).toEqual(DEFAULT_USER_SETTINGS);
  });

  it('turns a patch into keys to merge and keys to remove', () => {
    expect(toStoredChange({ thinking: false, temperature: 0.3 })).toEqual({ set: { thinking: false, temperature: 0.3 }, remove: [] });
    expect(toStoredChange({ language: null, theme: 'dark' })).toEqual({ set: { theme: 'dark' }, remove: ['language'] });
  });
});

describe('credential rules', () => {
  it('accepts 3 to 32 characters of letters, digits, _ . - as a username', () => {
    for (const ok of ['abc', 'Alice_01', 'a.b-c', 'x'.repeat(32)]) expect(fieldOf(() => validateUsername(ok))).toBeUndefined();
    for (const bad of ['', 'ab', 'x'.repeat(33), 'has space', 'émile', 'a/b', 'semi;colon']) {
      expect(fieldOf(() => validateUsername(bad))).toBe('username');
    }
  });

  it('wants 8 to 256 characters, counted as code points, and not only whitespace', () => {
    for (const ok of ['12345678', 'correct horse', '😀'.repeat(8), 'x'.repeat(256)]) expect(fieldOf(() => validatePassword(ok))).toBeUndefined();
    for (const bad of ['', '1234567', '😀'.repeat(7), 'x'.repeat(257), ' '.repeat(12), '\t\n        ']) {
      expect(fieldOf(() => validatePassword(bad))).toBe('password');
    }
  });
});

describe('refresh decision', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const live = { expiresAt: new Date('2026-01-02T00:00:00Z'), usedAt: null, revokedAt: null };
  it('rotates a live token and refuses the rest for what they are', () => {
    expect(decideRefresh(undefined, now)).toBe('unknown');
    expect(decideRefresh(live, now)).toBe('rotate');
    expect(decideRefresh({ ...live, expiresAt: now }, now)).toBe('expired');
    expect(decideRefresh({ ...live, usedAt: now }, now)).toBe('reuse-detected');
    // A rotated token replayed after it expired is still a replay: the family goes.
    expect(decideRefresh({ ...live, usedAt: now, expiresAt: new Date(0) }, now)).toBe('reuse-detected');
    expect(decideRefresh({ ...live, usedAt: now, revokedAt: now }, now)).toBe('revoked');
    expect(decideRefresh({ ...live, revokedAt: now }, now)).toBe('revoked');
  });

  it('lets a token rotated within the grace window yield an access token, not revoke the family', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const used = { expiresAt: new Date(now.getTime() + 60_000), usedAt: new Date(now.getTime() - 9_999), revokedAt: null };
    expect(decideRefresh(used, now, 10_000)).toBe('grace');
    expect(decideRefresh({ ...used, usedAt: new Date(now.getTime() - 10_000) }, now, 10_000)).toBe('reuse-detected');
    expect(decideRefresh({ ...used, revokedAt: now }, now, 10_000)).toBe('revoked');
    expect(decideRefresh(used, now, 0)).toBe('reuse-detected');
  });

  it('makes opaque 32-byte tokens that no JWT resembles, and stores only their SHA-256', () => {
    const token = generateRefreshToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(looksLikeRefreshToken(token)).toBe(true);
    expect(generateRefreshToken()).not.toBe(token);
    expect(looksLikeRefreshToken('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(false);
    expect(hashRefreshToken(token).equals(createHash('sha256').update(token).digest())).toBe(true);
  });
});

describe('signing keys', () => {
  it('names a key by its RFC 7638 thumbprint and refuses keys that are not P-256', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = signingKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const canonical = `{"crv":"P-256","kty":"EC","x":"${key.jwk.x}","y":"${key.jwk.y}"}`;
    expect(key.kid).toBe(createHash('sha256').update(canonical).digest('base64url'));
    expect(jwkThumbprint(key.jwk)).toBe(key.kid);
    expect(key.jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: key.kid });
    expect(key.jwk).not.toHaveProperty('d');

    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    for (const pem of [p384, rsa, 'not a key']) {
      expect(() => signingKeyFromPem(pem)).toThrow(ConfigError);
      expect(() => signingKeyFromPem(pem)).toThrow(/auth\.signingKeyFile/);
    }
  });

  it('generates a development key once, mode 600, and keeps it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-auth-key-'));
    const first = await loadSigningKey({ env: 'development', signingKeyFile: '', dataDir });
    expect(first.source).toBe('generated');
    expect(first.file).toBe(path.join(dataDir, 'auth', 'signing-key.pem'));
    expect(statSync(generatedKeyPath(dataDir)).mode & 0o777).toBe(0o600);
    const again = await loadSigningKey({ env: 'development', signingKeyFile: '', dataDir });
    expect(again.source).toBe('kept');
    expect(again.kid).toBe(first.kid);
  });

  it('refuses, in production, to run without a key file, and names the key', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'freechat-auth-key-'));
    await expect(loadSigningKey({ env: 'production', signingKeyFile: '', dataDir })).rejects.toThrow(/auth\.signingKeyFile/);
    await expect(loadSigningKey({ env: 'development', signingKeyFile: path.join(dataDir, 'missing.pem'), dataDir })).rejects.toThrow(
      /auth\.signingKeyFile.*ENOENT/,
    );
  });
});

describe('config', () => {
  const env = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' };
  it('has production-grade defaults and reads the environment', () => {
    const config = loadAuthConfig({ env: { ...env, FREECHAT_DATA_DIR: 'rel/data', FREECHAT_AUTH_ACCESS_TOKEN_TTL_SECONDS: '60' } });
    expect(config.listen.address).toBe('127.0.0.1:50051');
    expect(config.env).toBe('development');
    expect(config.auth).toEqual({ accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 7 * 24 * 3600, refreshReuseGraceSeconds: 10, signingKeyFile: '' });
    expect(config.argon2.memoryCostKib).toBeGreaterThanOrEqual(19 * 1024);
    expect(config.dataDir).toBe(path.resolve('rel/data'));
  });

  it('requires DATABASE_URL, and a signing key file in production, naming each key', () => {
    expect(() => loadAuthConfig({ env: {} })).toThrow(/database\.url/);
    const production = () => loadAuthConfig({ env: { ...env, FREECHAT_ENV: 'production' } });
    expect(production).toThrow(ConfigError);
    expect(production).toThrow(/auth\.signingKeyFile: required in production/);
    expect(() => loadAuthConfig({ env: { ...env, FREECHAT_ENV: 'production', FREECHAT_AUTH_SIGNING_KEY_FILE: '/k.pem' } })).not.toThrow();
    expect(() => loadAuthConfig({ env: { ...env, FREECHAT_ENV: 'staging' } })).toThrow(/env/);
  });
});

describe('passwords and database errors', () => {
  it('verifies argon2id hashes and answers false, not an error, for an unknown user', async () => {
    const hasher = await createPasswordHasher({ memoryCostKib: 256, timeCost: 1, parallelism: 1 });
    const stored = await hasher.hash('correct horse');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$/);
    expect(await hasher.verify(stored, 'correct horse')).toBe(true);
    expect(await hasher.verify(stored, 'wrong horse')).toBe(false);
    expect(await hasher.verify(undefined, 'correct horse')).toBe(false);
  });

  it('spends as long on an unknown user as on a wrong password', async () => {
    // A cost high enough that argon2 dominates the measurement.
    const hasher = await createPasswordHasher({ memoryCostKib: 32 * 1024, timeCost: 1, parallelism: 1 });
    const stored = await hasher.hash('correct horse');
    // Interleaved pairs, so a load spike on a busy machine lands on both sides, not on one batch.
    const wrongTimes: number[] = [];
    const unknownTimes: number[] = [];
    const timed = async (run: () => Promise<unknown>, into: number[]): Promise<void> => {
      const start = performance.now();
      await run();
      into.push(performance.now() - start);
    };
    for (let i = 0; i < 9; i++) {
      await timed(() => hasher.verify(stored, 'wrong horse'), wrongTimes);
      await timed(() => hasher.verify(undefined, 'wrong horse'), unknownTimes);
    }
    const median = (times: number[]): number => times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    const wrongPassword = median(wrongTimes);
    const unknownUser = median(unknownTimes);
    expect(unknownUser).toBeGreaterThan(wrongPassword * 0.5);
    expect(unknownUser).toBeLessThan(wrongPassword * 2);
  });

  it('retries only a database that is not there', () => {
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isConnectionError(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isConnectionError(new Error('migration auth/1_x failed'))).toBe(false);
  });
});
