// What streaming costs in the gateway and chat, with telemetry on and off (issue 9): per-token
// added latency at 1, 50 and 200 concurrent streams, idle SSE streams per 100 MB of gateway RSS,
// and the throughput lost to tracing at ratio 1.0. Writes docs/benchmarks/stream.md.
//
// Processes, one set per telemetry mode, all started at once and measured in alternation:
//   stream-backend.ts  PostgreSQL + inference (scripted engine) + auth + chat (the test stack)
//   stream-gateway.ts  the gateway alone, so its RSS is its own
//   this process       the HTTP/SSE client, the OTLP/HTTP sink, and a Prometheus-like scraper
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonRequest, readSse, registerUser, type TestUser } from '../test/support/http.js';
import { startOtlpSink, type OtlpSink } from './otlp-sink.js';
import { monotonicMicros, scriptMessage, stampsIn, type Script } from './scripted-engine.js';
import type { FromChild, MemoryReport, TelemetryMode, ToChild } from './stream-child.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

/** `--quick`: a smoke run of every part with small numbers, the page written to the temp dir. */
const QUICK = process.argv.includes('--quick');
const LATENCY_CONCURRENCY = QUICK ? [1, 5] : [1, 50, 200];
const LATENCY_TOKENS = QUICK ? 20 : 250;
/** 50 tokens/s per stream: a fast model's decode rate. */
const LATENCY_INTERVAL_MS = 20;
const THROUGHPUT_STREAMS = QUICK ? 5 : 50;
const THROUGHPUT_TOKENS = QUICK ? 200 : 1_000;
const THROUGHPUT_ROUNDS = QUICK ? 1 : 3;
const IDLE_STEPS = QUICK ? [10, 20] : [500, 1_000];
const SCRAPE_INTERVAL_MS = 5_000;
const DELTA_WINDOW_MS = 16;

// --- child processes ----------------------------------------------------------------------------

interface Child {
  readonly process: ChildProcess;
  readonly info: Record<string, unknown>;
  request(message: ToChild): Promise<FromChild>;
  close(): Promise<void>;
}

