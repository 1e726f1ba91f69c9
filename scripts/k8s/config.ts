// The local control plane's command lines, kubeconfig and fake nodes, as pure functions (unit-tested
// in config.test.ts); control-plane.ts starts the processes. Everything listens on 127.0.0.1 only.
// The flags are the verified recipe (../shared/recipes/infra.md, "Kubernetes API").

export interface ControlPlanePorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly kwok: number;
}

/** The files control-plane.ts writes into the data directory before starting anything. */
export interface ControlPlaneFiles {
  readonly dataDir: string;
  readonly etcdDataDir: string;
  readonly certDir: string;
  readonly tokensCsv: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  readonly kubeconfig: string;
  readonly kwokStages: string;
}

export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const FAKE_NODE_LABEL = { key: 'type', value: 'kwok' } as const;

const LOOPBACK = '127.0.0.1';
const url = (port: number): string => `http://${LOOPBACK}:${port}`;

export function etcdArgs(ports: ControlPlanePorts, files: ControlPlaneFiles): string[] {
  return [
    '--name=default',
    `--data-dir=${files.etcdDataDir}`,
    `--listen-client-urls=${url(ports.etcdClient)}`,
    `--advertise-client-urls=${url(ports.etcdClient)}`,
    `--listen-peer-urls=${url(ports.etcdPeer)}`,
    `--initial-advertise-peer-urls=${url(ports.etcdPeer)}`,
    `--initial-cluster=default=${url(ports.etcdPeer)}`,
    // A throwaway cluster: no fsync (much faster on a busy disk), little logging.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiserverArgs(ports: ControlPlanePorts, files: ControlPlaneFiles): string[] {
  return [
    `--etcd-servers=${url(ports.etcdClient)}`,
    `--bind-address=${LOOPBACK}`,
    `--advertise-address=${LOOPBACK}`,
    // Required: with the default reconciler 1.37 refuses a loopback advertise address and exits.
    '--endpoint-reconciler-type=none',
    `--secure-port=${ports.apiserver}`,
    // A self-signed serving certificate is generated here (the kubeconfig skips verification).
    `--cert-dir=${files.certDir}`,
    `--token-auth-file=${files.tokensCsv}`,
    '--authorization-mode=Node,RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${files.serviceAccountPub}`,
    `--service-account-signing-key-file=${files.serviceAccountKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--allow-privileged=true',
    // No kubelets mount service-account tokens here; the plugin would hold pods back for one.
    '--disable-admission-plugins=ServiceAccount',
  ];
}

/** The flags controller-manager and scheduler share: the admin kubeconfig for everything. */
function componentArgs(port: number, files: ControlPlaneFiles): string[] {
  return [
    `--kubeconfig=${files.kubeconfig}`,
    `--authentication-kubeconfig=${files.kubeconfig}`,
    `--authorization-kubeconfig=${files.kubeconfig}`,
    `--bind-address=${LOOPBACK}`,
    `--secure-port=${port}`,
    '--leader-elect=false',
  ];
}

export function controllerManagerArgs(ports: ControlPlanePorts, files: ControlPlaneFiles): string[] {
  return [
    ...componentArgs(ports.controllerManager, files),
    // nodeipam would want a cluster CIDR; keep nodelifecycle: only it removes the not-ready taint
    // new Nodes get, without which pods stay Pending.
    "--controllers=*,-nodeipam",
    `--service-account-private-key-file=${files.serviceAccountKey}`,
    '--use-service-account-credentials=false',
  ];
}

export function schedulerArgs(ports: ControlPlanePorts, files: ControlPlaneFiles): string[] {
  return componentArgs(ports.scheduler, files);
}

export function kwokArgs(ports: ControlPlanePorts, files: ControlPlaneFiles): string[] {
  return [
    `--config=${files.kwokStages}`,
    `--kubeconfig=${files.kubeconfig}`,
    // Only Nodes created as fake ones: a test's real-looking Node objects are left alone.
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=fake`,
    '--manage-nodes-with-label-selector=',
    '--node-ip=10.0.0.1',
    '--node-lease-duration-seconds=40',
    `--server-address=${LOOPBACK}:${ports.kwok}`,
    '--cidr=10.0.1.0/24',
  ];
}

/** tokens.csv for --token-auth-file: one admin in system:masters. */
export function tokensCsv(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('the admin token must be URL-safe characters only');
  return `${token},admin,admin-uid,"system:masters"\n`;
}

/** A kubeconfig (JSON is YAML) for the admin: token auth, the self-signed serving certificate not verified. */
export function kubeconfig(server: string, token: string): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'freechat-local', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'freechat-local', context: { cluster: 'freechat-local', user: 'admin', namespace: 'default' } }],
    'current-context': 'freechat-local',
    preferences: {},
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export interface FakeNodeResources {
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

export const DEFAULT_NODE_RESOURCES: FakeNodeResources = { cpu: '32', memory: '256Gi', pods: '110' };

/** A Node KWOK manages (its pods turn Running/Ready without a kubelet). */
export function fakeNode(name: string, resources: FakeNodeResources = DEFAULT_NODE_RESOURCES): Record<string, unknown> {
  const amounts = { cpu: resources.cpu, memory: resources.memory, pods: resources.pods };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
        [FAKE_NODE_LABEL.key]: FAKE_NODE_LABEL.value,
      },
    },
    spec: {},
    status: { allocatable: amounts, capacity: amounts },
  };
}

/** The default StorageClass of the simulated cluster. */
export const FAKE_STORAGE_CLASS = 'standard';

/**
 * [API path, object] pairs: a default StorageClass without a provisioner and `count` 100 GiB
 * PersistentVolumes of it (hostPath `<hostPathBase>/<i>`: never mounted under KWOK, real folders on
 * a real node). Claims of up to 100 GiB bind; a released volume is not reused, so the pool is sized
 * for a whole test run.
 */
export function fakeStorage(count: number, hostPathBase = '/var/lib/kwok-volumes'): [string, Record<string, unknown>][] {
  const storageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: FAKE_STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'Immediate',
    reclaimPolicy: 'Retain',
  };
  const volumes = Array.from({ length: count }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `kwok-volume-${i}`, labels: { [FAKE_NODE_LABEL.key]: FAKE_NODE_LABEL.value } },
    spec: {
      capacity: { storage: '100Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: FAKE_STORAGE_CLASS,
      hostPath: { path: `${hostPathBase}/${i}` },
    },
  }));
  return [
    ['/apis/storage.k8s.io/v1/storageclasses', storageClass],
    ...volumes.map((volume): [string, Record<string, unknown>] => ['/api/v1/persistentvolumes', volume]),
  ];
}

export const fakeNodeNames = (count: number): string[] => Array.from({ length: count }, (_, i) => `kwok-node-${i}`);

interface NodeLike {
  readonly metadata?: { readonly name?: string };
  readonly spec?: { readonly taints?: readonly { readonly key?: string }[] };
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string }[] };
}

/**
 * Whether every named node is Ready and schedulable: the Ready condition is True and the
 * controller-manager has removed the not-ready / unreachable taints new Nodes are created with.
 */
export function nodesReady(items: readonly NodeLike[], names: readonly string[]): boolean {
  return names.every((name) => {
    const node = items.find((item) => item.metadata?.name === name);
    if (!node) return false;
    const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const tainted = node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable') ?? false;
    return ready && !tainted;
  });
}
