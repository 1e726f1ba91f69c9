// The machine-level effects of the real node, each paired with its undo: the bridge, sysctls,
// cgroup folders, the kubelet's iptables chains and the nft tables left empty, mounts under the
// state directory, and a snapshot of all of it (the e2e test compares one before and after).
// Only names we own are touched; nothing here finds processes by name.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { kubeletJumpDeletions, KUBELET_CHAINS, type NodeNetwork } from './node-config.js';

export function run(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** Like run, but a failure is returned as undefined (a probe, or an undo whose object is already gone). */
export function tryRun(command: string, args: readonly string[]): string | undefined {
  try {
    return run(command, args);
  } catch {
    return undefined;
  }
}

/** Destinations of every route and every address's subnet (the bridge's /24 must overlap none). */
export function addressesInUse(): string[] {
  const routes = JSON.parse(run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) as { dst?: string }[];
  const addresses = JSON.parse(run('ip', ['-j', '-4', 'addr'])) as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  return [
    ...routes.map((r) => r.dst ?? '').filter(Boolean),
    ...addresses.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`)),
  ];
}

export const linkExists = (name: string): boolean => existsSync(`/sys/class/net/${name}`);

export function createBridge(network: NodeNetwork): void {
  run('ip', ['link', 'add', network.bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${network.gateway}/24`, 'dev', network.bridge]);
  run('ip', ['link', 'set', network.bridge, 'up']);
  // Forwarding on this bridge only (a pod reaching a Service behind the same bridge); the global
  // ip_forward stays as it is.
  writeSysctl(`net.ipv4.conf.${network.bridge}.forwarding`, '1');
}

export function deleteBridge(name: string): void {
  if (linkExists(name)) run('ip', ['link', 'del', name]);
}

const sysctlPath = (name: string): string => `/proc/sys/${name.replaceAll('.', '/')}`;
export const readSysctl = (name: string): string => readFileSync(sysctlPath(name), 'utf8').trim();
export const writeSysctl = (name: string, value: string): void => writeFileSync(sysctlPath(name), `${value}\n`);

/** Every sysctl under the given prefixes that can be read (a snapshot to compare). */
export function sysctlSnapshot(prefixes = ['net/ipv4', 'net/ipv6/conf/all', 'net/ipv6/conf/default', 'net/bridge', 'net/netfilter', 'vm', 'kernel']): Record<string, string> {
  const out: Record<string, string> = {};
  // Values that move on their own.
  const volatile = /random|ns_last_pid|pty\/nr|inode|dentry|file-nr|nf_conntrack_count|drop_caches|stat_refresh|compact_memory|tainted|perf_event|sched_domain|neigh\//;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (volatile.test(full)) continue;
      if (entry.isDirectory()) walk(full);
      else {
        try {
          out[full.slice('/proc/sys/'.length).replaceAll('/', '.')] = readFileSync(full, 'utf8').trim();
        } catch {
          // write-only or denied
        }
      }
    }
  };
  for (const prefix of prefixes) if (existsSync(`/proc/sys/${prefix}`)) walk(`/proc/sys/${prefix}`);
  return out;
}

/**
 * cgroup hierarchies mounted under /sys/fs/cgroup: the v1 ones, plus (withUnified) the hybrid
 * layout's v2 `unified` mount, where the kubelet also creates its folders.
 */
export function cgroupHierarchies(withUnified = false): string[] {
  const root = '/sys/fs/cgroup';
  if (existsSync(`${root}/cgroup.controllers`)) return [root]; // cgroup v2 only
  return readdirSync(root)
    .map((name) => path.join(root, name))
    .filter((dir) => statSync(dir).isDirectory() && existsSync(`${dir}/cgroup.procs`) && (withUnified || !existsSync(`${dir}/cgroup.controllers`)));
}

/** The kubelet's cgroupRoot must exist under every hierarchy; a new cpuset starts empty: copy the root's. */
export function createCgroups(name: string): string[] {
  const created: string[] = [];
  for (const hierarchy of cgroupHierarchies()) {
    const dir = path.join(hierarchy, name);
    if (!existsSync(dir)) {
      mkdirSync(dir);
      created.push(dir);
    }
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(path.join(hierarchy, file))) writeFileSync(path.join(dir, file), readFileSync(path.join(hierarchy, file), 'utf8'));
    }
  }
  return created;
}

/** rmdir depth-first under every hierarchy; throws naming what stays (a process still in it). */
export function removeCgroups(name: string): void {
  const left: string[] = [];
  const remove = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(path.join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  };
  for (const hierarchy of cgroupHierarchies(true)) if (existsSync(path.join(hierarchy, name))) remove(path.join(hierarchy, name));
  if (left.length) throw new Error(`cgroup folders still busy: ${left.slice(0, 5).join(', ')}`);
}

/** Every cgroup folder named `name` in any hierarchy (the snapshot's view). */
export const cgroupsNamed = (name: string): string[] => cgroupHierarchies(true).map((h) => path.join(h, name)).filter((d) => existsSync(d));

