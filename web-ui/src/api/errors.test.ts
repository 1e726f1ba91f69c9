import { describe, expect, it } from 'vitest';
import { ApiError, MESSAGES, NetworkError, describeError, describeLoginError, isTransient } from './errors';

describe('describeError', () => {
  it('speaks plainly about network, rate limits and server errors', () => {
    expect(describeError(new NetworkError())).toBe(MESSAGES.network);
    expect(describeError(new ApiError(429, 'rate_limited', 'x'))).toBe(MESSAGES.rateLimited);
    expect(describeError(new ApiError(500, 'internal', 'internal error'))).toBe(MESSAGES.server);
    expect(describeError(new ApiError(503, 'service_unavailable', 'auth down'))).toBe(MESSAGES.unavailable);
    expect(describeError(new Error('boom'))).toBe(MESSAGES.server);
  });

  it('passes on the gateway’s own 4xx message', () => {
    expect(describeError(new ApiError(409, 'already_exists', 'username is taken'))).toBe('username is taken');
  });
});

describe('describeLoginError', () => {
  it('says a refused login is a wrong username or password, not an expired session', () => {
    expect(describeLoginError(new ApiError(401, 'unauthenticated', 'invalid credentials'))).toBe('Wrong username or password.');
    expect(describeLoginError(new NetworkError())).toBe(MESSAGES.network);
    expect(describeLoginError(new ApiError(503, 'service_unavailable', 'auth down'))).toBe(MESSAGES.unavailable);
  });
});

describe('isTransient', () => {
  it('retries what got no answer, not what was refused', () => {
    expect(isTransient(new NetworkError())).toBe(true);
    expect(isTransient(new ApiError(503, 'service_unavailable', 'x'))).toBe(true);
    expect(isTransient(new ApiError(429, 'rate_limited', 'x'))).toBe(true);
    expect(isTransient(new ApiError(401, 'unauthenticated', 'x'))).toBe(false);
    expect(isTransient(new Error('boom'))).toBe(false);
  });
});
