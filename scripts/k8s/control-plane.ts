// A local Kubernetes control plane on loopback for tests and `make k8s-up`: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and KWOK with N fake nodes (no kubelet: KWOK marks their
// pods Running/Ready). Binaries come from the scripts next to this file (built once, cached by
// version); every port is chosen free; an admin token and the service-account signing key are
// generated into the data directory. Stop order is KWOK, controller-manager, scheduler, apiserver,
// etcd: an apiserver whose etcd is gone ignores SIGTERM for minutes.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from '../infra/managed-process.js';
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  fakeNode,
  fakeStorage,
  fakeNodeNames,
  FAKE_NODE_LABEL,
  kubeconfig as kubeconfigText,
  kwokArgs,
  nodesReady,
  schedulerArgs,
  tokensCsv,
  type ControlPlaneFiles,
  type ControlPlanePorts,
  type FakeNodeResources,
} from './config.js';

export const K8S_SCRIPTS = path.dirname(fileURLToPath(import.meta.url));

export interface K8sBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly kwok: string;
  readonly kwokStages: string;
  readonly helm: string;
}

const script = (name: string): string[] =>
  execFileSync(path.join(K8S_SCRIPTS, name), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n');

/**
 * Builds what is not cached yet (provision.sh: two builds side by side; waits for builds already
 * running) and returns the paths. Warm: well under a second. Cold: most of an hour.
 */
export function ensureK8sBinaries(): K8sBinaries {
  execFileSync(path.join(K8S_SCRIPTS, 'provision.sh'), { stdio: ['ignore', 'ignore', 'inherit'] });
  const [etcd] = script('ensure-etcd.sh');
  const [kubeApiserver, kubeControllerManager, kubeScheduler, kubectl] = script('ensure-kubernetes.sh');
  const [kwok, kwokStages] = script('ensure-kwok.sh');
  const [helm] = script('ensure-helm.sh');
  const binaries = { etcd, kubeApiserver, kubeControllerManager, kubeScheduler, kubectl, kwok, kwokStages, helm };
  for (const [name, value] of Object.entries(binaries)) if (!value) throw new Error(`scripts/k8s: no path for ${name}`);
  return binaries as K8sBinaries;
}

/**
 * A fresh admin token (the tokens file the API server reads) and the service-account signing key
 * pair, written into the control plane's files; returns the token.
 */
export function writeCredentials(files: Pick<ControlPlaneFiles, 'serviceAccountKey' | 'serviceAccountPub' | 'tokensCsv'>): string {
  const token = randomBytes(24).toString('base64url');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(files.serviceAccountKey, privateKey, { mode: 0o600 });
  writeFileSync(files.serviceAccountPub, publicKey);
  writeFileSync(files.tokensCsv, tokensCsv(token), { mode: 0o600 });
  return token;
}

export interface StartControlPlaneOptions {
  /** Data, logs, keys and the kubeconfig; what an earlier run left in it is replaced. */
  readonly dataDir: string;
  /** How many fake (KWOK) nodes to create and wait for; default 1. */
  readonly nodes?: number;
  readonly nodeResources?: FakeNodeResources;
  /** PersistentVolumes created for claims to bind to (KWOK has no provisioner); default 64. */
  readonly volumes?: number;
  /** Outlive this process (`make k8s-up`); otherwise the processes die with it. */
  readonly keepAlive?: boolean;
  /** Time allowed from the first process started to nodes Ready; default 120 s. */
  readonly timeoutMs?: number;
}

export interface ControlPlane {
  /** Path of the admin kubeconfig (token auth, the self-signed serving certificate not verified). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:PORT` of the API server. */
  readonly server: string;
  /** The admin's bearer token (system:masters), also in the kubeconfig. */
  readonly token: string;
  /** kubectl of the API server's version and helm 3, both cached binaries. */
  readonly kubectl: string;
  readonly helm: string;
  /** Names of the fake nodes (label type=kwok). */
  readonly nodes: readonly string[];
  /** In stop order: kwok, kube-controller-manager, kube-scheduler, kube-apiserver, etcd. */
  readonly processes: readonly ManagedProcess[];
  /** From the first process started to every node Ready, in ms. */
  readonly readyMs: number;
  /** Stops everything in the order above (SIGTERM, SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/** Grace before SIGKILL per process, in stop order. */
const STOP_GRACE_MS: Record<string, number> = {
  kwok: 5_000,
  'kube-controller-manager': 5_000,
  'kube-scheduler': 5_000,
  'kube-apiserver': 15_000,
  etcd: 10_000,
};
const STOP_ORDER = Object.keys(STOP_GRACE_MS);

export async function stopInOrder(processes: readonly ManagedProcess[]): Promise<void> {
  const ordered = [...processes].sort((a, b) => STOP_ORDER.indexOf(a.name) - STOP_ORDER.indexOf(b.name));
  for (const proc of ordered) await proc.stop(STOP_GRACE_MS[proc.name] ?? 10_000).catch(() => {});
}

export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlane> {
  const binaries = ensureK8sBinaries();
  const dataDir = path.resolve(options.dataDir);
  const files: ControlPlaneFiles = {
    dataDir,
    etcdDataDir: path.join(dataDir, 'etcd'),
    certDir: path.join(dataDir, 'certs'),
    tokensCsv: path.join(dataDir, 'tokens.csv'),
    serviceAccountKey: path.join(dataDir, 'sa.key'),
    serviceAccountPub: path.join(dataDir, 'sa.pub'),
    kubeconfig: path.join(dataDir, 'kubeconfig'),
    kwokStages: binaries.kwokStages,
  };
  // A fresh cluster every time: nothing from an earlier run's etcd.
  for (const dir of [files.etcdDataDir, files.certDir]) rmSync(dir, { recursive: true, force: true });
  mkdirSync(files.certDir, { recursive: true, mode: 0o700 });
  const token = writeCredentials(files);

  // Sequential: parallel probes could be handed the same port.
  const ports: ControlPlanePorts = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
    kwok: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  writeFileSync(files.kubeconfig, kubeconfigText(server, token), { mode: 0o600 });

  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 120_000);
  const remaining = (): number => Math.max(1_000, deadline - Date.now());
  const processes: ManagedProcess[] = [];
  const start = (name: string, command: string, args: string[]): ManagedProcess => {
    const proc = startProcess({
      name,
      command,
      args,
      cwd: dataDir,
      logFile: path.join(dataDir, `${name}.log`),
      ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }),
    });
    processes.push(proc);
    return proc;
  };
  const api = (method: string, urlPath: string, body?: unknown): Promise<HttpResult> =>
    httpsJson(server, method, urlPath, token, body);

  try {
    const etcd = start('etcd', binaries.etcd, etcdArgs(ports, files));
    await waitFor(`etcd on port ${ports.etcdClient}`, () => etcdHealthy(ports.etcdClient), { timeoutMs: remaining(), process: etcd });

    const apiserver = start('kube-apiserver', binaries.kubeApiserver, apiserverArgs(ports, files));
    await waitFor(`kube-apiserver at ${server}`, async () => (await api('GET', '/readyz')).status === 200, {
      timeoutMs: remaining(),
      intervalMs: 250,
      process: apiserver,
    });

    const controllerManager = start('kube-controller-manager', binaries.kubeControllerManager, controllerManagerArgs(ports, files));
    const scheduler = start('kube-scheduler', binaries.kubeScheduler, schedulerArgs(ports, files));
    const kwok = start('kwok', binaries.kwok, kwokArgs(ports, files));
    const healthz = (port: number) => async () => (await httpsJson(`https://127.0.0.1:${port}`, 'GET', '/healthz')).status === 200;
    await Promise.all([
      waitFor('kube-controller-manager', healthz(ports.controllerManager), { timeoutMs: remaining(), process: controllerManager }),
      waitFor('kube-scheduler', healthz(ports.scheduler), { timeoutMs: remaining(), process: scheduler }),
    ]);

    const nodes = fakeNodeNames(options.nodes ?? 1);
    for (const name of nodes) {
      const created = await api('POST', '/api/v1/nodes', fakeNode(name, options.nodeResources));
      if (created.status !== 201) throw new Error(`creating node ${name}: HTTP ${created.status} ${created.text.slice(0, 300)}`);
    }
    // KWOK runs no volume plugin: a default StorageClass and a pool of PersistentVolumes stand in
    // for a provisioner, so StatefulSets' claims bind (the PV controller matches them).
    for (const [path, object] of fakeStorage(options.volumes ?? 64)) {
      const created = await api('POST', path, object);
      if (created.status !== 201) throw new Error(`creating ${path}: HTTP ${created.status} ${created.text.slice(0, 300)}`);
    }
    const selector = encodeURIComponent(`${FAKE_NODE_LABEL.key}=${FAKE_NODE_LABEL.value}`);
    await waitFor(
      `${nodes.length} KWOK node(s) Ready and untainted`,
      async () => {
        const list = await api('GET', `/api/v1/nodes?labelSelector=${selector}`);
        return list.status === 200 && nodesReady((list.json as { items: [] }).items, nodes);
      },
      { timeoutMs: remaining(), intervalMs: 250, process: kwok },
    );
    // Ready only counts while everything still runs (a component that died after its check).
    for (const proc of processes) {
      const code = await Promise.race([proc.exited, Promise.resolve('running' as const)]);
      if (code !== 'running') throw new Error(`${proc.name} exited (code ${code}); see ${proc.logFile}`);
    }

    const ordered = [kwok, controllerManager, scheduler, apiserver, etcd];
    return {
      kubeconfig: files.kubeconfig,
      server,
      token,
      kubectl: binaries.kubectl,
      helm: binaries.helm,
      nodes,
      processes: ordered,
      readyMs: Date.now() - started,
      stop: () => stopInOrder(ordered),
    };
  } catch (error) {
    await stopInOrder(processes);
    throw error;
  }
}

async function etcdHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
  if (!response.ok) return false;
  return ((await response.json()) as { health?: string }).health === 'true';
}

export interface HttpResult {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
}

/**
 * One HTTPS request to a component on loopback (their serving certificates are self-signed, so
 * not verified), with the admin token when given.
 */
export function httpsJson(base: string, method: string, urlPath: string, token?: string, body?: unknown): Promise<HttpResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(urlPath, base),
      {
        method,
        rejectUnauthorized: false,
        timeout: 5_000,
        headers: {
          Accept: 'application/json',
          ...(token && { Authorization: `Bearer ${token}` }),
          ...(payload !== undefined && { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
