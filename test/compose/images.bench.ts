// What the service images cost (issue 10): size of each image and of what it adds to the Node.js
// base, the build time of all four and the operator's with a warm layer cache and after a source
// change, and the start time of each service in the compose stack (container start → health SERVING /
// gateway listening, from the container's own start time and the service's log, median of several
// restarts; the operator needs a Kubernetes API, so its start is not measured here).
// Writes docs/benchmarks/images.md.   npm run bench:images [-- --restarts N]
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildImage, type BuiltImage } from './image.js';
import { ensureEngine, prepareComposeStack, run, stopEngine, type ComposeStack } from './stack.js';

const SERVICES = ['gateway', 'auth', 'chat', 'inference'] as const;
type Service = (typeof SERVICES)[number];
/** The compose services' images, and the operator's (built on its own: compose does not run it). */
const IMAGES = [...SERVICES, 'operator'] as const;
type Image = (typeof IMAGES)[number];
const restartsArg = process.argv.indexOf('--restarts');
const RESTARTS = restartsArg > 0 ? Number(process.argv[restartsArg + 1]) : 5;
/** `--cold`: empty BuildKit's cache first (every image of this engine is rebuilt from nothing after). */
const COLD = process.argv.includes('--cold');
const root = path.resolve(import.meta.dirname, '../..');

const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function inspect(reference: string): Promise<any> {
  return (JSON.parse((await run('docker', ['inspect', reference])).output) as unknown[])[0];
}

/** Milliseconds from the container's start to the service's first "ready" log line after it. */
async function startMs(stack: ComposeStack, service: Service): Promise<number> {
  const container = (await stack.compose('ps', '--quiet', service)).trim();
  const startedAt = Date.parse((await inspect(container)).State.StartedAt);
  const ready = service === 'gateway' ? 'gateway listening' : '"health":"SERVING"';
  for (let attempt = 0; attempt < 600; attempt++) {
    const logs = (await run('docker', ['logs', container])).output.split('\n');
    for (const line of logs) {
      if (!line.includes(ready)) continue;
      const time = Date.parse((JSON.parse(line) as { time: string }).time);
      if (time >= startedAt) return time - startedAt;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${service} did not become ready`);
}

const engine = await ensureEngine();
if (!engine.available) {
  console.error(`bench:images needs a Docker engine: ${engine.reason}`);
  process.exit(2);
}
const tag = `bench-${process.pid}`;
const stack = await prepareComposeStack({ logLevel: 'info', tag });
let operator: BuiltImage | undefined;
/** Builds every image, the four of compose then the operator's (reusing the compile stage); ms of building. */
const buildAll = async (): Promise<number> => {
  const began = Date.now();
  await stack.compose('build');
  const composeMs = Date.now() - began;
  // Its base images and npm secrets are made before it starts, not counted.
  operator = await buildImage('operator', { tag });
  return composeMs + operator.buildMs;
};
try {
  let coldBuildS: number | undefined;
  if (COLD) {
    await run('docker', ['builder', 'prune', '--all', '--force']);
    coldBuildS = (await buildAll()) / 1000;
  }
  const warmBuildS = (await buildAll()) / 1000;
  // A one-line source change: every service's compile stage and image layers again, dependencies cached.
  const touched = path.join(root, 'services/shared/src/healthcheck.ts');
  const original = readFileSync(touched, 'utf8');
  writeFileSync(touched, `${original}// bench:images ${Date.now()}\n`);
  let changedBuildS: number;
  try {
    changedBuildS = (await buildAll()) / 1000;
  } finally {
    writeFileSync(touched, original);
  }

  const base = await inspect('node:20-bookworm-slim');
  const references: Record<Image, string> = { ...stack.images, operator: operator!.image };
  const sizes = {} as Record<Image, { total: number; nodeModules: number }>;
  for (const name of IMAGES) {
    const image = await inspect(references[name]);
    const du = await run('docker', ['run', '--rm', '--network', 'none', references[name], 'du', '-sb', 'node_modules']);
    // `du -sb` prints "<bytes>\tnode_modules".
    sizes[name] = { total: image.Size, nodeModules: Number(/^(\d+)\s+node_modules$/m.exec(du.output)?.[1]) };
  }

  await stack.compose('up', '--detach', '--wait', '--wait-timeout', '600');
  const starts = {} as Record<Service, number[]>;
  for (const service of SERVICES) {
    starts[service] = [];
    for (let i = 0; i < RESTARTS; i++) {
      await stack.compose('restart', service);
      starts[service].push(await startMs(stack, service));
    }
  }

  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rows = IMAGES.map((s) => {
    const start = s === 'operator' ? ['—', '—'] : [seconds(median(starts[s])), seconds(Math.max(...starts[s]))];
    return `| ${s} | ${mb(sizes[s].total)} MB | ${mb(sizes[s].total - base.Size)} MB | ${mb(sizes[s].nodeModules)} MB | ${start.join(' | ')} |`;
  });
  const page = `# Service images

Measured by \`npm run bench:images\` (test/compose/images.bench.ts) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Docker ${(await run('docker', ['version', '--format', '{{.Server.Version}}'])).output.trim()}.
Images from \`services/Dockerfile\`, one target per service and one for the Kubernetes operator, on \`node:20-bookworm-slim\` (${mb(base.Size)} MB here: on
these machines a local stand-in of the same name, Debian bookworm minbase + Node.js 20, made by
scripts/containers/base-images.sh; the official image is about the same size).

| image | size | over the Node.js base | node_modules | start → ready (median of ${RESTARTS}) | slowest |
|---|---|---|---|---|---|
${rows.join('\n')}

"Start → ready": from the container's start to the service's health status SERVING (the gRPC
services, after connecting to PostgreSQL, Redis, RocketMQ and Consul as they need; inference after
loading the built-in model) or to the gateway listening, read from the service's own log. The
operator is not part of the compose stack (it needs a Kubernetes API): test/compose/operator-image.e2e.test.ts
runs its image against a local control plane.

Builds of all five images (BuildKit, 2 cores): ${coldBuildS === undefined ? 'cold not measured in this run (`--cold`)' : `${coldBuildS.toFixed(0)} s from an empty build cache (npm packages fetched through the registry mirror)`},
${warmBuildS.toFixed(0)} s with every layer cached, ${changedBuildS.toFixed(0)} s after a one-line change in services/shared (the
compile stage and each image's application layers again; dependency layers stay cached).

## What keeps them small
- Each image holds only its own service's production dependencies (\`npm ci --omit=dev
  --workspace=<service>\`): no TypeScript, vitest, buf, Vite, embedded PostgreSQL or other services'
  packages; type declarations, source maps, TypeScript sources and docs are removed.
- One OpenTelemetry version line across the workspace: nested duplicate copies cost 150 MB before.
- The inference image keeps ONNX Runtime for its own platform only (the package ships macOS,
  Windows and both Linux builds: 290 MB), and neither onnxruntime-web (transformers.js bundles what
  it needs) nor the tokenizer library's bundles (the built-in model reads only its tokenizer files).
- The operator's image holds the Kubernetes client (most of its node_modules) and the shared
  service library's dependencies, nothing of the services it deploys.
- The gateway carries the built web UI (${'`web-ui/dist`'}, under 1 MB) and serves it itself.
`;
  writeFileSync(path.join(root, 'docs/benchmarks/images.md'), page);
  process.stdout.write(page);
} finally {
  await operator?.remove();
  await stack.destroy();
  if (engine.startedHere) await stopEngine();
}
