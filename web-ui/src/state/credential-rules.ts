// What a new account may use, shown on the form before the first submit. The server decides
// (services/auth/src/credential-rules.ts, which the API does not publish): these numbers copy its
// rules, and credential-rules.test.ts fails when the two disagree.
export const USERNAME_MIN_CHARS = 3;
export const USERNAME_MAX_CHARS = 32;
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

export const USERNAME_RULE = `${USERNAME_MIN_CHARS} to ${USERNAME_MAX_CHARS} letters, digits, _ . or -`;
export const PASSWORD_RULE = `${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters, not only spaces`;
