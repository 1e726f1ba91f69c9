// What every Kubernetes test uses: the suite's control plane (test/infra/global-setup.ts starts one
// per `vitest run`) through the cached kubectl and helm, a namespace of its own, the FreeChat CRD.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/infra/paths.js';
import { k8sCluster } from '../infra/endpoints.js';

export const CRD_FILE = path.join(REPO_ROOT, 'k8s/crd/freechat.dev_freechats.yaml');
export const CRD_NAME = 'freechats.freechat.dev';

export interface RunOptions {
  /** Written to stdin (`-f -`). */
  readonly input?: string;
}

/** kubectl with the suite's kubeconfig; its stdout. Fails with an Error naming kubectl's stderr. */
export function kubectl(args: readonly string[], options: RunOptions = {}): Promise<string> {
  return run(k8sCluster().kubectl, args, options);
}

/** `kubectl … -o json`, parsed. */
export async function kubectlJson<T = Record<string, unknown>>(args: readonly string[], options: RunOptions = {}): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'], options)) as T;
}

/** helm 3 with the suite's kubeconfig; its stdout. */
export function helm(args: readonly string[], options: RunOptions = {}): Promise<string> {
  return run(k8sCluster().helm, args, options);
}

export interface TestNamespace {
  readonly name: string;
  /** Deletes it without waiting for its contents to go (the control plane outlives the test file). */
  cleanup(): Promise<void>;
}

/** A namespace of the test's own, `t-<random>`. */
export async function withNamespace(): Promise<TestNamespace> {
  const name = `t-${randomBytes(4).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  return {
    name,
    cleanup: async () => {
      await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
    },
  };
}

/**
 * Installs the FreeChat CRD (k8s/crd/, generated from operator/src/api/freechat.ts) and waits until
 * it is Established. Idempotent: server-side apply with one field manager, so test files may call
 * it side by side.
 */
export async function applyCrd(): Promise<void> {
  await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=freechat-tests', '-f', CRD_FILE]);
  await kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=60s']);
}

const TIMEOUT_MS = 120_000;

function run(command: string, args: readonly string[], { input }: RunOptions): Promise<string> {
  const name = path.basename(command).replace(/-[\d.]+$/, '');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, KUBECONFIG: k8sCluster().kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: TIMEOUT_MS,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) return resolve(out);
      const err = Buffer.concat(stderr).toString('utf8').trim();
      reject(new Error(`${name} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${err || out.trim()}`));
    });
    child.stdin.end(input ?? '');
  });
}
