// The auth service; see README.md.
export { loadAuthConfig, authConfigSchema, assertProductionReady, AUTH_ENV, type AuthConfig, type LoadAuthConfigOptions } from './config.js';
export { AuthError, InvalidArgumentError, AUTH_ERROR_CODES, type AuthErrorCode } from './errors.js';
export { createPasswordHasher, type Argon2Cost, type PasswordHasher } from './passwords.js';
export {
  loadSigningKey,
  signingKeyFromPem,
  jwkThumbprint,
  toJwks,
  generatedKeyPath,
  type SigningKey,
  type JwksKey,
  type LoadSigningKeyOptions,
} from './signing-keys.js';
export { createAccessTokenIssuer, ISSUER, AUDIENCE, ACCESS_TYPE, type AccessTokenIssuer } from './access-tokens.js';
export { decideRefresh, generateRefreshToken, hashRefreshToken, type RefreshDecision, type RefreshTokenState } from './refresh-tokens.js';
export { validateUsername, validatePassword } from './credential-rules.js';
export { AuthService, type AuthServiceOptions, type Session, type IssuedTokens } from './auth-service.js';
export { createAuthHandlers, type AuthHandlersOptions } from './grpc-handlers.js';
export { startAuthServer, type StartAuthServerOptions, type AuthServerHandle } from './server.js';