async function startChild(file: string, env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--conditions=freechat-source', '--import', 'tsx', '--expose-gc', path.join(here, file)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = (): Promise<FromChild> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`${file} exited (${code}) before answering`));
      child.once('exit', onExit);
      child.once('message', (message: FromChild) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`${file}: unexpected first message ${ready.type}`);
  return {
    process: child,
    info: ready.info,
    request: (message) => {
      const answer = next();
      child.send(message);
      return answer;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: 'close' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Deployment {
  readonly mode: TelemetryMode;
  readonly backend: Child;
  readonly gateway: Child;
  readonly url: string;
  readonly metricsUrls: string[];
  users: TestUser[];
}

async function deploy(mode: TelemetryMode, sink: OtlpSink): Promise<Deployment> {
  const telemetry = { BENCH_TELEMETRY: mode, BENCH_OTLP_URL: sink.url };
  const backend = await startChild('stream-backend.ts', telemetry);
  const gateway = await startChild('stream-gateway.ts', {
    ...telemetry,
    BENCH_AUTH_ADDRESS: String(backend.info['auth']),
    BENCH_CHAT_ADDRESS: String(backend.info['chat']),
    BENCH_INFERENCE_ADDRESS: String(backend.info['inference']),
  });
  const metricsUrls = [...(backend.info['metricsUrls'] as string[]), ...(gateway.info['metricsUrl'] ? [String(gateway.info['metricsUrl'])] : [])];
  if ((mode === 'on') !== (backend.info['tracing'] === true && gateway.info['tracing'] === true)) throw new Error(`${mode}: tracing is not as the mode says`);
  if ((mode === 'off') !== (metricsUrls.length === 0)) throw new Error(`${mode}: metrics endpoints are not as the mode says`);
  return { mode, backend, gateway, url: String(gateway.info['url']), metricsUrls, users: [] };
}

async function gatewayMemory(deployment: Deployment): Promise<MemoryReport> {
  const answer = await deployment.gateway.request({ type: 'memory' });
  if (answer.type !== 'memory') throw new Error('expected a memory report');
  return answer.memory;
}

// --- the client -------------------------------------------------------------------------------

async function inParallel<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

async function newSession(deployment: Deployment, user: TestUser): Promise<string> {
  const response = await jsonRequest(deployment.url, '/api/sessions', { method: 'POST', token: user.accessToken, body: {} });
  if (response.status !== 201) throw new Error(`create session: ${response.status}`);
  return response.body.id;
}

interface PhaseResult {
  /** arrival − emit of every content token, µs. */
  readonly latencies: number[];
  readonly tokens: number;
  readonly contentEvents: number;
  readonly seconds: number;
  readonly failed: number;
}

/** `count` streams at once, one per user, each sending `script` and reading its answer to the end. */
async function runStreams(deployment: Deployment, count: number, script: Script, recordLatency: boolean): Promise<PhaseResult> {
  const users = deployment.users.slice(0, count);
  if (users.length < count) throw new Error('not enough users');
  const sessions = await inParallel(count, 16, (index) => newSession(deployment, users[index]!));
  const latencies: number[] = [];
  let tokens = 0;
  let contentEvents = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    users.map(async (user, index) => {
      const result = await readSse(deployment.url, `/api/sessions/${sessions[index]}/messages`, {
        method: 'POST',
        token: user.accessToken,
        body: { content: scriptMessage(script) },
        timeoutMs: 300_000,
        until: (event) => {
          if (event.event !== 'content') return false;
          const arrival = monotonicMicros();
          const stamps = stampsIn(event.data.delta as string);
          contentEvents++;
          tokens += stamps.length;
          if (recordLatency) for (const emitted of stamps) latencies.push(arrival - emitted);
          return false;
        },
      }).catch(() => undefined);
      if (!result || result.status !== 200 || result.events.at(-1)?.event !== 'done') failed++;
    }),
  );
  return { latencies, tokens, contentEvents, seconds: (performance.now() - started) / 1000, failed };
}

// --- statistics ----------------------------------------------------------------------------------

const percentile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (micros: number): string => (micros / 1000).toFixed(2);
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

interface LatencyRow {
  readonly mode: TelemetryMode;
  readonly concurrency: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly samples: number;
  readonly tokensPerEvent: number;
  readonly rate: number;
  readonly failed: number;
}

interface IdleRow {
  readonly mode: TelemetryMode;
  readonly streams: number;
  readonly rssDelta: number;
  readonly heapDelta: number;
  readonly baseline: MemoryReport;
}

// --- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const began = Date.now();
  const sink = await startOtlpSink();
  const log = (line: string): void => console.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  log('starting off, metrics and on deployments');
  const deployments = new Map<TelemetryMode, Deployment>();
  for (const deployment of await Promise.all((['off', 'metrics', 'on'] as const).map((mode) => deploy(mode, sink)))) deployments.set(deployment.mode, deployment);
  const off = deployments.get('off')!;
  const on = deployments.get('on')!;
  const all = [...deployments.values()];

  // A Prometheus stand-in: every metrics endpoint scraped every 5 s, as a short scrape_interval would.
  let scrapes = 0;
  const scraper = setInterval(() => {
    for (const deployment of all)
      for (const url of deployment.metricsUrls)
        void fetch(url)
          .then((response) => response.text())
          .then(() => scrapes++, () => undefined);
  }, SCRAPE_INTERVAL_MS);

  try {
    log('registering users');
    const userCount = Math.max(...LATENCY_CONCURRENCY, THROUGHPUT_STREAMS, Math.ceil(IDLE_STEPS.at(-1)! / 2));
    for (const deployment of all) {
      const count = deployment.mode === 'metrics' ? THROUGHPUT_STREAMS : userCount;
      deployment.users = await inParallel(count, 8, () => registerUser(deployment.url, `bench${deployment.mode}`));
    }
    log('warming up');
    for (const deployment of all) await runStreams(deployment, Math.min(20, deployment.users.length), { tokens: 200, intervalMs: 0, holdMs: 0 }, false);

    const latencyRows: LatencyRow[] = [];
    for (const concurrency of LATENCY_CONCURRENCY) {
      for (const deployment of [off, on]) {
        const result = await runStreams(deployment, concurrency, { tokens: LATENCY_TOKENS, intervalMs: LATENCY_INTERVAL_MS, holdMs: 0 }, true);
        const sorted = result.latencies.sort((a, b) => a - b);
        const row: LatencyRow = {
          mode: deployment.mode,
          concurrency,
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          p999: percentile(sorted, 0.999),
          max: sorted.at(-1) ?? NaN,
          samples: sorted.length,
          tokensPerEvent: result.tokens / Math.max(1, result.contentEvents),
          rate: result.tokens / result.seconds,
          failed: result.failed,
        };
        latencyRows.push(row);
        log(`latency ${deployment.mode} x${concurrency}: p50 ${ms(row.p50)} ms, p99 ${ms(row.p99)} ms, ${row.samples} tokens, ${row.failed} failed`);
        await sleep(1_000);
      }
    }

    const throughput = new Map<TelemetryMode, number[]>(all.map((d) => [d.mode, []]));
    let throughputFailed = 0;
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      // Each round in another order, so no mode always runs first (or last).
      const order = all.map((_, i) => all[(i + round) % all.length]!);
      for (const deployment of order) {
        const result = await runStreams(deployment, THROUGHPUT_STREAMS, { tokens: THROUGHPUT_TOKENS, intervalMs: 0, holdMs: 0 }, false);
        throughputFailed += result.failed;
        throughput.get(deployment.mode)!.push(result.tokens / result.seconds);
        log(`throughput ${deployment.mode} round ${round + 1}: ${(result.tokens / result.seconds).toFixed(0)} tokens/s (${result.tokens} tokens, ${result.seconds.toFixed(1)} s, ${result.failed} failed)`);
        await sleep(1_000);
      }
    }
    await sleep(6_000); // the last batches of spans leave the BatchSpanProcessor (5 s schedule)
    const exported = { ...sink.counts };

    const idleRows: IdleRow[] = [];
    let idleFailed = 0;
    for (const deployment of [off, on]) {
      // The heap shrinks for a while after the throughput part: the baseline is taken once it has settled.
      await gatewayMemory(deployment);
      await sleep(3_000);
      const baseline = await gatewayMemory(deployment);
      let opened = 0;
      for (const target of IDLE_STEPS) {
        await inParallel(target - opened, 20, async (i) => {
          const user = deployment.users[Math.floor((opened + i) / 2)]!;
          const session = await newSession(deployment, user);
          await new Promise<void>((resolve) => {
            // Held open: the engine waits 10 minutes before its first token; the stream ends when the gateway stops.
            readSse(deployment.url, `/api/sessions/${session}/messages`, {
              method: 'POST',
              token: user.accessToken,
              body: { content: scriptMessage({ tokens: 1, intervalMs: 0, holdMs: 600_000 }) },
              timeoutMs: 900_000,
              until: (event) => {
                if (event.event === 'run') resolve();
                return false;
              },
            }).then(
              (result) => {
                if (result.status !== 200) idleFailed++;
                resolve();
              },
              () => {
                idleFailed++;
                resolve();
              },
            );
          });
        });
        opened = target;
        await sleep(2_000);
        const now = await gatewayMemory(deployment);
        idleRows.push({ mode: deployment.mode, streams: target, rssDelta: now.rss - baseline.rss, heapDelta: now.heapUsed - baseline.heapUsed, baseline });
        log(`idle ${deployment.mode} ${target} streams: gateway RSS +${mb(now.rss - baseline.rss)} MB (heap +${mb(now.heapUsed - baseline.heapUsed)} MB)`);
      }
    }

    writePage({ latencyRows, throughput, throughputFailed, exported, idleRows, idleFailed, scrapes, seconds: (Date.now() - began) / 1000 });
    log(`wrote ${QUICK ? path.join(os.tmpdir(), 'stream.md') : 'docs/benchmarks/stream.md'}`);
  } finally {
    clearInterval(scraper);
    for (const deployment of all) await deployment.gateway.close();
    await Promise.all(all.map((deployment) => deployment.backend.close()));
    await sink.close();
  }
}

