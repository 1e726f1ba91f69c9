import { describe, expect, it } from 'vitest';
import type { ControlPlanePorts } from './config.js';
import {
  cidrsOverlap,
  cniConflist,
  containerdConfig,
  coreDnsManifests,
  deploymentReady,
  kubeletArgs,
  kubeletConfiguration,
  kubeletJumpDeletions,
  kubeProxyConfiguration,
  nodeApiserverArgs,
  nodeControllerManagerArgs,
  nodeFiles,
  pickNetwork,
  type NodePorts,
} from './node-config.js';

const ports: NodePorts = {
  etcdClient: 1001, etcdPeer: 1002, apiserver: 1003, controllerManager: 1004, scheduler: 1005, kwok: 0,
  kubelet: 1010, kubeletHealthz: 1011, kubeProxyHealthz: 1012, kubeProxyMetrics: 1013,
};
const files = nodeFiles('/s');
const network = { bridge: 'fcnode0', cidr: '10.244.0.0/24', gateway: '10.244.0.1' };

describe('node network', () => {
  it('picks a /24 no route or address overlaps, never the service range', () => {
    expect(cidrsOverlap('10.244.0.0/24', '10.0.0.0/8')).toBe(true);
    expect(cidrsOverlap('10.244.0.0/24', '10.244.1.0/24')).toBe(false);
    expect(pickNetwork(['default', '192.0.2.0/24', '10.254.78.0/24'])).toEqual(network);
    expect(pickNetwork(['10.244.0.5/32']).cidr).toBe('10.244.32.0/24');
    expect(() => pickNetwork(['10.0.0.0/8'])).toThrow(/no free/);
  });

  it('CNI bridge without gateway mode or masquerade, IPAM data in the state dir', () => {
    const plugin = (JSON.parse(cniConflist(network, files)) as { plugins: Record<string, unknown>[] }).plugins[0]!;
    expect(plugin).toMatchObject({ type: 'bridge', bridge: 'fcnode0', isGateway: false, ipMasq: false, hairpinMode: true });
    expect(plugin['ipam']).toMatchObject({ dataDir: '/s/cni', ranges: [[{ subnet: '10.244.0.0/24', gateway: '10.244.0.1' }]] });
  });
});

describe('node components', () => {
  it('apiserver on the bridge with the default reconciler and ServiceAccount admission', () => {
    const args = nodeApiserverArgs(ports as ControlPlanePorts, files, network);
    expect(args).toContain('--bind-address=10.244.0.1');
    expect(args).toContain('--advertise-address=10.244.0.1');
    expect(args).toContain('--kubelet-preferred-address-types=InternalIP');
    expect(args).toContain('--authorization-mode=Node,RBAC');
    expect(args.filter((a) => /^--(endpoint-reconciler-type|disable-admission-plugins)=/.test(a))).toEqual([]);
    expect(args.filter((a) => a.startsWith('--bind-address='))).toHaveLength(1);
    expect(nodeControllerManagerArgs(ports, files)).toContain('--root-ca-file=/s/certs/apiserver.crt');
  });

  it('containerd keeps its state in ours and restricts oom_score_adj', () => {
    const toml = containerdConfig(files);
    for (const line of ['root = "/s/containerd/root"', 'address = "/s/containerd/containerd.sock"', 'restrict_oom_score_adj = true', 'netns_mounts_under_state_dir = true', 'disable_apparmor = true', 'sandbox_image = "localhost/pause:3.10"', 'conf_dir = "/s/net.d"', 'Root = "/s/runc"', 'SystemdCgroup = false', 'path = "/s/containerd/opt"']) {
      expect(toml).toContain(line);
    }
  });

  it('kubelet: bridge address, cgroup v1 allowed, no image GC, cluster DNS', () => {
    const config = JSON.parse(kubeletConfiguration(network, ports, files)) as Record<string, unknown>;
    expect(config).toMatchObject({
      address: '10.244.0.1', port: 1010, readOnlyPort: 0, healthzBindAddress: '127.0.0.1', healthzPort: 1011,
      cgroupDriver: 'cgroupfs', cgroupRoot: '/freechat-node', failCgroupV1: false, failSwapOn: false,
      containerRuntimeEndpoint: 'unix:///s/containerd/containerd.sock', clusterDNS: ['10.0.0.10'], imageGCHighThresholdPercent: 100,
      podLogsDir: '/s/pod-logs',
    });
    expect(kubeletArgs(network, files)).toEqual(expect.arrayContaining(['--node-ip=10.244.0.1', '--root-dir=/s/kubelet', '--hostname-override=freechat-node']));
  });

  it('kube-proxy: nftables, loopback listeners, no conntrack sysctls', () => {
    const config = JSON.parse(kubeProxyConfiguration(network, ports, files)) as Record<string, unknown> & { conntrack: Record<string, unknown> };
    expect(config).toMatchObject({ mode: 'nftables', healthzBindAddress: '127.0.0.1:1012', metricsBindAddress: '127.0.0.1:1013', clusterCIDR: '10.244.0.0/24', nodePortAddresses: ['10.244.0.1/32'] });
    expect(Object.values(config.conntrack).every((v) => v === 0 || v === '0s')).toBe(true);
  });

  it('CoreDNS: no forward plugin, kube-dns at the cluster DNS address, image never pulled', () => {
    const list = coreDnsManifests() as { items: { kind: string; spec?: Record<string, unknown>; data?: Record<string, string> }[] };
    expect(list.items.find((i) => i.kind === 'Service')?.spec).toMatchObject({ clusterIP: '10.0.0.10' });
    expect(list.items.find((i) => i.kind === 'ConfigMap')?.data?.['Corefile']).not.toMatch(/forward/);
    expect(JSON.stringify(list.items.find((i) => i.kind === 'Deployment'))).toContain('"imagePullPolicy":"Never"');
  });
});

describe('helpers', () => {
  it('turns the kubelet chain jumps into deletions, leaving the chains own rules and others alone', () => {
    const rules = ['-P INPUT ACCEPT', '-N KUBE-FIREWALL', '-A INPUT -j KUBE-FIREWALL', '-A OUTPUT -j KUBE-FIREWALL', '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -j DROP', '-A INPUT -j OTHER'].join('\n');
    expect(kubeletJumpDeletions(rules)).toEqual([['-D', 'INPUT', '-j', 'KUBE-FIREWALL'], ['-D', 'OUTPUT', '-j', 'KUBE-FIREWALL']]);
  });

  it('a Deployment is ready when every replica is updated, ready and available', () => {
    expect(deploymentReady({ spec: { replicas: 2 }, status: { readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 } })).toBe(true);
    expect(deploymentReady({ spec: { replicas: 2 }, status: { readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 } })).toBe(false);
  });
});