/** "family name" of every nft table. */
export function nftTables(): string[] {
  const out = JSON.parse(run('nft', ['-j', 'list', 'tables'])) as { nftables: { table?: { family: string; name: string } }[] };
  return out.nftables.flatMap((o) => (o.table ? [`${o.table.family} ${o.table.name}`] : []));
}

const ruleCount = (table: string): number => {
  const out = JSON.parse(run('nft', ['-j', 'list', 'table', ...table.split(' ')])) as { nftables: { rule?: unknown }[] };
  return out.nftables.filter((o) => o.rule).length;
};

export function deleteNftTable(table: string): void {
  if (nftTables().includes(table)) run('nft', ['delete', 'table', ...table.split(' ')]);
}

/**
 * The kubelet's iptables chains (KUBE-FIREWALL and its canaries, through iptables-nft): the jumps
 * to them, then the chains. Then the tables absent before whose rules are all gone are deleted
 * (iptables-nft creates filter/nat/mangle with empty base chains).
 */
export function removeKubeletChains(tablesBefore: readonly string[]): void {
  for (const binary of ['iptables', 'ip6tables']) {
    const family = binary === 'iptables' ? 'ip' : 'ip6';
    for (const table of ['filter', 'nat', 'mangle']) {
      if (!nftTables().includes(`${family} ${table}`)) continue; // `-S` on a missing table would not create it, but skip anyway
      const rules = tryRun(binary, ['-w', '-t', table, '-S']) ?? '';
      for (const deletion of kubeletJumpDeletions(rules)) tryRun(binary, ['-w', '-t', table, ...deletion]);
      for (const chain of KUBELET_CHAINS) {
        if (!rules.split('\n').includes(`-N ${chain}`)) continue;
        tryRun(binary, ['-w', '-t', table, '-F', chain]);
        tryRun(binary, ['-w', '-t', table, '-X', chain]);
      }
    }
  }
  for (const table of nftTables()) {
    if (!tablesBefore.includes(table) && ruleCount(table) === 0) deleteNftTable(table);
  }
}

/** Mount points under dir (deepest first), from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const prefix = `${path.resolve(dir)}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' ') ?? '')
    .filter((point) => point.startsWith(prefix) || `${point}/` === prefix)
    .sort((a, b) => b.length - a.length);
}

export function unmountUnder(dir: string): void {
  // Repeat: a bind mount may hide another mounted at the same point.
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (!points.length) return;
    for (const point of points) tryRun('umount', [point]) ?? tryRun('umount', ['-l', point]);
  }
  const left = mountsUnder(dir);
  if (left.length) throw new Error(`still mounted: ${left.slice(0, 5).join(', ')}`);
}

/** Resident memory (kB) of the given pids, those gone counted as 0. */
export function rssKb(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return total;
}

/**
 * containerd's shims outlive it by design, and 1.6 writes no pid file for them: they are the
 * containerd-shim processes whose `-address` is our containerd's socket (a path only ours has).
 */
export function shimPids(containerdSocket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0] ?? '').startsWith('containerd-shim') && argv[argv.indexOf('-address') + 1] === containerdSocket) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * SIGKILL to every process left in our cgroup folders (containers whose containerd and kubelet died
 * in a crash): they are ours by construction. Waits until the folders are empty (at most 10 s).
 */
export async function killCgroupProcesses(name: string): Promise<void> {
  const procs = (): number[] => {
    const pids = new Set<number>();
    const walk = (dir: string): void => {
      for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(pid));
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(path.join(dir, entry.name));
    };
    for (const dir of cgroupsNamed(name)) walk(dir);
    return [...pids];
  };
  const deadline = Date.now() + 10_000;
  for (let left = procs(); left.length; left = procs()) {
    if (Date.now() > deadline) throw new Error(`processes still in cgroup ${name}: ${left.join(', ')}`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface HostSnapshot {
  readonly links: string[];
  readonly nftTables: string[];
  readonly iptables: string;
  readonly cgroups: string[];
  readonly sysctls: Record<string, string>;
  readonly mounts: string[];
  readonly paths: Record<string, boolean>;
}

/** What the node may change, to compare before and after (the e2e test; `make k8s-node-down`). */
export function hostSnapshot(stateDir: string, cgroupName: string, globalPaths: readonly string[]): HostSnapshot {
  const links = readdirSync('/sys/class/net').sort();
  return {
    links,
    nftTables: nftTables().sort(),
    iptables: ['iptables', 'ip6tables'].map((b) => (nftTables().some((t) => t.startsWith(b === 'iptables' ? 'ip ' : 'ip6 ')) ? tryRun(`${b}-save`, []) ?? '' : '')).join('\n').replace(/^#.*\n/gm, ''),
    cgroups: cgroupsNamed(cgroupName),
    sysctls: sysctlSnapshot(),
    mounts: mountsUnder(stateDir),
    paths: Object.fromEntries(globalPaths.map((p) => [p, existsSync(p)])),
  };
}
