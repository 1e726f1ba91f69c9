import { describe, expect, it } from 'vitest';
import { planStack } from './plan.js';

describe('make run plan', () => {
  const plan = (env: Record<string, string> = {}) => planStack({ env, databaseUrl: 'postgres://x', repoRoot: '/repo' });

  it('starts the gateway last so it is ready only when everything behind it is', () => {
    expect(plan().processes.map((p) => p.name)).toEqual(['inference', 'auth', 'chat', 'gateway']);
    expect(plan().processes.at(-1)!.readiness).toEqual({ kind: 'http', url: 'http://127.0.0.1:3000/readyz' });
  });

  it('uses the documented default addresses and honours overrides', () => {
    const env = plan().processes[0]!.env;
    expect(env).toMatchObject({
      DATABASE_URL: 'postgres://x',
      FREECHAT_AUTH_ADDRESS: '127.0.0.1:50051',
      FREECHAT_CHAT_ADDRESS: '127.0.0.1:50052',
      FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:50053',
      FREECHAT_DATA_DIR: '/repo/.data',
      FREECHAT_WEB_UI_DIR: '/repo/web-ui/dist',
    });
    const custom = plan({ PORT: '8080', FREECHAT_CHAT_ADDRESS: '127.0.0.1:6000' });
    expect(custom.publicUrl).toBe('http://localhost:8080');
    expect(custom.processes.find((p) => p.name === 'chat')!.readiness).toEqual({ kind: 'grpc', address: '127.0.0.1:6000' });
  });
});
