// A real single-node Kubernetes on this machine: the control plane of control-plane.ts bound on a
// bridge of ours, containerd (its own state dir and socket), a real kubelet, kube-proxy (nftables)
// and CoreDNS; images are imported, never pulled. The recipe and its traps:
// ../shared/recipes/kubernetes-node.md. Configuration is pure (node-config.ts); machine effects and
// their undo are in node-host.ts. Every effect is recorded in <stateDir>/node-state.json before it
// happens, so teardownNode() undoes exactly what was done, also after a failed start or a crash
// (the next startNode finds the stale marker and tears it down first). One node per machine:
// kube-proxy's nft tables have fixed names. Processes are stopped by the pids recorded, never by name.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@freechat/shared';
import { isAlive, startProcess, stopByPid, waitFor, type ManagedProcess } from '../infra/managed-process.js';
import { etcdArgs, fakeStorage, kubeconfig as kubeconfigText, nodesReady, schedulerArgs } from './config.js';
import { ensureK8sBinaries, httpsJson, K8S_SCRIPTS, writeCredentials, type K8sBinaries } from './control-plane.js';
import {
  BRIDGE_NAME,
  CGROUP_NAME,
  cniConflist,
  containerdArgs,
  containerdConfig,
  coreDnsManifests,
  deploymentReady,
  GLOBAL_PATHS,
  KUBELET_SYSCTLS,
  kubeletArgs,
  kubeletConfiguration,
  kubeProxyArgs,
  kubeProxyConfiguration,
  NODE_NAME,
  nodeApiserverArgs,
  nodeControllerManagerArgs,
  nodeFiles,
  pickNetwork,
  type NodeFiles,
  type NodeNetwork,
  type NodePorts,
} from './node-config.js';
import {
  addressesInUse,
  createBridge,
  createCgroups,
  deleteBridge,
  deleteNftTable,
  killCgroupProcesses,
  linkExists,
  nftTables,
  readSysctl,
  removeCgroups,
  removeKubeletChains,
  rssKb,
  shimPids,
  tryRun,
  unmountUnder,
  writeSysctl,
} from './node-host.js';

/** Machine-wide marker: the state dir of the node that runs (or ran and was not torn down). */
export const NODE_MARKER = '/run/freechat-k8s-node.json';
const STATE_FILE = 'node-state.json';

export interface NodeBinaries extends K8sBinaries {
  readonly kubelet: string;
  readonly kubeProxy: string;
  readonly pauseImage: string;
  readonly corednsImage: string;
}

