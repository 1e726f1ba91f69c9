// docker-compose.yml checked without an engine, in a second (test/compose/ runs it for real): every
// Free Chat service builds from a target of services/Dockerfile for a real service, sets only
// variables that service reads, and loads a valid configuration listening on every interface of its
// container from them together with its image's ENV defaults.
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
  build?: { context: string; dockerfile: string; target: string };
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
const dockerfile = readFileSync(path.join(root, 'services/Dockerfile'), 'utf8');

/** The ENV defaults of a Dockerfile target (`FROM … AS target` up to the next FROM), and those of `runtime`. */
function imageEnv(target: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const stage of ['runtime', target]) {
    const body = dockerfile.split(/^FROM /m).find((block) => new RegExp(`^\\S+ AS ${stage}\\n`).test(block)) ?? '';
    for (const [, block] of body.replace(/\\\n\s*/g, ' ').matchAll(/^ENV (.*)$/gm)) {
      for (const [, key, value] of block!.matchAll(/([A-Z_]+)=(\S+)/g)) env[key!] = value!;
    }
  }
  return env;
}
/** Read by every service outside its configuration: tracing (OTEL_*) and the container health probe. */
const readOutsideConfig = (key: string) => key.startsWith('OTEL_') || key === 'FREECHAT_HEALTHCHECK' || key === 'NODE_ENV' || key === 'FREECHAT_CONFIG_DIR';

/** Compose interpolation, with a stand-in for required variables. */
const interpolate = (value: string) => value.replace(/\$\{([A-Z_]+)(:[-?][^}]*)?\}/g, (_, name: string, rest?: string) => (rest?.startsWith(':-') ? rest.slice(2) : `test-${name}`));

describe('docker-compose.yml (validated without a Docker engine)', () => {
  it('runs every Free Chat service', () => {
    expect(built.map(([name]) => name).sort()).toEqual(Object.keys(services).sort());
  });

  it.each(built)('%s builds from its own Dockerfile target, which runs that service', (name, svc) => {
    expect(existsSync(path.join(root, svc.build!.context, svc.build!.dockerfile))).toBe(true);
    expect(svc.build!.target).toBe(name);
    expect(dockerfile).toContain(`CMD ["node", "--enable-source-maps", "services/${name}/dist/main.js"]`);
    expect(existsSync(path.join(root, 'services', name, 'src/main.ts'))).toBe(true);
  });

  it.each(built)('%s sets only variables it reads, and they make a valid configuration listening on 0.0.0.0', (name, svc) => {
    const env = { ...imageEnv(name), ...Object.fromEntries(Object.entries(svc.environment).map(([k, v]) => [k, interpolate(String(v))])) };
    for (const key of Object.keys(env).filter((k) => !readOutsideConfig(k))) expect(services[name]!.env, key).toContain(key);
    // /app/config in the image is this repository's config/ (the loader's default here).
    delete env['FREECHAT_CONFIG_DIR'];
    // Production auth reads its key file at start, not at config load; the path is enough here.
    expect(services[name]!.listens(env)).toMatch(/^0\.0\.0\.0(:\d+)?$/);
  });
});
