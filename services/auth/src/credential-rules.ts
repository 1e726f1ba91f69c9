// Pure rules for what a new account may use; each breach names the proto field it concerns.
import { InvalidArgumentError } from './errors.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

export function validateUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new InvalidArgumentError('username', 'must be 3 to 32 characters of letters, digits, _ . -');
  }
}

/** Length counts Unicode code points, so an emoji is one character, not two UTF-16 units. */
export function validatePassword(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_CHARS || length > PASSWORD_MAX_CHARS) {
    throw new InvalidArgumentError('password', `must be ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters`);
  }
  if (password.trim() === '') throw new InvalidArgumentError('password', 'must not be only whitespace');
}

/**
 * Login checks only what bounds the work: a password no account could have is refused before
 * hashing. It reveals nothing about which usernames exist.
 */
export function validateLoginPassword(password: string): void {
  if ([...password].length > PASSWORD_MAX_CHARS) {
    throw new InvalidArgumentError('password', `must be at most ${PASSWORD_MAX_CHARS} characters`);
  }
}
