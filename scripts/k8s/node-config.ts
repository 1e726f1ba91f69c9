// The real single-node cluster's configuration as pure functions (unit-tested in
// node-config.test.ts); node.ts applies them. The verified recipe and its traps:
// ../shared/recipes/kubernetes-node.md. Everything listens on loopback or on the node's own bridge,
// whose /24 no route of the machine covers: nothing leaves the machine.
import {
  apiserverArgs,
  controllerManagerArgs,
  SERVICE_CLUSTER_IP_RANGE,
  type ControlPlaneFiles,
  type ControlPlanePorts,
} from './config.js';

/** The bridge the node owns: its address is the node IP, the kubelet's and the API server's. */
export interface NodeNetwork {
  readonly bridge: string;
  /** e.g. 10.244.0.0/24 */
  readonly cidr: string;
  /** .1 of the /24: the bridge's address. */
  readonly gateway: string;
}

export interface NodePorts extends ControlPlanePorts {
  readonly kubelet: number;
  readonly kubeletHealthz: number;
  readonly kubeProxyHealthz: number;
  readonly kubeProxyMetrics: number;
}

/** Every path under the node's state directory (nothing of the node's lives elsewhere). */
export interface NodeFiles extends ControlPlaneFiles {
  readonly containerdConfig: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly containerdOpt: string;
  readonly runcRoot: string;
  readonly cniConfDir: string;
  readonly cniDataDir: string;
  readonly kubeletRoot: string;
  readonly kubeletConfig: string;
  readonly podLogsDir: string;
  readonly volumePluginDir: string;
  readonly kubeProxyConfig: string;
}

export const NODE_NAME = 'freechat-node';
export const BRIDGE_NAME = 'fcnode0';
/** cgroup v1: the kubelet's cgroupRoot, a folder of ours under every controller. */
export const CGROUP_NAME = 'freechat-node';
export const CLUSTER_DNS_IP = '10.0.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const PAUSE_IMAGE = 'localhost/pause:3.10';
export const COREDNS_IMAGE = 'localhost/coredns:1.14.7';
/** The kubelet sets these at start (not ours to keep): recorded before, restored right after. */
export const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops'] as const;
/** Machine-wide paths the kubelet / containerd / CNI create when missing: removed at teardown if absent before. */
export const GLOBAL_PATHS = ['/var/lib/kubelet', '/run/containerd', '/var/log/containers', '/var/log/pods', '/var/lib/cni', '/etc/cni', '/opt/cni', '/opt/containerd', '/usr/libexec/kubernetes'] as const;
/** iptables chains the kubelet creates (it still does, next to kube-proxy's nftables). */
export const KUBELET_CHAINS = ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT'] as const;

const SUBNET_CANDIDATES = Array.from({ length: 16 }, (_, i) => `10.${244 + (i >> 3)}.${(i & 7) * 32}.0/24`);

const ipToInt = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

