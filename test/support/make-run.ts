// `make run` as a test drives it: its own data directory and free ports, the real entry point
// (scripts/run/main.ts, running the built services/*/dist) as a child process, its output, and the
// HTTP API of the gateway it starts. Shared by the make run end-to-end test files.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../services/shared/src/index.js';
import { jsonApi, type JsonApi } from './api.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface MakeRunSetup {
  readonly dataDir: string;
  /** `http://127.0.0.1:PORT` of the gateway. */
  readonly baseUrl: string;
  /** What every launch gets: the data directory, free ports for all four services, the tiny model. */
  readonly env: Readonly<Record<string, string>>;
  /** `method url [body] [token]` → status and parsed JSON. */
  readonly api: JsonApi;
  /** Removes the data directory. */
  cleanup(): Promise<void>;
}

export async function prepareMakeRun(prefix: string): Promise<MakeRunSetup> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `freechat-${prefix}-`));
  // As root, embedded PostgreSQL runs as `postgres`, which must reach the data directory.
  await chmod(dataDir, 0o755);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    FREECHAT_DATA_DIR: dataDir,
    PORT: String(port),
    FREECHAT_AUTH_ADDRESS: `127.0.0.1:${await freePort()}`,
    FREECHAT_CHAT_ADDRESS: `127.0.0.1:${await freePort()}`,
    FREECHAT_INFERENCE_ADDRESS: `127.0.0.1:${await freePort()}`,
    FREECHAT_MODEL: 'tiny',
    FREECHAT_MODEL_CACHE: path.join(dataDir, 'models'),
    FREECHAT_LOG_LEVEL: 'warn',
  };
  delete process.env['DATABASE_URL'];
  return {
    dataDir,
    baseUrl,
    env,
    api: jsonApi(baseUrl),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

export interface MakeRun {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** The pid of each service as the supervisor last started it. */
  pids(): Record<string, number>;
  /** Each service's Prometheus endpoint, from the `metrics <service> <url>` lines. */
  metricsUrls(): Record<string, string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

const started = new Set<ChildProcess>();

/** Starts `make run`'s entry point; `started()` lists what is still running, for afterAll. */
export function launchMakeRun(env: Readonly<Record<string, string>>, extraEnv: Record<string, string> = {}): MakeRun {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/run/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    pids: () => Object.fromEntries([...output.matchAll(/started (\S+) \(pid (\d+)\)/g)].map((m) => [m[1]!, Number(m[2])])),
    metricsUrls: () => Object.fromEntries([...output.matchAll(/^metrics (\S+) (http:\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!])),
    waitFor: async (pattern, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`);
        if (child.exitCode !== null) throw new Error(`make run exited (${child.exitCode}) before ${pattern}:\n${output.slice(-4000)}`);
        await sleep(100);
      }
    },
  };
}

/** Launches and waits for `Free Chat is ready at` (a cold first start builds the tiny model). */
export async function startMakeRun(env: Readonly<Record<string, string>>, extraEnv: Record<string, string> = {}): Promise<MakeRun> {
  const run = launchMakeRun(env, extraEnv);
  await run.waitFor(/Free Chat is ready at/, 240_000);
  return run;
}

/** Ctrl-C, as a person stops it; resolves with the exit code. */
export async function stopMakeRun(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const [code] = await exited;
  return code as number | null;
}

/** Kills whatever a failed test left running. */
export function killLeftovers(): void {
  for (const child of started) child.kill('SIGKILL');
}
