// The whole stack in Consul mode against a real agent: every service registers itself, the gateway
// and chat find their upstreams only through Consul, and a service that closes leaves the catalog
// before it stops answering, so callers say "unavailable" instead of timing out.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { catalogName, createConsulClient, type ServiceName } from '@freechat/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import { jsonRequest, readSse, registerUser } from './support/http.js';
import { startStack, type Stack } from './support/stack.js';
import { eventually } from '../../../test/support/eventually.js';

const consulAddress = infraEndpoints().consulAddress;
if (!consulAddress) throw new Error('the test infrastructure started no Consul');
const consul = createConsulClient(consulAddress);
// Its own catalog names: other test files share this Consul.
const serviceNamePrefix = `stack${randomUUID().slice(0, 8)}`;
const releaseVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface HealthEntry {
  readonly Service: { readonly ID: string; readonly Port: number; readonly Tags: string[]; readonly Meta: Record<string, string> };
}

const passing = async (service: ServiceName): Promise<HealthEntry[]> =>
  (await consul.health.service({ service: catalogName(service, serviceNamePrefix), passing: true })) as HealthEntry[];

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ consul: { address: consulAddress, serviceNamePrefix }, gateway: { models: { cacheMs: 0 } } });
});

afterAll(async () => {
  await stack?.close();
});

describe('discovery through Consul', () => {
  it('registers every service with its version, protocol and port; the gateway reaches auth, chat and inference through Consul', async () => {
    const ports: Record<ServiceName, number> = { gateway: stack.gateway.port, auth: stack.auth.port, chat: stack.chat.port, inference: stack.inference.port };
    for (const [service, port] of Object.entries(ports) as [ServiceName, number][]) {
      const [entry] = await eventually(`${service} passing`, async () => ((await passing(service)).length === 1 ? passing(service) : undefined));
      expect(entry!.Service).toMatchObject({ Port: port, Meta: { version: releaseVersion } });
      expect(entry!.Service.Tags[0]).toBe(service === 'gateway' ? 'http' : 'grpc');
    }

    await eventually('gateway ready', async () => ((await jsonRequest(stack.url, '/readyz')).status === 200 ? true : undefined));
    const user = await registerUser(stack.url);
    const session = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
    const result = await readSse(stack.url, `/api/sessions/${session.body.id}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Hello', params: { maxNewTokens: 4 } },
    });
    expect(result.events.at(-1)?.event).toBe('done');
    expect((await jsonRequest(stack.url, '/api/models', { token: user.accessToken })).body.state).toBe('ready');
  });

  it('a closing service leaves the catalog first; then the gateway answers 503 and a run ends with inference_unavailable', async () => {
    const user = await registerUser(stack.url);
    await stack.inference.close();
    // Deregistered, not merely failing its check.
    expect(Object.values(await consul.agent.service.list()).filter((s) => (s as { Service: string }).Service === catalogName('inference', serviceNamePrefix))).toEqual([]);
    await eventually('gateway and chat see no inference', async () =>
      stack.gateway.app.upstreams.discovery.channels.instances('inference').length === 0 ? true : undefined,
    );

    const models = await jsonRequest(stack.url, '/api/models', { token: user.accessToken });
    expect(models.status).toBe(503);
    expect(models.body.error.code).toBe('upstream_unavailable');

    const session = await jsonRequest(stack.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
    const result = await readSse(stack.url, `/api/sessions/${session.body.id}/messages`, {
      method: 'POST',
      token: user.accessToken,
      body: { content: 'Hello', params: { maxNewTokens: 4 } },
    });
    expect(result.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'inference_unavailable' } });
  });
});
