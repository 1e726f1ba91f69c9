// `make infra-up` / `make infra-down`: the real Redis, Consul and RocketMQ for a person, started in
// .data/infra/ and outliving the command. `up` is idempotent (servers already up are reported, not
// restarted); the endpoints go to .data/infra.env as sourceable shell for `make run-infra`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, stopByPid } from './managed-process.js';
import { REPO_ROOT } from './paths.js';
import { startInfra } from './servers.js';

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
  if (existing && existing.processes.every((p) => isAlive(p.pid))) {
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
    const servers = await startInfra({ dataDir: infraDir, keepAlive: true });
    processes.push(...servers.processes.map((p) => ({ name: p.name, pid: p.pid })));
    const state: State = { processes, env: { ...servers.env } };
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
