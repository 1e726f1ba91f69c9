import { describe, expect, it } from 'vitest';
import * as server from '../../../services/auth/src/credential-rules.js';
import { PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, USERNAME_MAX_CHARS, USERNAME_MIN_CHARS } from './credential-rules';

describe('the account rules the form shows', () => {
  it('are the auth service’s rules', () => {
    expect(PASSWORD_MIN_CHARS).toBe(server.PASSWORD_MIN_CHARS);
    expect(PASSWORD_MAX_CHARS).toBe(server.PASSWORD_MAX_CHARS);
    expect(server.USERNAME_PATTERN.source).toContain(`{${USERNAME_MIN_CHARS},${USERNAME_MAX_CHARS}}`);
    expect(() => server.validatePassword('x'.repeat(PASSWORD_MIN_CHARS))).not.toThrow();
    expect(() => server.validatePassword('x'.repeat(PASSWORD_MIN_CHARS - 1))).toThrow();
    expect(() => server.validatePassword(' '.repeat(PASSWORD_MIN_CHARS))).toThrow();
  });
});
