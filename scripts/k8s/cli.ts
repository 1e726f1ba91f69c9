// `make k8s-up` / `make k8s-down`: the local Kubernetes control plane (etcd, kube-apiserver,
// controller-manager, scheduler, KWOK with fake nodes) for a person, in .data/k8s/, outliving the
// command. `up` is idempotent: a control plane already running is reported, not started again.
// Prints `export KUBECONFIG=…` and the kubectl and helm it uses; .data/k8s/bin holds links to both
// and .data/k8s/k8s.env the same as sourceable shell.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, stopByPid } from '../infra/managed-process.js';
import { REPO_ROOT } from '../infra/paths.js';
import { startControlPlane } from './control-plane.js';

const dataDir = path.join(process.env['FREECHAT_DATA_DIR'] || path.join(REPO_ROOT, '.data'));
const k8sDir = path.join(dataDir, 'k8s');
const stateFile = path.join(k8sDir, 'state.json');
const envFile = path.join(k8sDir, 'k8s.env');
const binDir = path.join(k8sDir, 'bin');
const nodeCount = Number(process.env['FREECHAT_K8S_NODES'] || 3);

interface State {
  /** In stop order (KWOK first, etcd last). */
  readonly processes: { readonly name: string; readonly pid: number }[];
  readonly server: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly helm: string;
  readonly nodes: readonly string[];
}

const log = (message: string): void => void process.stderr.write(`[k8s] ${message}\n`);

function readState(): State | undefined {
  if (!existsSync(stateFile)) return undefined;
  return JSON.parse(readFileSync(stateFile, 'utf8')) as State;
}

function print(state: State): void {
  process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
  log(`API server ${state.server}, ${state.nodes.length} KWOK node(s): ${state.nodes.join(', ')}`);
  log(`kubectl: ${state.kubectl}`);
  log(`helm:    ${state.helm}`);
  log(`both are linked in ${binDir} (export PATH=${binDir}:$PATH); the same as shell in ${envFile}`);
  log('`make k8s-down` stops it');
}

async function down(): Promise<void> {
  const state = readState();
  if (!state) {
    log('nothing to stop');
    return;
  }
  const started = Date.now();
  for (const { name, pid } of state.processes) {
    const t = Date.now();
    await stopByPid(pid, name === 'kube-apiserver' ? 15_000 : 10_000);
    log(`stopped ${name} (pid ${pid}) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  rmSync(stateFile, { force: true });
  rmSync(envFile, { force: true });
  log(`stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function up(): Promise<void> {
  const existing = readState();
  if (existing && existing.processes.every((p) => isAlive(p.pid))) {
    log('already up');
    print(existing);
    return;
  }
  if (existing) {
    log('part of the control plane died; restarting all of it');
    await down();
  }
  rmSync(k8sDir, { recursive: true, force: true });
  mkdirSync(k8sDir, { recursive: true });
  try {
    const plane = await startControlPlane({ dataDir: k8sDir, nodes: nodeCount, keepAlive: true });
    const state: State = {
      processes: plane.processes.map((p) => ({ name: p.name, pid: p.pid })),
      server: plane.server,
      kubeconfig: plane.kubeconfig,
      kubectl: plane.kubectl,
      helm: plane.helm,
      nodes: plane.nodes,
    };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    mkdirSync(binDir, { recursive: true });
    symlinkSync(plane.kubectl, path.join(binDir, 'kubectl'));
    symlinkSync(plane.helm, path.join(binDir, 'helm'));
    writeFileSync(
      envFile,
      `# Written by \`make k8s-up\`; source it (set -a; . ${path.relative(REPO_ROOT, envFile)}).\n` +
        `KUBECONFIG=${plane.kubeconfig}\nKUBECTL=${plane.kubectl}\nHELM=${plane.helm}\n`,
    );
    log(`control plane up, ${plane.nodes.length} node(s) Ready, in ${(plane.readyMs / 1000).toFixed(1)} s (data and logs in ${k8sDir})`);
    print(state);
  } catch (error) {
    // startControlPlane has stopped whatever it started.
    log(`could not start: ${error instanceof Error ? error.message : String(error)}`);
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
