// docker-compose.yml as the compose test drives it: a Docker engine (started by the project's script
// when none answers), local stand-ins for the public images no registry can serve here (test
// fixtures: scripts/containers/base-images.sh, fixture-images.sh), secrets in a temporary directory,
// free loopback ports, and a project name of its own so a developer's `make compose-up` is untouched.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../services/shared/src/index.js';
import { mustRun, run } from '../../scripts/containers/run-command.js';

const root = path.resolve(import.meta.dirname, '../..');
const scripts = path.join(root, 'scripts/containers');

export { run, type CommandResult } from '../../scripts/containers/run-command.js';

export type Engine = { readonly available: true; readonly startedHere: boolean } | { readonly available: false; readonly reason: string };

/** A Docker engine that answers, started by scripts/containers/ensure-engine.sh if this machine allows it. */
export async function ensureEngine(): Promise<Engine> {
  const result = await run(path.join(scripts, 'ensure-engine.sh'), []);
  if (result.code === 3) return { available: false, reason: result.output.trim() };
  if (result.code !== 0) throw new Error(`ensure-engine.sh exited ${result.code}:\n${result.output}`);
  return { available: true, startedHere: /engine: started/.test(result.output) };
}

export async function stopEngine(): Promise<void> {
  await mustRun(path.join(scripts, 'stop-engine.sh'), []);
}

export interface ComposeStack {
  /** `http://127.0.0.1:PORT`: the gateway, Consul's HTTP API, Prometheus, Jaeger's query API. */
  readonly urls: { readonly gateway: string; readonly consul: string; readonly prometheus: string; readonly jaeger: string };
  readonly revision: string;
  /** `docker compose ARGS…` for this project; throws with the output on failure. */
  compose(...args: string[]): Promise<string>;
  /** Images of the four services, as docker-compose.yml names them. */
  readonly images: Readonly<Record<'gateway' | 'auth' | 'chat' | 'inference', string>>;
  /** Removes the project's containers, networks and volumes, and the secrets. */
  destroy(): Promise<void>;
}

export async function prepareComposeStack(options: { readonly logLevel?: string; readonly tag?: string } = {}): Promise<ComposeStack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'freechat-compose-'));
  const secrets = path.join(dir, 'secrets');
  await mustRun(path.join(scripts, 'base-images.sh'), []);
  const fixtures = path.join(dir, 'fixture-images.env');
  await mustRun(path.join(scripts, 'fixture-images.sh'), [fixtures]);
  await mustRun(path.join(scripts, 'compose-secrets.sh'), [secrets]);
  const fixtureEnv = Object.fromEntries(
    (await readFile(fixtures, 'utf8'))
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const ports = { gateway: await freePort(), consul: await freePort(), prometheus: await freePort(), jaeger: await freePort() };
  const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  const project = `freechat-e2e-${process.pid}`;
  const version = options.tag ?? `e2e-${process.pid}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...fixtureEnv,
    COMPOSE_PROJECT_NAME: project,
    FREECHAT_SECRETS_DIR: secrets,
    FREECHAT_PORT: String(ports.gateway),
    CONSUL_PORT: String(ports.consul),
    PROMETHEUS_PORT: String(ports.prometheus),
    JAEGER_UI_PORT: String(ports.jaeger),
    FREECHAT_VERSION: version,
    FREECHAT_REVISION: revision,
    // The hub is unreachable from containers here; the built-in model needs no download.
    FREECHAT_MODEL: 'tiny',
    FREECHAT_LOG_LEVEL: options.logLevel ?? 'warn',
  };
  const compose = (...args: string[]) => mustRun(path.join(scripts, 'compose.sh'), ['-f', path.join(root, 'docker-compose.yml'), ...args], env);
  const image = (service: string) => `freechat/${service}:${version}`;
  const images = { gateway: image('gateway'), auth: image('auth'), chat: image('chat'), inference: image('inference') };
  return {
    urls: {
      gateway: `http://127.0.0.1:${ports.gateway}`,
      consul: `http://127.0.0.1:${ports.consul}`,
      prometheus: `http://127.0.0.1:${ports.prometheus}`,
      jaeger: `http://127.0.0.1:${ports.jaeger}`,
    },
    revision,
    compose,
    images,
    async destroy() {
      try {
        await compose('down', '--volumes', '--remove-orphans', '--timeout', '10');
        // The test's own tags, and images of ours a rebuild left untagged; build layers stay cached.
        await run('docker', ['image', 'rm', ...Object.values(images)]);
        await run('docker', ['image', 'prune', '--force', '--filter', 'label=org.opencontainers.image.vendor=Free Chat']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
