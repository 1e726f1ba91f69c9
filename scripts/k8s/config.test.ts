import { describe, expect, it } from 'vitest';
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  fakeNode,
  fakeNodeNames,
  kubeconfig,
  kwokArgs,
  nodesReady,
  schedulerArgs,
  tokensCsv,
  type ControlPlaneFiles,
  type ControlPlanePorts,
} from './config.js';

const ports: ControlPlanePorts = { etcdClient: 1001, etcdPeer: 1002, apiserver: 1003, controllerManager: 1004, scheduler: 1005, kwok: 1006 };
const files: ControlPlaneFiles = {
  dataDir: '/d',
  etcdDataDir: '/d/etcd',
  certDir: '/d/certs',
  tokensCsv: '/d/tokens.csv',
  serviceAccountKey: '/d/sa.key',
  serviceAccountPub: '/d/sa.pub',
  kubeconfig: '/d/kubeconfig',
  kwokStages: '/c/kwok-stages.yaml',
};
const all = [etcdArgs, apiserverArgs, controllerManagerArgs, schedulerArgs, kwokArgs].flatMap((f) => f(ports, files));

describe('control plane flags', () => {
  it('binds every listener to loopback on the ports given', () => {
    const addresses = all.flatMap((arg) => [...arg.matchAll(/(\d+\.\d+\.\d+\.\d+):(\d+)/g)].map((m) => m[1]));
    expect(addresses.length).toBeGreaterThan(0);
    expect(new Set(addresses)).toEqual(new Set(['127.0.0.1']));
    expect(all.filter((arg) => arg.startsWith('--bind-address='))).toEqual(Array(3).fill('--bind-address=127.0.0.1'));
    expect(etcdArgs(ports, files)).toContain('--listen-client-urls=http://127.0.0.1:1001');
    expect(etcdArgs(ports, files)).toContain('--initial-cluster=default=http://127.0.0.1:1002');
    expect(apiserverArgs(ports, files)).toContain('--secure-port=1003');
    expect(controllerManagerArgs(ports, files)).toContain('--secure-port=1004');
    expect(schedulerArgs(ports, files)).toContain('--secure-port=1005');
    expect(kwokArgs(ports, files)).toContain('--server-address=127.0.0.1:1006');
  });

  it('keeps the recipe traps: no endpoint reconciler, nodelifecycle kept, the signing key pair wired', () => {
    const apiserver = apiserverArgs(ports, files);
    expect(apiserver).toContain('--endpoint-reconciler-type=none');
    expect(apiserver).toContain('--etcd-servers=http://127.0.0.1:1001');
    expect(apiserver).toContain('--service-account-key-file=/d/sa.pub');
    expect(apiserver).toContain('--service-account-signing-key-file=/d/sa.key');
    const cm = controllerManagerArgs(ports, files);
    expect(cm.find((a) => a.startsWith('--controllers='))).not.toMatch(/nodelifecycle/);
    expect(cm).toContain('--service-account-private-key-file=/d/sa.key');
    expect(kwokArgs(ports, files)).toContain('--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake');
    expect(kwokArgs(ports, files)).toContain('--config=/c/kwok-stages.yaml');
  });
});

describe('credentials', () => {
  it('writes one system:masters token and a kubeconfig using it', () => {
    expect(tokensCsv('abc_-1')).toBe('abc_-1,admin,admin-uid,"system:masters"\n');
    expect(() => tokensCsv('a,b')).toThrow();
    const config = JSON.parse(kubeconfig('https://127.0.0.1:1003', 'tok')) as {
      clusters: { cluster: Record<string, unknown> }[];
      users: { user: { token: string } }[];
      'current-context': string;
    };
    expect(config.clusters[0]?.cluster).toEqual({ server: 'https://127.0.0.1:1003', 'insecure-skip-tls-verify': true });
    expect(config.users[0]?.user.token).toBe('tok');
    expect(config['current-context']).toBe('freechat-local');
  });
});

describe('fake nodes', () => {
  it('are annotated for KWOK, labelled and sized', () => {
    const node = fakeNode('kwok-node-0') as { metadata: { annotations: Record<string, string>; labels: Record<string, string> }; status: { allocatable: Record<string, string> } };
    expect(node.metadata.annotations['kwok.x-k8s.io/node']).toBe('fake');
    expect(node.metadata.labels).toMatchObject({ type: 'kwok', 'kubernetes.io/os': 'linux' });
    expect(node.status.allocatable).toEqual({ cpu: '32', memory: '256Gi', pods: '110' });
    expect(fakeNodeNames(2)).toEqual(['kwok-node-0', 'kwok-node-1']);
  });

  it('count as ready when Ready=True and the not-ready taint is gone', () => {
    const ready = { metadata: { name: 'a' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    const tainted = { ...ready, spec: { taints: [{ key: 'node.kubernetes.io/not-ready' }] } };
    const notReady = { metadata: { name: 'a' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } };
    expect(nodesReady([ready], ['a'])).toBe(true);
    expect(nodesReady([tainted], ['a'])).toBe(false);
    expect(nodesReady([notReady], ['a'])).toBe(false);
    expect(nodesReady([ready], ['a', 'b'])).toBe(false);
  });
});
