// `make infra-up` / `make infra-down`: the real Redis, Consul and RocketMQ for a person, started in
// .data/infra/ and outliving the command. `up` is idempotent (servers already up are reported, not
// restarted); the endpoints go to .data/infra.env as sourceable shell for `make run-infra`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startConsul } from './consul.js';
import { stopByPid } from './managed-process.js';
import { REPO_ROOT } from './paths.js';
import { startRedis } from './redis.js';
import { FREECHAT_ROCKETMQ, startRocketMQ } from './rocketmq.js';

const dataDir = path.join(process.env['FREECHAT_DATA_DIR'] || path.join(REPO_ROOT, '.data'));
const infraDir = path.join(dataDir, 'infra');
const stateFile = path.join(infraDir, 'state.json');
const envFile = path.join(dataDir, 'infra.env');

interface State {
  /** Every process started, in start order: stopped in reverse. */
  readonly processes: { readonly name: string; readonly pid: number }[];
  readonly env: Record<string, string>;
}

const log = (message: string): void => void process.stderr.write(`[infra] ${message}\n`);

function readState(): State | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, 'utf8')) as State;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function print(state: State): void {
  for (const [key, value] of Object.entries(state.env)) process.stdout.write(`${key}=${value}\n`);
  log(`endpoints written to ${path.relative(process.cwd(), envFile) || envFile}; \`make run-infra\` uses them, \`make infra-down\` stops everything`);
}

async function down(): Promise<void> {
  const state = readState();
  if (!state) {
    log('nothing to stop');
    return;
  }
  for (const { name, pid } of [...state.processes].reverse()) {
    log(`stopping ${name} (pid ${pid})`);
    await stopByPid(pid);
  }
  rmSync(stateFile, { force: true });
  rmSync(envFile, { force: true });
  log('stopped');
}

async function up(): Promise<void> {
  const existing = readState();
  if (existing && existing.processes.every((p) => alive(p.pid))) {
    log('already up');
    print(existing);
    return;
  }
  if (existing) {
    log('some servers died; restarting all of them');
    await down();
  }
  const started = Date.now();
  const processes: State['processes'][number][] = [];
  try {
    // Data from an earlier run is dropped: topics and groups are created fresh, as for the tests.
    rmSync(infraDir, { recursive: true, force: true });
    mkdirSync(infraDir, { recursive: true });
    // Side by side; all settle before deciding, so a failure never leaves a half-started server behind.
    const settled = await Promise.allSettled([
      startRedis({ dataDir: path.join(infraDir, 'redis'), keepAlive: true }),
      startConsul({ dataDir: path.join(infraDir, 'consul'), keepAlive: true }),
      startRocketMQ({ dataDir: path.join(infraDir, 'rocketmq'), keepAlive: true, ...FREECHAT_ROCKETMQ }),
    ] as const);
    const [redisResult, consulResult, rocketmqResult] = settled;
    if (redisResult.status === 'fulfilled') processes.push({ name: 'redis', pid: redisResult.value.process.pid });
    if (consulResult.status === 'fulfilled') processes.push({ name: 'consul', pid: consulResult.value.process.pid });
    if (rocketmqResult.status === 'fulfilled') {
      processes.push({ name: 'rocketmq-namesrv', pid: rocketmqResult.value.namesrv.pid }, { name: 'rocketmq-proxy', pid: rocketmqResult.value.proxy.pid });
    }
    for (const result of settled) if (result.status === 'rejected') throw result.reason;
    const redis = (redisResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startRedis>>>).value;
    const consul = (consulResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startConsul>>>).value;
    const rocketmq = (rocketmqResult as PromiseFulfilledResult<Awaited<ReturnType<typeof startRocketMQ>>>).value;
    const state: State = {
      processes,
      env: { REDIS_URL: redis.url, CONSUL_HTTP_ADDR: consul.address, ROCKETMQ_ENDPOINTS: rocketmq.endpoints },
    };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    writeFileSync(
      envFile,
      `# Written by \`make infra-up\`; source it (set -a; . ${path.relative(REPO_ROOT, envFile)}) or use \`make run-infra\`.\n` +
        Object.entries(state.env)
          .map(([key, value]) => `${key}=${value}\n`)
          .join(''),
    );
    log(`Redis, Consul and RocketMQ up in ${((Date.now() - started) / 1000).toFixed(1)} s (data and logs in ${infraDir})`);
    print(state);
  } catch (error) {
    log(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    for (const { pid } of processes.reverse()) await stopByPid(pid);
    process.exitCode = 1;
  }
}

const command = process.argv[2];
if (command === 'up') await up();
else if (command === 'down') await down();
else {
  process.stderr.write('usage: cli.ts up|down\n');
  process.exitCode = 2;
}