/** provision-node.sh (apt packages when missing, Go builds cached by version) plus the control plane's. */
export function ensureNodeBinaries(): NodeBinaries {
  const base = ensureK8sBinaries();
  const lines = execFileSync(path.join(K8S_SCRIPTS, 'provision-node.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n');
  const [kubelet = '', kubeProxy = '', pauseImage = '', corednsImage = ''] = lines;
  if (!corednsImage) throw new Error(`provision-node.sh printed ${lines.length} paths, expected 4`);
  return { ...base, kubelet, kubeProxy, pauseImage, corednsImage };
}

/** Everything teardownNode needs, written before each effect. */
export interface NodeState {
  readonly stateDir: string;
  network?: NodeNetwork;
  bridgeCreated?: boolean;
  cgroupsCreated?: boolean;
  /** The kubelet's sysctls as they were before it started. */
  sysctls?: Record<string, string>;
  nftTablesBefore?: string[];
  /** Machine-wide paths that did not exist before (removed at teardown). */
  absentPaths?: string[];
  /** name → pid, in start order. */
  pids: Record<string, number>;
  kubectl?: string;
  kubeconfig?: string;
  server?: string;
}

export interface StartNodeOptions {
  /** State, logs, keys, containerd and kubelet dirs; what an earlier run left in it is replaced. */
  readonly stateDir: string;
  /** Outlive this process (`make k8s-node-up`). */
  readonly keepAlive?: boolean;
  /** From the first process started to CoreDNS ready; default 180 s. */
  readonly timeoutMs?: number;
  readonly log?: (message: string) => void;
  /** hostPath PersistentVolumes (default StorageClass `standard`) for claims to bind to; default 16. */
  readonly volumes?: number;
}

export interface NodeTimings {
  readonly controlPlaneMs: number;
  readonly nodeReadyMs: number;
  readonly dnsReadyMs: number;
}

export interface K8sNode {
  readonly kubeconfig: string;
  /** `https://<bridge address>:PORT` */
  readonly server: string;
  readonly token: string;
  readonly kubectl: string;
  readonly helm: string;
  readonly nodeName: string;
  readonly network: NodeNetwork;
  readonly stateDir: string;
  readonly processes: readonly ManagedProcess[];
  /** From the first process started: node Ready, CoreDNS ready. */
  readonly timings: NodeTimings;
  /** Runs kubectl against the node (throws with stderr on failure). */
  kubectlRun(args: readonly string[], input?: string): string;
  /** `ctr -n k8s.io images import` of `docker save`-format or OCI archives. */
  importImage(tarball: string): void;
  importImages(tarballs: readonly string[]): void;
  /** Resident memory (kB) of every node process including the containerd shims. */
  memoryKb(): number;
  /** teardownNode: everything undone, in the recipe's order; returns what could not be undone. */
  stop(): Promise<string[]>;
}

const readState = (stateDir: string): NodeState | undefined => {
  const file = path.join(stateDir, STATE_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as NodeState) : undefined;
};
const saveState = (state: NodeState): void => writeFileSync(path.join(state.stateDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);

/** The state of the node the marker names, if any. */
export function markedNode(): NodeState | undefined {
  if (!existsSync(NODE_MARKER)) return undefined;
  const { stateDir } = JSON.parse(readFileSync(NODE_MARKER, 'utf8')) as { stateDir: string };
  return readState(stateDir) ?? { stateDir, pids: {} };
}

export const nodeRunning = (state: NodeState): boolean => Object.values(state.pids).some((pid) => isAlive(pid));

/**
 * Claims the machine (O_EXCL marker): refuses while another node's processes live; a stale one
 * (its processes gone: a crashed run) is torn down first.
 */
async function claimMachine(stateDir: string, log: (m: string) => void): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(NODE_MARKER, `${JSON.stringify({ stateDir, pid: process.pid })}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const other = markedNode();
    if (other && nodeRunning(other)) {
      throw new Error(`a Kubernetes node already runs on this machine (state in ${other.stateDir}); \`make k8s-node-down\` stops the one \`make k8s-node-up\` started`);
    }
    // A marker just written by a run that has not saved its state yet: give it a moment.
    if (other && !existsSync(path.join(other.stateDir, STATE_FILE))) await sleep(2_000);
    const again = markedNode();
    if (again && !nodeRunning(again)) {
      log(`tearing down a stale node left in ${again.stateDir}`);
      const problems = await teardownNode(again, log);
      if (problems.length) throw new Error(`could not clean up the stale node: ${problems.join('; ')}`);
    }
  }
  throw new Error(`could not claim ${NODE_MARKER}`);
}

const STOP_ORDER = ['kube-proxy', 'kubelet', 'containerd', 'kube-controller-manager', 'kube-scheduler', 'kube-apiserver', 'etcd'];
const GRACE_MS: Record<string, number> = { 'kube-apiserver': 15_000, etcd: 10_000, containerd: 10_000, kubelet: 10_000 };

/**
 * Undoes a node in the recipe's order: workloads deleted while kubelet and containerd run; then
 * kube-proxy (its nft tables), kubelet, leftover containerd tasks, containerd and its shims, the
 * control plane (etcd last); mounts under the state dir, the bridge, the kubelet's iptables chains
 * and the nft tables left empty, cgroup folders, sysctls, machine-wide paths created. Every step
 * runs even when an earlier one failed; returns the failures (empty: the machine is as before).
 */
