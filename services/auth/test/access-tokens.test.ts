// Issued access tokens against the consumers' verifier: what it accepts, and every forgery it refuses.
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { AccessTokenError, verifyAccessToken, type AccessTokenErrorReason } from '../../shared/src/access-tokens.js';
import { AUDIENCE, createAccessTokenIssuer, ISSUER } from '../src/access-tokens.js';
import { signingKeyFromPem, toJwks, type SigningKey } from '../src/signing-keys.js';

function newKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return signingKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
}

const key = newKey();
const jwks = toJwks([key]);
const jwksJson = JSON.stringify(jwks);
const issuer = createAccessTokenIssuer({ key, ttlSeconds: 900 });
const subject = { userId: '6b1d3c1e-8a55-4d7e-9b7a-0a4f6f5b2c11', username: 'alice' };
const NOW = new Date('2026-03-01T12:00:00Z');
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function reasonOf(token: string, options: { now?: number } = {}): AccessTokenErrorReason | 'accepted' {
  try {
    verifyAccessToken(token, jwksJson, { now: options.now ?? NOW.getTime() });
    return 'accepted';
  } catch (error) {
    if (error instanceof AccessTokenError) return error.reason;
    throw error;
  }
}

/** A correctly ES256-signed token with whatever header and claims the test wants. */
function signRaw(header: Record<string, unknown>, claims: Record<string, unknown>, signer: SigningKey = key): string {
  const input = `${b64(header)}.${b64(claims)}`;
  const signature = createSign('sha256').update(input).sign({ key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const iat = Math.floor(NOW.getTime() / 1000);
const goodClaims = { sub: subject.userId, typ: 'access', username: 'alice', iat, exp: iat + 900, iss: 'freechat-auth', aud: 'freechat', jti: 'token-1' };

describe('issued access tokens', () => {
  it('carry kid, ES256 and the agreed claims, and verify with the JWKS', () => {
    const { token, expiresAt } = issuer.issue(subject, NOW);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header).toMatchObject({ alg: 'ES256', kid: key.kid });
    const jti = (decoded?.payload as { jti: string }).jti;
    expect(decoded?.payload).toEqual({ ...goodClaims, jti });
    // Every token its own id: logout revokes one token, not every token of its second.
    expect(jti).toMatch(/^[0-9a-f-]{36}$/);
    expect((jwt.decode(issuer.issue(subject, NOW).token) as { jti: string }).jti).not.toBe(jti);
    expect(ISSUER).toBe(goodClaims.iss);
    expect(AUDIENCE).toBe(goodClaims.aud);
    expect(expiresAt.getTime()).toBe(NOW.getTime() + 900_000);
    const verified = { ...subject, tokenId: jti, expiresAtMs: expiresAt.getTime() };
    expect(verifyAccessToken(token, jwksJson, { now: NOW.getTime() })).toEqual(verified);
    expect(verifyAccessToken(token, jwks, { now: NOW.getTime() + 60_000 })).toEqual(verified);
  });

  it('expire at exp (with 30 s tolerance for clock skew)', () => {
    const { token } = issuer.issue(subject, NOW);
    expect(reasonOf(token, { now: NOW.getTime() + 900_000 + 29_000 })).toBe('accepted');
    expect(reasonOf(token, { now: NOW.getTime() + 900_000 + 30_000 })).toBe('expired');
  });
});

describe('verifyAccessToken refuses', () => {
  it('a tampered payload or signature', () => {
    const { token } = issuer.issue(subject, NOW);
    const [h, , s] = token.split('.') as [string, string, string];
    expect(reasonOf(`${h}.${b64({ ...goodClaims, sub: 'someone-else' })}.${s}`)).toBe('bad-signature');
    const flipped = Buffer.from(s, 'base64url');
    flipped[10] = flipped[10]! ^ 1;
    expect(reasonOf(`${h}.${token.split('.')[1]}.${flipped.toString('base64url')}`)).toBe('bad-signature');
  });

  it('a token signed by another key, under our kid or its own', () => {
    const other = newKey();
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, goodClaims, other))).toBe('bad-signature');
    expect(reasonOf(createAccessTokenIssuer({ key: other, ttlSeconds: 900 }).issue(subject, NOW).token)).toBe('unknown-key');
    expect(reasonOf(signRaw({ alg: 'ES256' }, goodClaims))).toBe('unknown-key');
  });

  it('alg none, and HS256 keyed with the public key', () => {
    const none = `${b64({ alg: 'none', kid: key.kid })}.${b64(goodClaims)}.`;
    expect(reasonOf(none)).toBe('malformed');
    expect(reasonOf(`${none}AA`)).toBe('unsupported-algorithm');
    for (const secret of [key.publicKey.export({ format: 'pem', type: 'spki' }).toString(), jwksJson]) {
      const input = `${b64({ alg: 'HS256', kid: key.kid })}.${b64(goodClaims)}`;
      const forged = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      expect(reasonOf(forged)).toBe('unsupported-algorithm');
    }
  });

  it('a wrong typ (a refresh or id token), issuer or audience', () => {
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, goodClaims))).toBe('accepted');
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, { ...goodClaims, typ: 'refresh' }))).toBe('wrong-type');
    const { typ: _typ, ...untyped } = goodClaims;
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, untyped))).toBe('wrong-type');
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, { ...goodClaims, iss: 'someone' }))).toBe('wrong-issuer');
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, { ...goodClaims, aud: 'other' }))).toBe('wrong-audience');
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, { ...goodClaims, aud: ['other', 'freechat'] }))).toBe('accepted');
  });

  it('missing or odd claims, unknown critical headers and garbage', () => {
    const signed = (claims: Record<string, unknown>) => reasonOf(signRaw({ alg: 'ES256', kid: key.kid }, claims));
    const { exp: _exp, ...noExp } = goodClaims;
    expect(signed(noExp)).toBe('invalid-claims');
    expect(signed({ ...goodClaims, sub: '' })).toBe('invalid-claims');
    const { jti: _jti, ...noJti } = goodClaims;
    expect(signed(noJti)).toBe('invalid-claims');
    expect(signed({ ...goodClaims, iat: iat + 3600 })).toBe('not-yet-valid');
    expect(signed({ ...goodClaims, nbf: iat + 3600 })).toBe('not-yet-valid');
    expect(reasonOf(signRaw({ alg: 'ES256', kid: key.kid, crit: ['b64'] }, goodClaims))).toBe('malformed');
    for (const garbage of ['', 'a.b', 'a.b.c.d', 'not a jwt', `${b64([1])}.${b64(goodClaims)}.AA`]) expect(reasonOf(garbage)).toBe('malformed');
    expect(() => verifyAccessToken(issuer.issue(subject, NOW).token, '{"nokeys":1}')).toThrow(AccessTokenError);
  });
});
