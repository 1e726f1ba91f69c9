// A real Consul agent in dev mode (one in-memory server) on loopback, every port chosen free so test
// runs and `make infra-up` never collide with each other or with a Consul already on the machine.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from './managed-process.js';
import { INFRA_SCRIPTS } from './paths.js';

export interface ConsulServer {
  /** `127.0.0.1:PORT` of the HTTP API (what CONSUL_HTTP_ADDR takes). */
  readonly address: string;
  readonly process: ManagedProcess;
  /** Stops the agent; dev mode keeps nothing, so every registration is gone with it. */
  stop(): Promise<void>;
}

export interface StartConsulOptions {
  /** Logs and the working directory. */
  readonly dataDir: string;
  readonly keepAlive?: boolean;
}

/** Builds Consul if it is not cached yet (waits for a build already running) and returns its path. */
export function ensureConsul(): string {
  return execFileSync(path.join(INFRA_SCRIPTS, 'ensure-consul.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** How many times the agent is started with new ports when one it was given was taken meanwhile. */
const START_ATTEMPTS = 3;

export async function startConsul(options: StartConsulOptions): Promise<ConsulServer> {
  const binary = ensureConsul();
  mkdirSync(options.dataDir, { recursive: true });
  // A port found free can be taken before the agent binds it (the other servers start meanwhile, and
  // Consul binds six): then it is started again on new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startConsulOnce(binary, options, attempt);
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !portWasTaken(path.join(options.dataDir, logName(attempt)))) throw error;
      console.warn(`[infra] consul: a port was taken before it could bind (attempt ${attempt}); starting it again on other ports`);
    }
  }
}

const logName = (attempt: number): string => (attempt === 1 ? 'consul.log' : `consul-${attempt}.log`);

function portWasTaken(logFile: string): boolean {
  try {
    return /bind: address already in use/.test(readFileSync(logFile, 'utf8'));
  } catch {
    return false;
  }
}

async function startConsulOnce(binary: string, options: StartConsulOptions, attempt: number): Promise<ConsulServer> {
  // Sequential: parallel probes could be handed the same port.
  const ports = { http: 0, grpc: 0, dns: 0, server: 0, serfLan: 0, serfWan: 0 };
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  const address = `127.0.0.1:${ports.http}`;
  const proc = startProcess({
    name: 'consul',
    command: binary,
    args: [
      'agent',
      '-dev',
      '-bind',
      '127.0.0.1',
      '-client',
      '127.0.0.1',
      '-http-port',
      String(ports.http),
      '-grpc-port',
      String(ports.grpc),
      '-dns-port',
      String(ports.dns),
      '-server-port',
      String(ports.server),
      '-serf-lan-port',
      String(ports.serfLan),
      '-serf-wan-port',
      String(ports.serfWan),
      '-hcl',
      'disable_update_check = true',
      // Dev mode opens a TLS gRPC port too (8503 by default), which would collide between runs.
      '-hcl',
      'ports { grpc_tls = -1 }',
    ],
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    cwd: options.dataDir,
    logFile: path.join(options.dataDir, logName(attempt)),
    ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }),
  });
  try {
    await waitFor(`consul at ${address}`, () => hasLeader(address), { timeoutMs: 30_000, process: proc });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { address, process: proc, stop: () => proc.stop() };
}

/** The agent answers and its (only) server has elected itself: registrations and queries work. */
async function hasLeader(address: string): Promise<boolean> {
  const response = await fetch(`http://${address}/v1/status/leader`, { signal: AbortSignal.timeout(1_000) });
  if (!response.ok) return false;
  const leader = (await response.json()) as unknown;
  return typeof leader === 'string' && leader.length > 0;
}
