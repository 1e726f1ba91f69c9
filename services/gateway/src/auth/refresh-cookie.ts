// The refresh token's cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page
// sends it), scoped to the auth routes (no other request carries it), Secure when served over TLS.
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';

export const REFRESH_COOKIE = 'freechat_refresh';
export const REFRESH_COOKIE_PATH = '/api/auth';

/** Pure: the cookie's attributes; it expires with the token. */
export function refreshCookieOptions(secure: boolean, expiresAt: Timestamp | undefined): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: REFRESH_COOKIE_PATH,
    ...(expiresAt && { expires: new Date(expiresAt.seconds * 1000) }),
  };
}