function range(cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(ip) - (ipToInt(ip) % size);
  return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

/**
 * The first candidate /24 that no route (`ip -j route show table all` destinations, "default"
 * excluded) nor address of the machine overlaps, and not the service range.
 */
export function pickNetwork(inUse: readonly string[], bridge = BRIDGE_NAME): NodeNetwork {
  const taken = [...inUse.filter((c) => c !== 'default' && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(c)), SERVICE_CLUSTER_IP_RANGE];
  const cidr = SUBNET_CANDIDATES.find((c) => !taken.some((t) => cidrsOverlap(c, t.includes('/') ? t : `${t}/32`)));
  if (!cidr) throw new Error(`no free /24 among ${SUBNET_CANDIDATES.join(', ')}`);
  return { bridge, cidr, gateway: cidr.replace(/\.0\/24$/, '.1') };
}

/**
 * The node's API server: as the loopback control plane's, but bound and advertised on the bridge
 * (pods must reach it; the default endpoint reconciler gives the `kubernetes` Service real
 * endpoints), InternalIP for logs/exec/port-forward (the node name is not resolvable), and the
 * ServiceAccount admission plugin on (pods get their token).
 */
export function nodeApiserverArgs(ports: ControlPlanePorts, files: ControlPlaneFiles, network: NodeNetwork): string[] {
  const dropped = ['--bind-address=', '--advertise-address=', '--endpoint-reconciler-type=', '--disable-admission-plugins='];
  return [
    ...apiserverArgs(ports, files).filter((arg) => !dropped.some((d) => arg.startsWith(d))),
    `--bind-address=${network.gateway}`,
    `--advertise-address=${network.gateway}`,
    '--kubelet-preferred-address-types=InternalIP',
  ];
}

/** --root-ca-file: the API server's self-signed certificate, put into every pod's ca.crt. */
export function nodeControllerManagerArgs(ports: ControlPlanePorts, files: ControlPlaneFiles): string[] {
  return [...controllerManagerArgs(ports, files), `--root-ca-file=${apiserverCert(files)}`];
}

export const apiserverCert = (files: ControlPlaneFiles): string => `${files.certDir}/apiserver.crt`;

const toml = (value: string): string => JSON.stringify(value);

/** containerd 1.6 config (version 2): defaults plus the recipe's changes, all state under ours. */
export function containerdConfig(files: NodeFiles): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by scripts/k8s/node.ts; see ../shared/recipes/kubernetes-node.md.
version = 2
root = ${toml(files.containerdRoot)}
state = ${toml(files.containerdState)}

[grpc]
  address = ${toml(files.containerdSocket)}

[ttrpc]
  address = ${toml(`${files.containerdSocket}.ttrpc`)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${toml(files.containerdOpt)}

[${cri}]
  sandbox_image = ${toml(PAUSE_IMAGE)}
  # Root lacks CAP_SYS_RESOURCE on these VMs: without it runc fails every pod ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = ${toml(files.cniConfDir)}

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  Root = ${toml(files.runcRoot)}
  SystemdCgroup = false
`;
}

/**
 * CNI: a bridge on ours. isGateway false (true turns the global ip_forward on at every pod start;
 * the bridge's own forwarding sysctl is enough), no masquerade (no egress), hairpin for a pod
 * reaching itself through its Service. No portmap: it would write iptables chains (no hostPort here).
 */
export function cniConflist(network: NodeNetwork, files: NodeFiles): string {
  const config = {
    cniVersion: '1.0.0',
    name: 'freechat-node',
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        isGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: network.cidr, gateway: network.gateway }]],
          routes: [{ dst: '0.0.0.0/0', gw: network.gateway }],
          dataDir: files.cniDataDir,
        },
      },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** KubeletConfiguration (JSON is YAML). Anonymous + AlwaysAllow: a local test node only. */
export function kubeletConfiguration(network: NodeNetwork, ports: NodePorts, files: NodeFiles): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: network.gateway,
    port: ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.kubeletHealthz,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${CGROUP_NAME}`,
    // cgroup v1 here: 1.37 refuses it unless told.
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${files.containerdSocket}`,
    podLogsDir: files.podLogsDir,
    volumePluginDir: files.volumePluginDir,
    clusterDNS: [CLUSTER_DNS_IP],
    clusterDomain: CLUSTER_DOMAIN,
    // Imported images cannot be pulled again: never evict or garbage-collect them on a full disk.
    evictionHard: { 'nodefs.available': '1%', 'imagefs.available': '1%', 'memory.available': '100Mi' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    serializeImagePulls: false,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function kubeletArgs(network: NodeNetwork, files: NodeFiles): string[] {
  return [
    `--config=${files.kubeletConfig}`,
    `--kubeconfig=${files.kubeconfig}`,
    // The kubelet refuses a loopback node IP: hence the bridge's.
    `--node-ip=${network.gateway}`,
    `--hostname-override=${NODE_NAME}`,
    `--root-dir=${files.kubeletRoot}`,
    `--cert-dir=${files.kubeletRoot}/pki`,
  ];
}

/**
 * kube-proxy in nftables mode (its own `kube-proxy` tables only), listeners on loopback, node ports
 * on the bridge only, conntrack values 0 so it changes no sysctl.
 */
export function kubeProxyConfiguration(network: NodeNetwork, ports: NodePorts, files: NodeFiles): string {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'nftables',
    clientConnection: { kubeconfig: files.kubeconfig },
    hostnameOverride: NODE_NAME,
    bindAddress: '127.0.0.1',
    healthzBindAddress: `127.0.0.1:${ports.kubeProxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${ports.kubeProxyMetrics}`,
    clusterCIDR: network.cidr,
    nodePortAddresses: [`${network.gateway}/32`],
    oomScoreAdj: 0,
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s' },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export const kubeProxyArgs = (files: NodeFiles): string[] => [`--config=${files.kubeProxyConfig}`];

/** containerd's flags: the config holds everything. */
export const containerdArgs = (files: NodeFiles): string[] => [`--config=${files.containerdConfig}`];

/**
 * CoreDNS with only the kubernetes plugin (no forward: pods have no egress), its RBAC, and the
 * kube-dns Service at the kubelet's clusterDNS address. A kubectl List (JSON).
 */
export function coreDnsManifests(image = COREDNS_IMAGE): Record<string, unknown> {
  const ns = 'kube-system';
  const labels = { 'k8s-app': 'kube-dns' };
  const corefile = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
`;
  const items = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: ns }, data: { Corefile: corefile } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 1 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels },
      spec: {
        clusterIP: CLUSTER_DNS_IP,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    },
  ];
  return { apiVersion: 'v1', kind: 'List', items };
}

/** The node's files under its state directory. */
export function nodeFiles(stateDir: string, kwokStages = ''): NodeFiles {
  const p = (name: string): string => `${stateDir}/${name}`;
  return {
    dataDir: stateDir,
    etcdDataDir: p('etcd'),
    certDir: p('certs'),
    tokensCsv: p('tokens.csv'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
    kubeconfig: p('kubeconfig'),
    kwokStages,
    containerdConfig: p('containerd.toml'),
    containerdRoot: p('containerd/root'),
    containerdState: p('containerd/state'),
    containerdSocket: p('containerd/containerd.sock'),
    containerdOpt: p('containerd/opt'),
    runcRoot: p('runc'),
    cniConfDir: p('net.d'),
    cniDataDir: p('cni'),
    kubeletRoot: p('kubelet'),
    kubeletConfig: p('kubelet.json'),
    podLogsDir: p('pod-logs'),
    volumePluginDir: p('kubelet-plugins'),
    kubeProxyConfig: p('kube-proxy.json'),
  };
}

/** Lines of `iptables -t TABLE -S` that jump to a kubelet chain, turned into the `-D` arguments removing them. */
export function kubeletJumpDeletions(rules: string): string[][] {
  return rules
    .split('\n')
    .filter((line) => line.startsWith('-A ') && KUBELET_CHAINS.some((c) => line.includes(`-j ${c}`)) && !KUBELET_CHAINS.some((c) => line.startsWith(`-A ${c} `)))
    .map((line) => ['-D', ...line.slice(3).split(' ')]);
}

interface DeploymentLike {
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly readyReplicas?: number; readonly updatedReplicas?: number; readonly availableReplicas?: number };
}

/** Whether every wanted replica is updated, ready and available. */
export function deploymentReady(deployment: DeploymentLike): boolean {
  const wanted = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  return (s.readyReplicas ?? 0) >= wanted && (s.updatedReplicas ?? 0) >= wanted && (s.availableReplicas ?? 0) >= wanted;
}
