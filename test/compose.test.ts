// No Docker engine runs here, so docker-compose.yml is validated, not run: every Free Chat service
// builds from a real Dockerfile for a real service, sets only variables that service reads, loads a
// valid configuration from them, and listens on every interface of its container.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AUTH_ENV, loadAuthConfig } from '../services/auth/src/config.js';
import { CHAT_ENV, loadChatConfig } from '../services/chat/src/config.js';
import { GATEWAY_ENV, loadGatewayConfig } from '../services/gateway/src/config.js';
import { INFERENCE_ENV, loadInferenceConfig } from '../services/inference/src/config.js';

const root = path.resolve(import.meta.dirname, '..');
interface ComposeService {
  build?: { context: string; dockerfile: string; args: { SERVICE: string } };
  environment: Record<string, string>;
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

/** Each service: the variables it reads, and where it says it listens once configured from them. */
const services: Record<string, { env: readonly string[]; listens: (env: NodeJS.ProcessEnv) => string }> = {
  inference: { env: Object.keys(INFERENCE_ENV), listens: (env) => loadInferenceConfig({ env }).listen.address },
  auth: { env: Object.keys(AUTH_ENV), listens: (env) => loadAuthConfig({ env }).listen.address },
  chat: { env: Object.keys(CHAT_ENV), listens: (env) => loadChatConfig({ env }).listen.address },
  gateway: { env: Object.keys(GATEWAY_ENV), listens: (env) => loadGatewayConfig({ env }).http.host },
};
const built = Object.entries(compose.services).filter(([, svc]) => svc.build);

/** Compose interpolation, with a stand-in for required variables. */
const interpolate = (value: string) => value.replace(/\$\{([A-Z_]+)(:[-?][^}]*)?\}/g, (_, name: string, rest?: string) => (rest?.startsWith(':-') ? rest.slice(2) : `test-${name}`));

describe('docker-compose.yml (validated without a Docker engine)', () => {
  it('runs every Free Chat service', () => {
    expect(built.map(([name]) => name).sort()).toEqual(Object.keys(services).sort());
  });

  it.each(built)('%s builds from a Dockerfile that exists, for a service that exists', (name, svc) => {
    expect(existsSync(path.join(root, svc.build!.context, svc.build!.dockerfile))).toBe(true);
    expect(svc.build!.args.SERVICE).toBe(name);
    expect(existsSync(path.join(root, 'services', name, 'src/main.ts'))).toBe(true);
  });

  it.each(built)('%s sets only variables it reads, and they make a valid configuration listening on 0.0.0.0', (name, svc) => {
    for (const key of Object.keys(svc.environment)) expect(services[name]!.env).toContain(key);
    const env = Object.fromEntries(Object.entries(svc.environment).map(([k, v]) => [k, interpolate(String(v))]));
    // Production auth reads its key file at start, not at config load; the path is enough here.
    expect(services[name]!.listens(env)).toMatch(/^0\.0\.0\.0(:\d+)?$/);
  });
});
