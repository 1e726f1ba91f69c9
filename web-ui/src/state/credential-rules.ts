// What a new account may use, shown on the form before the first submit. The server decides
// (services/auth/src/credential-rules.ts, which the API does not publish): these numbers copy its
// rules, and credential-rules.test.ts fails when the two disagree.
export const USERNAME_MIN_CHARS = 3;
export const USERNAME_MAX_CHARS = 32;
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

/** The numbers the auth form states (the sentence is in the dictionaries, `auth.rules`). */
export const CREDENTIAL_RULES = {
  usernameMin: USERNAME_MIN_CHARS,
  usernameMax: USERNAME_MAX_CHARS,
  passwordMin: PASSWORD_MIN_CHARS,
  passwordMax: PASSWORD_MAX_CHARS,
} as const;
