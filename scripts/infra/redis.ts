// A real Redis server (Debian's redis-server) on a free loopback port, no persistence.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from './managed-process.js';
import { INFRA_SCRIPTS } from './paths.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Stops the server (its data is gone: no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port (for outage tests). */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Logs and the working directory. */
  readonly dataDir: string;
  readonly port?: number;
  readonly keepAlive?: boolean;
}

/** Provisions redis-server if needed (apt) and returns its path. */
export function ensureRedis(): string {
  return execFileSync(path.join(INFRA_SCRIPTS, 'ensure-redis.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startRedis(options: StartRedisOptions): Promise<RedisServer> {
  const binary = ensureRedis();
  const port = options.port ?? (await freePort());
  mkdirSync(options.dataDir, { recursive: true });
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess({
      name: 'redis',
      command: binary,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', options.dataDir, '--protected-mode', 'yes'],
      cwd: options.dataDir,
      logFile: path.join(options.dataDir, 'redis.log'),
      ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }),
    });
    await waitFor(`redis on port ${port}`, () => ping(port), { timeoutMs: 15_000, process: proc });
    return proc;
  };
  let current = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get process() {
      return current;
    },
    stop: () => current.stop(),
    async restart() {
      await current.stop();
      current = await launch();
    },
  };
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
