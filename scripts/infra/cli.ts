// `make infra-up` / `make infra-down`: the real Redis, Consul and RocketMQ, and the telemetry receivers
// Prometheus, Jaeger and Zipkin (the trace UI), for a person, started in .data/infra/ and outliving the command. `up` is idempotent (servers already up are reported, not
// restarted); the endpoints go to .data/infra.env as sourceable shell for `make run-infra`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, stopByPid } from './managed-process.js';
import { REPO_ROOT } from './paths.js';
import { startObservability } from './observability.js';
import { startInfra } from './servers.js';
import { startZipkin } from './zipkin.js';

const dataDir = path.join(process.env['FREECHAT_DATA_DIR'] || path.join(REPO_ROOT, '.data'));
const infraDir = path.join(dataDir, 'infra');
const stateFile = path.join(infraDir, 'state.json');
const envFile = path.join(dataDir, 'infra.env');
/** A person's Prometheus scrapes every 5 s (the tests' every second). */
const SCRAPE_INTERVAL = '5s';

interface State {
  /** Every process started, in start order: stopped in reverse. */
  readonly processes: { readonly name: string; readonly pid: number }[];
  readonly env: Record<string, string>;
}

const log = (message: string): void => void process.stderr.write(`[infra] ${message}\n`);

function writeState(state: State): void {
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  writeFileSync(
    envFile,
    `# Written by \`make infra-up\`; source it (set -a; . ${path.relative(REPO_ROOT, envFile)}) or use \`make run-infra\`.\n` +
      Object.entries(state.env)
        .map(([key, value]) => `${key}=${value}\n`)
        .join(''),
  );
}

function readState(): State | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, 'utf8')) as State;
}

function print(state: State): void {
  for (const [key, value] of Object.entries(state.env)) process.stdout.write(`${key}=${value}\n`);
  const { PROMETHEUS_URL: prometheus, JAEGER_URL: jaeger, ZIPKIN_URL: zipkin } = state.env;
  if (prometheus) log(`open Prometheus at ${prometheus}/graph (targets: ${prometheus}/targets, alerts: ${prometheus}/alerts)`);
  if (zipkin) log(`traces UI: ${zipkin}/zipkin/ (Zipkin; pick serviceName freechat-gateway and Run Query)`);
  if (jaeger) log(`the same traces as JSON in Jaeger at ${jaeger}/api/traces?service=freechat-gateway (this build has no UI assets)`);
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
    if (!existing.env['PROMETHEUS_URL']) await addObservability(existing);
    else if (!existing.env['ZIPKIN_URL']) await addZipkin(existing);
    else log('already up');
    print(readState() ?? existing);
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
    const [servers, observability] = await Promise.allSettled([
      startInfra({ dataDir: infraDir, keepAlive: true }),
      startObservability({ dataDir: infraDir, keepAlive: true, scrapeInterval: SCRAPE_INTERVAL, zipkin: true }),
    ]);
    for (const result of [servers, observability]) {
      if (result.status === 'fulfilled') processes.push(...result.value.processes.map((p) => ({ name: p.name, pid: p.pid })));
    }
    if (servers.status === 'rejected') throw servers.reason;
    if (observability.status === 'rejected') throw observability.reason;
    const state: State = { processes, env: { ...servers.value.env, ...observability.value.env } };
    writeState(state);
    log(`Redis, Consul, RocketMQ, Prometheus, Jaeger and Zipkin up in ${((Date.now() - started) / 1000).toFixed(1)} s (data and logs in ${infraDir})`);
    print(state);
  } catch (error) {
    log(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    for (const { pid } of processes.reverse()) await stopByPid(pid);
    process.exitCode = 1;
  }
}

/** Servers from an earlier `make infra-up` without the telemetry receivers: add them, keep the rest. */
async function addObservability(state: State): Promise<void> {
  const started = Date.now();
  try {
    const observability = await startObservability({ dataDir: infraDir, keepAlive: true, scrapeInterval: SCRAPE_INTERVAL, zipkin: true });
    writeState({
      processes: [...state.processes, ...observability.processes.map((p) => ({ name: p.name, pid: p.pid }))],
      env: { ...state.env, ...observability.env },
    });
    log(`Prometheus, Jaeger and Zipkin added in ${((Date.now() - started) / 1000).toFixed(1)} s (the other servers were already up)`);
  } catch (error) {
    log(`could not start Prometheus, Jaeger and Zipkin: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

/** Servers from an earlier `make infra-up` without Zipkin: add it, and have the services export to it too. */
async function addZipkin(state: State): Promise<void> {
  const started = Date.now();
  try {
    const zipkin = await startZipkin({ dataDir: path.join(infraDir, 'zipkin'), keepAlive: true });
    writeState({
      processes: [...state.processes, { name: zipkin.process.name, pid: zipkin.process.pid }],
      env: { ...state.env, ZIPKIN_URL: zipkin.url, OTEL_TRACES_EXPORTER: 'otlp,zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin.spansEndpoint },
    });
    log(`Zipkin added in ${((Date.now() - started) / 1000).toFixed(1)} s (the other servers were already up)`);
  } catch (error) {
    log(`could not start Zipkin: ${error instanceof Error ? error.message : String(error)}`);
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
