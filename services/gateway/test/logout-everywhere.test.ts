// Logout revokes the access token on every gateway replica: two gateways share one real Redis, the
// user logs out through one, and the other refuses the token at once (not 15 minutes later).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import { loadGatewayConfig, startGatewayServer, type GatewayServerHandle } from '../src/index.js';
import { jsonRequest, registerUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let other: GatewayServerHandle;

beforeAll(async () => {
  const { redisUrl } = infraEndpoints();
  stack = await startStack({ gateway: { redis: { url: redisUrl } } });
  const config = loadGatewayConfig({
    env: {
      PORT: '0',
      FREECHAT_GATEWAY_HOST: '127.0.0.1',
      FREECHAT_AUTH_ADDRESS: stack.auth.address,
      FREECHAT_CHAT_ADDRESS: stack.chat.address,
      FREECHAT_INFERENCE_ADDRESS: stack.inference.address,
      REDIS_URL: redisUrl,
    },
  });
  other = await startGatewayServer({ config: { ...config, shutdown: { graceMs: 1_000 } }, logger: stack.logger.child({ service: 'gateway-2' }) });
});
afterAll(async () => {
  await other?.close();
  await stack?.close();
});

it('refuses a logged-out access token on the replica that did not see the logout', async () => {
  const user = await registerUser(stack.url, 'everywhere');
  const someoneElse = await registerUser(stack.url, 'bystander');
  expect((await jsonRequest(other.url, '/api/me', { token: user.accessToken })).status).toBe(200);

  const logout = await jsonRequest(stack.url, '/api/auth/logout', { method: 'POST', token: user.accessToken, headers: { cookie: user.refreshCookie } });
  expect(logout.status).toBe(204);

  const refused = await jsonRequest(other.url, '/api/me', { token: user.accessToken });
  expect(refused.status).toBe(401);
  expect(refused.body.error.code).toBe('unauthenticated');
  expect((await jsonRequest(other.url, '/api/sessions', { token: user.accessToken })).status).toBe(401);
  // Only that token: another user's session goes on.
  expect((await jsonRequest(other.url, '/api/me', { token: someoneElse.accessToken })).status).toBe(200);
});
