// No Docker engine runs here, so docker-compose.yml is validated, not run: every service must
// build from a real Dockerfile, name a real service, and set only variables that service reads.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { INFERENCE_ENV, loadInferenceConfig } from '../services/inference/src/config.js';

const root = path.resolve(import.meta.dirname, '..');
interface ComposeService {
  build: { context: string; dockerfile: string; args: { SERVICE: string } };
  environment: Record<string, string>;
  ports: string[];
}
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
const knownEnv: Record<string, readonly string[]> = { inference: Object.keys(INFERENCE_ENV) };

describe('docker-compose.yml (validated without a Docker engine)', () => {
  it.each(Object.entries(compose.services))('%s builds from a Dockerfile that exists, for a service that exists', (name, svc) => {
    expect(existsSync(path.join(root, svc.build.context, svc.build.dockerfile))).toBe(true);
    expect(svc.build.args.SERVICE).toBe(name);
    expect(existsSync(path.join(root, 'services', name, 'src/main.ts'))).toBe(true);
  });

  it.each(Object.entries(compose.services))('%s sets only variables it reads, and listens where it publishes', (name, svc) => {
    for (const key of Object.keys(svc.environment)) expect(knownEnv[name]).toContain(key);
    const env = Object.fromEntries(Object.entries(svc.environment).map(([k, v]) => [k, v.replace(/\$\{[^}]*\}/g, '')]));
    const config = loadInferenceConfig({ env });
    const port = config.listen.address.split(':').at(-1);
    expect(config.listen.address.startsWith('0.0.0.0:')).toBe(true);
    expect(svc.ports.some((p) => p.endsWith(`:${port}`))).toBe(true);
  });
});