export async function teardownNode(state: NodeState, log: (m: string) => void = () => {}): Promise<string[]> {
  const problems: string[] = [];
  const step = async (what: string, action: () => unknown): Promise<void> => {
    try {
      await action();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  };
  const files = nodeFiles(state.stateDir);
  const alive = (name: string): boolean => state.pids[name] !== undefined && isAlive(state.pids[name]!);
  const kubectl = (args: string[], timeoutMs: number): void => {
    execFileSync(state.kubectl!, [`--kubeconfig=${state.kubeconfig}`, ...args], { stdio: 'ignore', timeout: timeoutMs });
  };

  if (state.kubectl && alive('kube-apiserver') && alive('kubelet') && alive('containerd')) {
    await step('deleting workloads', () => {
      // Controllers first (else they recreate pods), then pods: the kubelet stops their sandboxes
      // through CNI while it still can.
      kubectl(['delete', 'deployments,statefulsets,daemonsets,replicasets,jobs', '--all', '-A', '--wait=false'], 30_000);
      kubectl(['delete', 'pods', '--all', '-A', '--grace-period=1', '--timeout=40s'], 60_000);
    });
  }
  const stop = async (name: string): Promise<void> => {
    const pid = state.pids[name];
    if (pid !== undefined) await step(`stopping ${name}`, () => stopByPid(pid, GRACE_MS[name] ?? 5_000));
  };
  await stop('kube-proxy');
  await step('deleting kube-proxy nft tables', () => {
    for (const table of ['ip kube-proxy', 'ip6 kube-proxy']) if (!state.nftTablesBefore?.includes(table)) deleteNftTable(table);
  });
  await stop('kubelet');
  if (alive('containerd')) {
    await step('deleting containerd tasks', () => {
      const ctr = (...args: string[]): string | undefined => tryRun('ctr', ['--address', files.containerdSocket, '-n', 'k8s.io', ...args]);
      const tasks = (ctr('tasks', 'ls', '-q') ?? '').split('\n').filter(Boolean);
      for (const id of tasks) ctr('tasks', 'kill', '-s', 'SIGKILL', id);
      for (const id of tasks) ctr('tasks', 'delete', '-f', id);
      for (const id of (ctr('containers', 'ls', '-q') ?? '').split('\n').filter(Boolean)) ctr('containers', 'delete', id);
    });
  }
  await stop('containerd');
  await step('stopping containerd shims', async () => {
    for (const pid of shimPids(files.containerdSocket)) await stopByPid(pid, 3_000);
  });
  // After a crash the containers outlive their shims: whatever is left in our cgroups goes.
  if (state.cgroupsCreated) await step('killing processes left in our cgroups', () => killCgroupProcesses(CGROUP_NAME));
  for (const name of STOP_ORDER.slice(3)) await stop(name);
  await step('unmounting under the state dir', () => unmountUnder(state.stateDir));
  if (state.bridgeCreated && state.network) await step('deleting the bridge', () => deleteBridge(state.network!.bridge));
  if (state.nftTablesBefore) await step('removing the kubelet iptables chains', () => removeKubeletChains(state.nftTablesBefore!));
  if (state.cgroupsCreated) await step('removing cgroup folders', () => removeCgroups(CGROUP_NAME));
  for (const [name, value] of Object.entries(state.sysctls ?? {})) {
    await step(`restoring ${name}`, () => readSysctl(name) !== value && writeSysctl(name, value));
  }
  for (const absent of state.absentPaths ?? []) await step(`removing ${absent}`, () => rmSync(absent, { recursive: true, force: true }));
  if (!problems.length) {
    rmSync(NODE_MARKER, { force: true });
    // Keep logs for a look afterwards; the rest is big (images) and mounts are gone.
    for (const dir of ['containerd', 'kubelet', 'etcd', 'runc', 'cni', 'pod-logs']) rmSync(path.join(state.stateDir, dir), { recursive: true, force: true });
    rmSync(path.join(state.stateDir, STATE_FILE), { force: true });
  }
  return problems;
}

export async function startNode(options: StartNodeOptions): Promise<K8sNode> {
  const log = options.log ?? (() => {});
  const binaries = ensureNodeBinaries();
  const stateDir = path.resolve(options.stateDir);
  const files: NodeFiles = nodeFiles(stateDir, binaries.kwokStages);
  await claimMachine(stateDir, log);

  // Never rm -rf a tree with mounts in it (a crashed run's pods): unmount first.
  if (existsSync(stateDir)) unmountUnder(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(files.certDir, { recursive: true, mode: 0o700 });
  const state: NodeState = { stateDir, pids: {} };
  saveState(state);

  const processes: ManagedProcess[] = [];
  try {
    if (linkExists(BRIDGE_NAME)) throw new Error(`a link named ${BRIDGE_NAME} exists and is not ours`);
    const tablesBefore = nftTables();
    if (tablesBefore.some((t) => t.endsWith(' kube-proxy'))) throw new Error('nft tables named kube-proxy exist: another kube-proxy runs here');
    state.nftTablesBefore = tablesBefore;
    state.absentPaths = GLOBAL_PATHS.filter((p) => !existsSync(p));
    state.sysctls = Object.fromEntries(KUBELET_SYSCTLS.map((name) => [name, readSysctl(name)]));
    const network = pickNetwork(addressesInUse());
    state.network = network;
    state.bridgeCreated = true;
    saveState(state);
    createBridge(network);

    const token = writeCredentials(files);
    // Sequential: parallel probes could be handed the same port.
    const ports: NodePorts = {
      etcdClient: await freePort(),
      etcdPeer: await freePort(),
      apiserver: await freePort(),
      controllerManager: await freePort(),
      scheduler: await freePort(),
      kwok: 0,
      kubelet: await freePort(),
      kubeletHealthz: await freePort(),
      kubeProxyHealthz: await freePort(),
      kubeProxyMetrics: await freePort(),
    };
    const server = `https://${network.gateway}:${ports.apiserver}`;
    writeFileSync(files.kubeconfig, kubeconfigText(server, token), { mode: 0o600 });
    Object.assign(state, { kubectl: binaries.kubectl, kubeconfig: files.kubeconfig, server });

    const started = Date.now();
    const deadline = started + (options.timeoutMs ?? 180_000);
    const remaining = (): number => Math.max(1_000, deadline - Date.now());
    const start = (name: string, command: string, args: string[]): ManagedProcess => {
      const proc = startProcess({ name, command, args, cwd: stateDir, logFile: path.join(stateDir, `${name}.log`), ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }) });
      processes.push(proc);
      state.pids[name] = proc.pid;
      saveState(state);
      return proc;
    };
    const api = (urlPath: string) => httpsJson(server, 'GET', urlPath, token);
    const kubectlRun = (args: readonly string[], input?: string): string =>
      execFileSync(binaries.kubectl, [`--kubeconfig=${files.kubeconfig}`, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

    const etcd = start('etcd', binaries.etcd, etcdArgs(ports, files));
    await waitFor('etcd', async () => (await fetch(`http://127.0.0.1:${ports.etcdClient}/health`)).ok, { timeoutMs: remaining(), process: etcd });
    const apiserver = start('kube-apiserver', binaries.kubeApiserver, nodeApiserverArgs(ports, files, network));
    await waitFor(`kube-apiserver at ${server}`, async () => (await api('/readyz')).status === 200, { timeoutMs: remaining(), intervalMs: 250, process: apiserver });
    const controllerManager = start('kube-controller-manager', binaries.kubeControllerManager, nodeControllerManagerArgs(ports, files));
    const scheduler = start('kube-scheduler', binaries.kubeScheduler, schedulerArgs(ports, files));
    const controlPlaneMs = Date.now() - started;
    log(`control plane up at ${server} after ${(controlPlaneMs / 1000).toFixed(1)} s`);

    writeFileSync(files.containerdConfig, containerdConfig(files));
    mkdirSync(files.cniConfDir, { recursive: true });
    writeFileSync(path.join(files.cniConfDir, '10-freechat-node.conflist'), cniConflist(network, files));
    const containerd = start('containerd', 'containerd', containerdArgs(files));
    const ctrArgs = ['--address', files.containerdSocket, '-n', 'k8s.io'];
    await waitFor('containerd', async () => tryRun('ctr', [...ctrArgs, 'version']) !== undefined, { timeoutMs: remaining(), intervalMs: 250, process: containerd });
    const importImage = (tarball: string): void => void execFileSync('ctr', [...ctrArgs, 'images', 'import', tarball], { stdio: 'ignore' });
    importImage(binaries.pauseImage);
    importImage(binaries.corednsImage);

    state.cgroupsCreated = true;
    saveState(state);
    createCgroups(CGROUP_NAME);
    writeFileSync(files.kubeletConfig, kubeletConfiguration(network, ports, files));
    const kubelet = start('kubelet', binaries.kubelet, kubeletArgs(network, files));
    // The kubelet sets kernel tunables as it starts its container manager: put them back as soon
    // as it has (and again once the node is Ready, below).
    const restoreSysctls = (): void => {
      for (const [name, value] of Object.entries(state.sysctls!)) if (readSysctl(name) !== value) writeSysctl(name, value);
    };
    await waitFor('kubelet healthz', async () => (await fetch(`http://127.0.0.1:${ports.kubeletHealthz}/healthz`)).ok, { timeoutMs: remaining(), intervalMs: 200, process: kubelet });
    restoreSysctls();

    writeFileSync(files.kubeProxyConfig, kubeProxyConfiguration(network, ports, files));
    const kubeProxy = start('kube-proxy', binaries.kubeProxy, kubeProxyArgs(files));
    await waitFor(
      `node ${NODE_NAME} Ready`,
      async () => {
        const list = await api('/api/v1/nodes');
        return list.status === 200 && nodesReady((list.json as { items: [] }).items, [NODE_NAME]);
      },
      { timeoutMs: remaining(), intervalMs: 250, process: kubelet },
    );
    const nodeReadyMs = Date.now() - started;
    restoreSysctls();
    log(`node ${NODE_NAME} Ready after ${(nodeReadyMs / 1000).toFixed(1)} s (bridge ${network.bridge} ${network.cidr})`);
    await waitFor('kube-proxy healthz', async () => (await fetch(`http://127.0.0.1:${ports.kubeProxyHealthz}/healthz`)).ok, { timeoutMs: remaining(), process: kubeProxy });

    kubectlRun(['apply', '-f', '-'], JSON.stringify(coreDnsManifests()));
    await waitFor(
      'CoreDNS ready',
      async () => {
        const dns = await api('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
        return dns.status === 200 && deploymentReady(dns.json as object);
      },
      { timeoutMs: remaining(), intervalMs: 250, process: kubelet },
    );
    const dnsReadyMs = Date.now() - started;
    log(`CoreDNS ready after ${(dnsReadyMs / 1000).toFixed(1)} s`);
    // No provisioner: a default StorageClass and hostPath volumes under the state dir, made
    // writable by any pod user (hostPath ignores fsGroup), so StatefulSets' claims bind and keep
    // their data across pod restarts; teardown removes them with the state dir.
    const volumesDir = path.join(stateDir, 'volumes');
    for (let i = 0; i < (options.volumes ?? 16); i++) {
      mkdirSync(path.join(volumesDir, String(i)), { recursive: true });
      chmodSync(path.join(volumesDir, String(i)), 0o777);
    }
    for (const [apiPath, object] of fakeStorage(options.volumes ?? 16, volumesDir)) {
      const created = await httpsJson(server, 'POST', apiPath, token, object);
      if (created.status !== 201) throw new Error(`creating ${apiPath}: HTTP ${created.status}`);
    }
    for (const proc of processes) {
      const code = await Promise.race([proc.exited, Promise.resolve('running' as const)]);
      if (code !== 'running') throw new Error(`${proc.name} exited (code ${code}); see ${proc.logFile}`);
    }
    restoreSysctls();

    return {
      kubeconfig: files.kubeconfig,
      server,
      token,
      kubectl: binaries.kubectl,
      helm: binaries.helm,
      nodeName: NODE_NAME,
      network,
      stateDir,
      processes,
      timings: { controlPlaneMs, nodeReadyMs, dnsReadyMs },
      kubectlRun,
      importImage,
      importImages: (tarballs) => tarballs.forEach(importImage),
      memoryKb: () => rssKb([...processes.map((p) => p.pid), ...shimPids(files.containerdSocket)]),
      stop: () => teardownNode(state, log),
    };
  } catch (error) {
    const problems = await teardownNode(state, log);
    if (problems.length) log(`teardown after the failed start left: ${problems.join('; ')}`);
    throw error;
  }
}

