// The Helm chart charts/freechat, offline (helm lint and helm template, no cluster): it lints
// strictly, renders exactly the operator's objects with the contract the operator is written to
// (image, env, probes, pod security), least-privilege RBAC with exactly the operator's verbs, the
// optional objects only when asked for, a values schema that refuses wrong values by name, and
// k8s/install/freechat.yaml as a fresh render.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_DIR, helmPath, INSTALL_MANIFEST, renderInstallManifest } from '../../scripts/k8s/render-install.js';

// Throws (the file fails, naming `make k8s-provision`) when helm is not built: nothing is skipped.
const helm = helmPath({ build: false });
const NAMESPACE = 'freechat-system';

type Values = Record<string, unknown>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

function runHelm(args: readonly string[], values: Values = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helm, [...args, '--values', '-'], { input: JSON.stringify(values), encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template freechat charts/freechat -n freechat-system` with these values, parsed. */
function template(values: Values = {}, extra: readonly string[] = []): K8sObject[] {
  const result = runHelm(['template', 'freechat', CHART_DIR, '--namespace', NAMESPACE, ...extra], values);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** The stderr of a `helm template` that must fail. */
function templateError(values: Values): string {
  const result = runHelm(['template', 'freechat', CHART_DIR, '--namespace', NAMESPACE], values);
  expect(result.status, `helm template should have failed with ${JSON.stringify(values)}`).not.toBe(0);
  return result.stderr;
}

const find = (objects: K8sObject[], kind: string, name?: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const only = (objects: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = find(objects, kind, name);
  expect(found.map((o) => `${o.kind}/${o.metadata.name}`), `exactly one ${kind}${name ? `/${name}` : ''}`).toHaveLength(1);
  return found[0]!;
};
const kindsAndNames = (objects: K8sObject[]): string[] => objects.map((o) => `${o.kind}/${o.metadata.name}`);

/** Every optional feature on, each with extra labels: what `helm lint` must also pass. */
const EVERYTHING_ON: Values = {
  replicas: 2,
  watchNamespace: 'chat',
  logLevel: 'debug',
  image: { registry: 'registry.example.com/freechat', tag: '1.2.3', pullPolicy: 'Always', pullSecrets: ['regcred'] },
  serviceAccount: { create: true, name: 'fc-operator', annotations: { 'example.com/role': 'operator' } },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'operators', effect: 'NoSchedule' }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
  podAnnotations: { 'example.com/a': 'b' },
  podLabels: { team: 'chat' },
  instance: { enabled: true, name: 'chat', namespace: 'chat', spec: { gateway: { replicas: 3 }, observability: { serviceMonitor: true } } },
  monitoring: {
    dashboards: { enabled: true, labels: { team: 'chat' }, annotations: { grafana_folder: 'Free Chat' } },
    prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' }, interval: '15s', scrapeTimeout: '5s' },
  },
};

// The operator's permissions, as the brief for it lists them: [apiGroup, resource, verbs].
const CRUD = ['get', 'list', 'watch', 'create', 'patch', 'delete'];
const NAMESPACED_RULES: [string, string, string[]][] = [
  ['freechat.dev', 'freechats', ['get', 'list', 'watch']],
  ['freechat.dev', 'freechats/status', ['get', 'patch', 'update']],
  ['freechat.dev', 'freechats/finalizers', ['update']],
  ...['configmaps', 'secrets', 'services', 'serviceaccounts'].map((r): [string, string, string[]] => ['', r, CRUD]),
  ['apps', 'deployments', CRUD],
  ['apps', 'statefulsets', CRUD],
  ['batch', 'jobs', CRUD],
  ['policy', 'poddisruptionbudgets', CRUD],
  ['networking.k8s.io', 'networkpolicies', CRUD],
  ['networking.k8s.io', 'ingresses', CRUD],
  ['autoscaling', 'horizontalpodautoscalers', CRUD],
  ['monitoring.coreos.com', 'servicemonitors', CRUD],
  ['', 'events', ['create', 'patch']],
  ['events.k8s.io', 'events', ['create', 'patch']],
];
const CLUSTER_RULES: [string, string, string[]][] = [['apiextensions.k8s.io', 'customresourcedefinitions', ['get', 'list', 'watch']]];

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** A role's rules as one sorted "group resource: verbs" line per group and resource, whatever their grouping. */
function permissions(rules: PolicyRule[]): string[] {
  const lines = rules.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.map((resource) => `${group || 'core'} ${resource}${rule.resourceNames ? `[${[...rule.resourceNames].sort().join(',')}]` : ''}: ${[...rule.verbs].sort().join(',')}`),
    ),
  );
  return lines.sort();
}
const expected = (rules: [string, string, string[]][]): string[] => permissions(rules.map(([g, r, v]) => ({ apiGroups: [g], resources: [r], verbs: v })));

const container = (objects: K8sObject[]) => only(objects, 'Deployment').spec.template.spec.containers[0];
const env = (objects: K8sObject[]): Record<string, unknown> =>
  Object.fromEntries(container(objects).env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));

describe('the freechat chart', () => {
  it('passes `helm lint --strict` with the default values and with every optional feature on', () => {
    for (const values of [{}, EVERYTHING_ON]) {
      const result = runHelm(['lint', '--strict', CHART_DIR], values);
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders exactly the operator and its RBAC with the defaults, each namespaced object in the release namespace', () => {
    const objects = template({}, ['--include-crds']);
    expect(kindsAndNames(objects)).toEqual([
      'CustomResourceDefinition/freechats.freechat.dev',
      'ServiceAccount/freechat-operator',
      'ClusterRole/freechat-operator',
      'ClusterRole/freechat-operator-crds',
      'ClusterRoleBinding/freechat-operator',
      'ClusterRoleBinding/freechat-operator-crds',
      'Role/freechat-operator-leader-election',
      'RoleBinding/freechat-operator-leader-election',
      'Service/freechat-operator',
      'Deployment/freechat-operator',
      'Lease/freechat-operator',
    ]);
    const clusterScoped = ['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
    for (const o of objects) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(clusterScoped.includes(o.kind) ? undefined : NAMESPACE);
    // The CRD is the generated file, unchanged.
    expect(only(objects, 'CustomResourceDefinition')).toEqual(parse(readFileSync(path.join(CHART_DIR, 'crds', 'freechat.dev_freechats.yaml'), 'utf8')));
  });

  it('labels the operator’s objects as the Kubernetes recommended labels say', () => {
    for (const o of template().filter((o) => o.kind !== 'CustomResourceDefinition')) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'freechat',
        'app.kubernetes.io/instance': 'freechat',
        'app.kubernetes.io/version': '0.1.0',
        'app.kubernetes.io/component': 'operator',
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'freechat-0.1.0',
      });
    }
  });

  describe('the operator Deployment (the contract the operator is written to)', () => {
    it('runs <registry>/operator:<appVersion> with its default command, the downward API and the settings as env', () => {
      const objects = template();
      const deployment = only(objects, 'Deployment');
      expect(deployment.spec.replicas).toBe(1);
      const c = container(objects);
      expect(c.image).toBe('freechat/operator:0.1.0');
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(c).not.toHaveProperty('command');
      expect(c).not.toHaveProperty('args');
      expect(deployment.spec.template.spec).not.toHaveProperty('imagePullSecrets');
      expect(env(objects)).toEqual({
        POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
        POD_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } },
        FREECHAT_OPERATOR_WATCH_NAMESPACE: '',
        FREECHAT_OPERATOR_LEADER_ELECTION: 'true',
        FREECHAT_OPERATOR_LEASE_NAME: 'freechat-operator',
        FREECHAT_LOG_LEVEL: 'info',
      });
      expect(deployment.spec).not.toHaveProperty('strategy');
    });

    it('serves /healthz and /readyz on port 8080 named http, which the Service exposes', () => {
      const objects = template();
      const c = container(objects);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      const service = only(objects, 'Service');
      expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
      const podLabels = only(objects, 'Deployment').spec.template.metadata.labels;
      expect(podLabels).toMatchObject(service.spec.selector);
      expect(only(objects, 'Deployment').spec.selector.matchLabels).toEqual(service.spec.selector);
    });

    it('runs as non-root with a read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const objects = template();
      const pod = only(objects, 'Deployment').spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container(objects).securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(pod.automountServiceAccountToken).toBe(true);
      expect(pod.terminationGracePeriodSeconds).toBe(30);
      expect(pod.serviceAccountName).toBe('freechat-operator');
      expect(container(objects).resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } });
    });

    it('takes image, replicas, log level, scheduling and pod metadata from values', () => {
      const objects = template(EVERYTHING_ON);
      const deployment = only(objects, 'Deployment');
      const pod = deployment.spec.template.spec;
      expect(deployment.spec.replicas).toBe(2);
      expect(container(objects).image).toBe('registry.example.com/freechat/operator:1.2.3');
      expect(container(objects).imagePullPolicy).toBe('Always');
      expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
      expect(pod.serviceAccountName).toBe('fc-operator');
      expect(pod.nodeSelector).toEqual(EVERYTHING_ON['nodeSelector']);
      expect(pod.tolerations).toEqual(EVERYTHING_ON['tolerations']);
      expect(pod.affinity).toEqual(EVERYTHING_ON['affinity']);
      expect(deployment.spec.template.metadata.annotations).toEqual({ 'example.com/a': 'b' });
      expect(deployment.spec.template.metadata.labels).toMatchObject({ team: 'chat', 'app.kubernetes.io/component': 'operator' });
      expect(env(objects)).toMatchObject({ FREECHAT_OPERATOR_WATCH_NAMESPACE: 'chat', FREECHAT_LOG_LEVEL: 'debug' });
    });

    it('without leader election: FREECHAT_OPERATOR_LEADER_ELECTION "false", no Lease role, and Recreate so two operators never overlap', () => {
      const objects = template({ leaderElection: { enabled: false } });
      expect(env(objects)['FREECHAT_OPERATOR_LEADER_ELECTION']).toBe('false');
      expect(find(objects, 'Role')).toEqual([]);
      expect(find(objects, 'RoleBinding')).toEqual([]);
      expect(find(objects, 'Lease')).toEqual([]);
      expect(only(objects, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
    });
  });

  describe('RBAC', () => {
    it('grants exactly the operator’s verbs: the namespaced rules in one ClusterRole, reading CRDs in another, no wildcard', () => {
      const objects = template();
      expect(find(objects, 'ClusterRole')).toHaveLength(2);
      expect(permissions(only(objects, 'ClusterRole', 'freechat-operator').rules)).toEqual(expected(NAMESPACED_RULES));
      expect(permissions(only(objects, 'ClusterRole', 'freechat-operator-crds').rules)).toEqual(expected(CLUSTER_RULES));
      const everything = JSON.stringify(objects.filter((o) => o.kind.endsWith('Role')));
      expect(everything).not.toContain('"*"');
      expect(everything).not.toContain('nonResourceURLs');
    });

    it('binds both ClusterRoles cluster-wide to the operator’s ServiceAccount when it watches every namespace', () => {
      const objects = template();
      for (const name of ['freechat-operator', 'freechat-operator-crds']) {
        const binding = only(objects, 'ClusterRoleBinding', name);
        expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'freechat-operator', namespace: NAMESPACE }]);
      }
    });

    it('with watchNamespace, grants the namespaced rules in that namespace only (a RoleBinding), CRDs still cluster-wide', () => {
      const objects = template({ watchNamespace: 'chat' });
      expect(find(objects, 'ClusterRoleBinding').map((b) => b.metadata.name)).toEqual(['freechat-operator-crds']);
      const binding = only(objects, 'RoleBinding', 'freechat-operator');
      expect(binding.metadata.namespace).toBe('chat');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'freechat-operator' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'freechat-operator', namespace: NAMESPACE }]);
    });

    it('creates the operator’s Lease (so uninstalling removes it) and lets the operator get and update only that one', () => {
      const objects = template({ leaderElection: { leaseName: 'my-lease' } });
      expect(only(objects, 'Lease', 'my-lease').metadata.namespace).toBe(NAMESPACE);
      const role = only(objects, 'Role', 'freechat-operator-leader-election');
      expect(role.metadata.namespace).toBe(NAMESPACE);
      expect(permissions(role.rules)).toEqual(['coordination.k8s.io leases[my-lease]: get,update']);
      const binding = only(objects, 'RoleBinding', 'freechat-operator-leader-election');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'freechat-operator', namespace: NAMESPACE }]);
      expect(env(objects)['FREECHAT_OPERATOR_LEASE_NAME']).toBe('my-lease');
    });

    it('binds an existing ServiceAccount when serviceAccount.create is false', () => {
      const objects = template({ serviceAccount: { create: false, name: 'existing' } });
      expect(find(objects, 'ServiceAccount')).toEqual([]);
      for (const binding of [...find(objects, 'ClusterRoleBinding'), ...find(objects, 'RoleBinding')]) {
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'existing', namespace: NAMESPACE }]);
      }
      expect(only(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe('existing');
    });
  });

  describe('optional objects', () => {
    const optionalKinds = ['FreeChat', 'ConfigMap', 'PrometheusRule', 'ServiceMonitor'];

    it('are all off by default', () => {
      expect(template().filter((o) => optionalKinds.includes(o.kind))).toEqual([]);
    });

    it('each renders alone when enabled', () => {
      const cases: [Values, string][] = [
        [{ instance: { enabled: true } }, 'FreeChat'],
        [{ monitoring: { dashboards: { enabled: true } } }, 'ConfigMap'],
        [{ monitoring: { prometheusRule: { enabled: true } } }, 'PrometheusRule'],
        [{ monitoring: { serviceMonitor: { enabled: true } } }, 'ServiceMonitor'],
      ];
      for (const [values, kind] of cases) {
        expect(template(values).filter((o) => optionalKinds.includes(o.kind)).map((o) => o.kind), JSON.stringify(values)).toEqual([kind]);
      }
    });

    it('a FreeChat from instance.*, in the release namespace unless told otherwise', () => {
      const byDefault = only(template({ instance: { enabled: true } }), 'FreeChat');
      expect(byDefault).toMatchObject({ apiVersion: 'freechat.dev/v1alpha1', metadata: { name: 'freechat', namespace: NAMESPACE }, spec: {} });
      const custom = only(template(EVERYTHING_ON), 'FreeChat');
      expect(custom.metadata).toMatchObject({ name: 'chat', namespace: 'chat' });
      expect(custom.spec).toEqual({ gateway: { replicas: 3 }, observability: { serviceMonitor: true } });
    });

    it('refuses a FreeChat outside the watched namespace (the operator would never see it)', () => {
      expect(templateError({ watchNamespace: 'chat', instance: { enabled: true } })).toMatch(/instance\.namespace "freechat-system".*watchNamespace "chat"/);
    });

    it('the Grafana dashboard as a ConfigMap with the sidecar’s label and extra labels', () => {
      const configMap = only(template(EVERYTHING_ON), 'ConfigMap');
      expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', team: 'chat' });
      expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Free Chat' });
      expect(configMap.data).toEqual({ 'freechat.json': readFileSync(path.join(CHART_DIR, 'dashboards', 'freechat.json'), 'utf8') });
      expect(JSON.parse(configMap.data['freechat.json']).uid).toBeTruthy();
    });

    it('the alerting rules as a PrometheusRule whose groups are alerts/freechat.rules.yaml’s', () => {
      const rule = only(template(EVERYTHING_ON), 'PrometheusRule');
      expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
      const source = parse(readFileSync(path.join(CHART_DIR, 'alerts', 'freechat.rules.yaml'), 'utf8')) as { groups: unknown[] };
      expect(source.groups.length).toBeGreaterThan(0);
      expect(rule.spec).toEqual({ groups: source.groups });
    });

    it('a ServiceMonitor scraping the operator’s /metrics through its Service', () => {
      const objects = template(EVERYTHING_ON);
      const monitor = only(objects, 'ServiceMonitor');
      expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
      expect(monitor.spec.selector.matchLabels).toEqual(only(objects, 'Service').spec.selector);
      expect(only(objects, 'Service').metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
    });
  });

  describe('values.schema.json', () => {
    it('refuses wrong values, naming the field', () => {
      expect(templateError({ replicas: 'two' })).toMatch(/'\/replicas': got string, want integer/);
      expect(templateError({ logLevel: 'verbose' })).toMatch(/'\/logLevel': value must be one of/);
      expect(templateError({ image: { pullPolicy: 'Sometimes' } })).toMatch(/'\/image\/pullPolicy'/);
      expect(templateError({ replicaCount: 2 })).toMatch(/additional properties 'replicaCount' not allowed/);
      expect(templateError({ monitoring: { serviceMonitor: { enabled: 'yes' } } })).toMatch(/'\/monitoring\/serviceMonitor\/enabled': got string, want boolean/);
      expect(templateError({ watchNamespace: 'Not_A_Namespace' })).toMatch(/'\/watchNamespace'/);
      // The CRD's own rule for FreeChat names, refused before anything is installed.
      expect(templateError({ instance: { enabled: true, name: '1-chat' } })).toMatch(/'\/instance\/name'/);
      expect(templateError({ instance: { enabled: true, name: 'a'.repeat(31) } })).toMatch(/'\/instance\/name': maxLength/);
    });

    it('refuses more than one operator pod without leader election', () => {
      expect(templateError({ replicas: 2, leaderElection: { enabled: false } })).toMatch(/'\/replicas': maximum: got 2, want 1/);
    });
  });
});

describe('k8s/install/freechat.yaml', () => {
  it('is the chart rendered with its defaults, as `npm run k8s:install` writes it', () => {
    const committed = readFileSync(INSTALL_MANIFEST, 'utf8');
    expect(committed === renderInstallManifest(helm), 'k8s/install/freechat.yaml differs from the chart: run `npm run k8s:install`').toBe(true);
  });

  it('creates its namespace first, with the restricted Pod Security Standard enforced', () => {
    const objects = parseAllDocuments(readFileSync(INSTALL_MANIFEST, 'utf8')).map((doc) => doc.toJS() as K8sObject);
    expect(objects[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'freechat', 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    expect(kindsAndNames(objects.slice(1))).toEqual(kindsAndNames(template({}, ['--include-crds'])));
  });
});