// --- the page ---------------------------------------------------------------------------------

interface Results {
  readonly latencyRows: LatencyRow[];
  readonly throughput: Map<TelemetryMode, number[]>;
  readonly throughputFailed: number;
  readonly exported: { requests: number; bytes: number; spans: number };
  readonly idleRows: IdleRow[];
  readonly idleFailed: number;
  readonly scrapes: number;
  readonly seconds: number;
}

function writePage(results: Results): void {
  const { latencyRows, throughput, idleRows } = results;
  const top = Math.max(...LATENCY_CONCURRENCY);
  const row200 = (mode: TelemetryMode) => latencyRows.find((r) => r.mode === mode && r.concurrency === top)!;
  const perHundred = (row: IdleRow): number => (row.streams * 100e6) / row.rssDelta;
  const idleLast = (mode: TelemetryMode) => idleRows.filter((r) => r.mode === mode).at(-1)!;
  const tput = (mode: TelemetryMode): number => median(throughput.get(mode)!);
  const loss = (from: TelemetryMode, to: TelemetryMode): number => 1 - tput(to) / tput(from);
  const met = (ok: boolean): string => (ok ? 'met' : '**not met**');
  const cpu = os.cpus();
  const lines = [
    '# Streaming cost: gateway + chat, telemetry on and off',
    '',
    `\`npm run bench:stream\` (services/gateway/bench/stream.bench.ts), ${new Date().toISOString().slice(0, 10)}, ${results.seconds.toFixed(0)} s.`,
    `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'} (a shared VM), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.type()} ${os.release()}.`,
    'Every process of the benchmark (client, gateways, chat, inference, PostgreSQL) shares these cores, so the',
    'figures include their contention; timings on this VM vary by ±30 % from run to run.',
    '',
    '## Targets',
    '',
    '| target | telemetry off | telemetry on | |',
    '|---|---|---|---|',
    `| added latency per token, p99 at 200 streams < 2 ms | ${ms(row200('off').p99)} ms | ${ms(row200('on').p99)} ms | ${met(row200('on').p99 < 2_000)} |`,
    `| idle SSE streams per 100 MB of gateway RSS ≥ 1,000 | ${perHundred(idleLast('off')).toFixed(0)} | ${perHundred(idleLast('on')).toFixed(0)} | ${met(perHundred(idleLast('on')) >= 1_000)} |`,
    `| throughput loss from tracing at ratio 1.0 < 5 % | — | ${(loss('off', 'on') * 100).toFixed(1)} % (vs metrics only: ${(loss('metrics', 'on') * 100).toFixed(1)} %) | ${met(loss('off', 'on') < 0.05)} |`,
    '',
    '**Telemetry on**: every service\'s `metrics.address` set (a /metrics endpoint per service, scraped every',
    `${SCRAPE_INTERVAL_MS / 1000} s by the benchmark, ${results.scrapes} scrapes in all) and tracing with \`OTEL_TRACES_SAMPLER=always_on\`, exported by the`,
    'shared setup\'s BatchSpanProcessor over OTLP/HTTP (protobuf) to a local sink in the benchmark process that reads',
    `every request and counts its spans (${results.exported.spans.toLocaleString('en')} spans in ${results.exported.requests} requests, ${mb(results.exported.bytes)} MB, by the end of the throughput part).`,
    '**Telemetry off**: `metrics.address` empty and no OTLP endpoint (no tracing SDK at all). **Metrics only**',
    '(throughput only): metrics on, tracing off, to separate the two.',
    '',
    '## Setup',
    '',
    'Three deployments (off, metrics only, on) run side by side and are measured in turn. Each is two processes:',
    'the test stack (`startStack`: PostgreSQL, inference, auth and chat; its in-process gateway stays idle) and the',
    'gateway alone in its own process (`stream-gateway.ts`, the test stack\'s gateway settings), so the gateway\'s RSS is',
    'its own. The client (Node `fetch`, one HTTP/1.1 connection per stream) runs in the benchmark process. All of',
    'it goes over real sockets: HTTP/SSE client → gateway, gRPC gateway → chat → inference. Logs are off (`silent`).',
    '',
    'Inference runs a scripted engine (`scripted-engine.ts`) behind the real inference gRPC service: the built-in',
    'tiny model is loaded but never runs; each token is produced by a timer, so the model is never the bottleneck.',
    '',
    '## Added latency per token',
    '',
    `Each stream asks for ${LATENCY_TOKENS} tokens at one per ${LATENCY_INTERVAL_MS} ms (${1000 / LATENCY_INTERVAL_MS} tokens/s, a fast model), streams starting at random`,
    'points of that interval. **What is measured**: each token\'s text is its emit time, `process.hrtime` in µs,',
    'taken by the engine as it hands the delta to the inference gRPC handler (which stamps `emitted_at` and writes',
    'it in the same turn). The client takes `process.hrtime` again when its SSE parser yields the `content` event',
    'holding the token; added latency = arrival − emit, for every token. `process.hrtime` is CLOCK_MONOTONIC, one',
    'clock for all processes on the machine, so no cross-process skew enters. The span covers inference\'s gRPC',
    'write, the inference → chat stream, chat\'s run manager, delta batcher and run log, the chat → gateway stream,',
    'the gateway\'s SSE framing and socket write, and the client\'s parse: chat + gateway, plus the gRPC hop out of',
    'inference and the client.',
    '',
    `Chat merges deltas for up to \`runs.deltaWindowMs\` = ${DELTA_WINDOW_MS} ms (config/chat.yaml; the run log\'s append budget, see`,
    '[run-log.md](run-log.md)) before a token goes on. At one token per 20 ms each token opens its own window',
    `(tokens per SSE event below ≈ 1), so it waits the whole ${DELTA_WINDOW_MS} ms plus the timer\'s lateness: that wait is part of`,
    'every figure here. The last column subtracts it, as an estimate of what the rest of the path costs.',
    '',
    '| telemetry | streams | tokens | p50 | p99 | p99.9 | max | tokens per SSE event | delivered tokens/s | failed streams | p50 / p99 without the window |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...latencyRows.map(
      (r) =>
        `| ${r.mode} | ${r.concurrency} | ${r.samples.toLocaleString('en')} | ${ms(r.p50)} ms | ${ms(r.p99)} ms | ${ms(r.p999)} ms | ${ms(r.max)} ms | ${r.tokensPerEvent.toFixed(2)} | ${r.rate.toFixed(0)} | ${r.failed} | ${ms(r.p50 - DELTA_WINDOW_MS * 1000)} / ${ms(r.p99 - DELTA_WINDOW_MS * 1000)} ms |`,
    ),
    '',
    `The engine is asked for streams × ${1000 / LATENCY_INTERVAL_MS} tokens/s; where the delivered rate falls short of that, the machine cannot keep up`,
    'and the latency above is mostly queueing behind that backlog, not a per-token cost.',
    '',
    '## Idle SSE streams per 100 MB of gateway RSS',
    '',
    'Each stream is a real message (one session, `POST /api/sessions/:id/messages`, two per user) whose engine waits',
    '10 minutes before its first token: the gateway holds the client socket, the SSE reply with its heartbeat timer',
    'and the gRPC stream to chat, having relayed only the `run` event. The gateway process\'s RSS',
    '(`process.memoryUsage().rss` after two full GCs) is read before the first stream (after a GC and 3 s to settle)',
    'and 2 s after each step;',
    'chat\'s and inference\'s memory for the same runs is in the other process and not counted.',
    '',
    '| telemetry | open streams | gateway RSS growth | heap growth | streams per 100 MB | baseline RSS |',
    '|---|---|---|---|---|---|',
    ...idleRows.map(
      (r) => `| ${r.mode} | ${r.streams.toLocaleString('en')} | ${mb(r.rssDelta)} MB | ${mb(r.heapDelta)} MB | ${perHundred(r).toFixed(0)} | ${mb(r.baseline.rss)} MB |`,
    ),
    '',
    results.idleFailed > 0 ? `${results.idleFailed} idle streams failed to open.` : 'Every idle stream opened.',
    '',
    '## Throughput with tracing at ratio 1.0',
    '',
    `${THROUGHPUT_STREAMS} streams at once, ${THROUGHPUT_TOKENS.toLocaleString('en')} tokens each, the engine emitting as fast as its event loop turns (one token per turn`,
    'per stream): tokens delivered to the client per second, from the first request to the last `done`.',
    `${THROUGHPUT_ROUNDS} rounds, each running the three deployments in a different order; the median counts.`,
    '',
    '| telemetry | tokens/s per round | median | vs off |',
    '|---|---|---|---|',
    ...[...throughput.entries()].map(
      ([mode, values]) => `| ${mode} | ${values.map((v) => v.toFixed(0)).join(', ')} | ${tput(mode).toFixed(0)} | ${mode === 'off' ? '—' : `${(-loss('off', mode) * 100).toFixed(1)} %`} |`,
    ),
    '',
    `Spread of the rounds within one mode (max − min over the median): ${[...throughput.entries()].map(([mode, values]) => `${mode} ${(((Math.max(...values) - Math.min(...values)) / tput(mode)) * 100).toFixed(0)} %`).join(', ')}.`,
    'Where that spread is far above 5 %, this run cannot resolve a 5 % effect either way: the figure is reported, not proven.',
    '',
    results.throughputFailed > 0 ? `${results.throughputFailed} throughput streams did not end with \`done\`.` : 'Every throughput stream ended with `done`.',
    '',
  ];
  writeFileSync(QUICK ? path.join(os.tmpdir(), 'stream.md') : path.join(repoRoot, 'docs/benchmarks/stream.md'), lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
