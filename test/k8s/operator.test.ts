// The operator against a real API server (etcd, kube-apiserver, controller-manager, scheduler and
// KWOK nodes whose pods turn Running/Ready), installed with the Helm chart and acting with the
// chart's ServiceAccount: the user's flow (helm install → kubectl apply → Ready → new image tag →
// rolling update → helm uninstall), and what keeps it true (drift, scale, autoscaling, config
// changes, pruning, garbage collection, leader failover). Step times go to test-output/k8s-flow.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/infra/paths.js';
import { eventually } from '../support/eventually.js';
import { helm, kubectl, kubectlJson, withNamespace, type TestNamespace } from './cluster.js';
import { serviceAccountKubeConfig, startTestOperator, SYSTEM_NAMESPACE, type TestOperator } from './operator-harness.js';

interface Obj {
  metadata: { name: string; uid: string; generation?: number; ownerReferences?: { kind: string; name: string; controller?: boolean }[]; annotations?: Record<string, string> };
  spec?: any;
  status?: any;
}
interface List {
  items: Obj[];
}

const timings: Record<string, number> = {};
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[step] = Math.round(performance.now() - started);
  }
}

/** Until `check` stops throwing (its last assertion error is in the failure). */
const settle = (check: () => unknown, options: { timeoutMs?: number } = {}) =>
  eventually('the cluster to settle', async () => {
    await check();
    return true;
  }, options);

const condition = (fc: Obj, type: string) => (fc.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
const waitReady = (ns: string, name = 'freechat', timeout = '90s') => kubectl(['wait', `fc/${name}`, '-n', ns, '--for=condition=Ready', `--timeout=${timeout}`]);
const getFc = (ns: string, name = 'freechat') => kubectlJson<Obj>(['get', 'fc', name, '-n', ns]);
const deploymentsOf = (ns: string) => kubectlJson<List>(['get', 'deployments', '-n', ns, '-l', 'app.kubernetes.io/managed-by=freechat-operator']);

describe('the FreeChat operator on a real API server', () => {
  let operator: TestOperator;
  let standby: TestOperator | undefined;
  let ns: TestNamespace;

  beforeAll(async () => {
    await timed('helm install', () =>
      helm(['install', 'freechat', path.join(REPO_ROOT, 'charts/freechat'), '-n', SYSTEM_NAMESPACE, '--create-namespace', '--wait', '--timeout', '120s']),
    );
    operator = await startTestOperator(await serviceAccountKubeConfig(), 'operator-a');
    await settle(() => expect(operator.isLeader()).toBe(true), { timeoutMs: 15_000 });
    ns = await withNamespace();
  });

  afterAll(async () => {
    await standby?.close();
    await operator?.close();
    await ns?.cleanup();
    mkdirSync(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, 'test-output/k8s-flow.json'), `${JSON.stringify(timings, null, 2)}\n`);
  });

  it('helm install leaves the operator Deployment available, with the CRD from the chart', async () => {
    const deployment = await kubectlJson<Obj>(['get', 'deployment', 'freechat-operator', '-n', SYSTEM_NAMESPACE]);
    expect(deployment.status.availableReplicas).toBe(1);
    expect(deployment.spec.template.spec.containers[0].image).toBe('freechat/operator:0.1.0');
    await kubectl(['get', 'crd', 'freechats.freechat.dev']);
  });

  it('turns k8s/samples/minimal.yaml into a Ready platform: every child created, owned, and reported in kubectl get fc', async () => {
    await timed('kubectl apply minimal → Ready', async () => {
      await kubectl(['apply', '-n', ns.name, '-f', path.join(REPO_ROOT, 'k8s/samples/minimal.yaml')]);
      await waitReady(ns.name);
    });
    const fc = await getFc(ns.name);
    for (const type of ['Ready', 'GatewayReady', 'AuthReady', 'ChatReady', 'InferenceReady', 'PostgresReady', 'RedisReady', 'ConsulReady', 'RocketMQReady']) {
      expect(condition(fc, type), type).toMatchObject({ status: 'True', observedGeneration: fc.metadata.generation });
    }
    expect(fc.status.observedGeneration).toBe(fc.metadata.generation);
    expect(fc.status.components.gateway).toEqual({ ready: 2, desired: 2 });
    expect(fc.status.url).toBe(`http://freechat-gateway.${ns.name}.svc`);

    const deployments = await deploymentsOf(ns.name);
    expect(deployments.items.map((d) => d.metadata.name).sort()).toEqual(['freechat-auth', 'freechat-chat', 'freechat-gateway', 'freechat-inference']);
    for (const deployment of deployments.items) {
      expect(deployment.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'FreeChat', name: 'freechat', controller: true })]);
      expect(deployment.spec.template.spec.containers[0].image).toMatch(/^freechat\/(gateway|auth|chat|inference):0\.1\.0$/);
      expect(deployment.spec.template.metadata.annotations['freechat.dev/config-hash']).toMatch(/^[0-9a-f]{16}$/);
    }
    const statefulSets = await kubectlJson<List>(['get', 'statefulsets', '-n', ns.name]);
    expect(statefulSets.items.map((s) => s.metadata.name).sort()).toEqual(['freechat-consul', 'freechat-postgres', 'freechat-redis', 'freechat-rocketmq-broker', 'freechat-rocketmq-namesrv']);
    const secrets = await kubectlJson<List>(['get', 'secrets', '-n', ns.name, '-l', 'app.kubernetes.io/managed-by=freechat-operator']);
    expect(secrets.items.map((s) => s.metadata.name)).toEqual(expect.arrayContaining(['freechat-auth-signing-key', 'freechat-postgres', 'freechat-ca', 'freechat-chat-tls']));

    const table = await kubectl(['get', 'fc', '-n', ns.name]);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+REASON\s+INFERENCE\s+URL\s+AGE/);
    expect(table.split('\n')[1]).toMatch(new RegExp(`^freechat\\s+True\\s+Available\\s+1\\s+http://freechat-gateway\\.${ns.name}\\.svc`));
    const events = await kubectl(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.kind=FreeChat']);
    expect(events).toMatch(/SecretsGenerated/);
    expect(events).toMatch(/Ready/);
  });

  it('serves /readyz and /metrics with its reconciles, durations and queue depth', async () => {
    expect((await fetch(`http://127.0.0.1:${operator.port}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
    expect(Number(/freechat_operator_reconciles_total\{result="success",service="operator"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/freechat_operator_reconcile_duration_seconds_count\{service="operator"\} [1-9]/);
    expect(metrics).toMatch(/freechat_operator_queue_depth\{service="operator"\} \d+/);
    expect(metrics).toMatch(/freechat_operator_leader\{service="operator"\} 1/);
  });

  it('restores a deleted child and reverts an edited one', async () => {
    const before = await kubectlJson<Obj>(['get', 'service', 'freechat-auth', '-n', ns.name]);
    await timed('deleted Service restored', async () => {
      await kubectl(['delete', 'service', 'freechat-auth', '-n', ns.name]);
      await settle(async () => {
        const after = await kubectlJson<Obj>(['get', 'service', 'freechat-auth', '-n', ns.name]);
        expect(after.metadata.uid).not.toBe(before.metadata.uid);
      });
    });
    await kubectl(['set', 'image', 'deployment/freechat-chat', '-n', ns.name, 'chat=evil/chat:latest']);
    await settle(async () => {
      const chat = await kubectlJson<Obj>(['get', 'deployment', 'freechat-chat', '-n', ns.name]);
      expect(chat.spec.template.spec.containers[0].image).toBe('freechat/chat:0.1.0');
    });
  });

  it('keeps the generated secrets across reconciles: the JWT signing key never changes', async () => {
    const key = await kubectl(['get', 'secret', 'freechat-auth-signing-key', '-n', ns.name, '-o', 'jsonpath={.data.key\\.pem}']);
    await kubectl(['annotate', 'fc/freechat', '-n', ns.name, 'test/poke=1', '--overwrite']);
    await kubectl(['delete', 'service', 'freechat-chat', '-n', ns.name]);
    await settle(() => kubectl(['get', 'service', 'freechat-chat', '-n', ns.name]));
    expect(await kubectl(['get', 'secret', 'freechat-auth-signing-key', '-n', ns.name, '-o', 'jsonpath={.data.key\\.pem}'])).toBe(key);
  });

  it('kubectl scale fc/… sets the inference replicas through the scale subresource', async () => {
    await timed('kubectl scale → 3 inference Ready', async () => {
      await kubectl(['scale', 'fc/freechat', '-n', ns.name, '--replicas=3']);
      await settle(async () => {
        const fc = await getFc(ns.name);
        expect(fc.status.inference.replicas).toBe(3);
        expect(condition(fc, 'Ready').status).toBe('True');
      }, { timeoutMs: 60_000 });
    });
    const inference = await kubectlJson<Obj>(['get', 'deployment', 'freechat-inference', '-n', ns.name]);
    expect(inference.spec.replicas).toBe(3);
    expect(await kubectl(['get', 'fc', 'freechat', '-n', ns.name, '-o', 'jsonpath={.status.inference.selector}'])).toBe(
      'app.kubernetes.io/name=freechat,app.kubernetes.io/instance=freechat,app.kubernetes.io/component=inference',
    );
    expect(await kubectl(['get', 'pdb', 'freechat-inference', '-n', ns.name, '-o', 'name'])).toContain('freechat-inference');
  });

  it('rolls every service when the configuration changes, and reports Ready again', async () => {
    const hashes = async () =>
      Object.fromEntries((await deploymentsOf(ns.name)).items.map((d) => [d.metadata.name, d.spec.template.metadata.annotations['freechat.dev/config-hash']]));
    const before = await hashes();
    await timed('config change → rolled and Ready', async () => {
      await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"observability":{"otlpEndpoint":"http://collector.observability:4318"}}}']);
      await settle(async () => {
        const after = await hashes();
        for (const name of Object.keys(before)) expect(after[name], name).not.toBe(before[name]);
      });
      await settle(async () => {
        const fc = await getFc(ns.name);
        expect(fc.status.observedGeneration).toBe(fc.metadata.generation);
        expect(condition(fc, 'Ready').status).toBe('True');
      }, { timeoutMs: 60_000 });
    });
    const config = await kubectlJson<Obj & { data: Record<string, string> }>(['get', 'configmap', 'freechat-chat-config', '-n', ns.name]);
    expect(config.data['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('http://collector.observability:4318');
  });

  it('a new image tag rolls out to every service and ends Ready', async () => {
    await timed('image tag change → rolled out and Ready', async () => {
      await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"images":{"tag":"0.2.0"}}}']);
      await settle(async () => {
        const fc = await getFc(ns.name);
        expect(condition(fc, 'Ready')).toMatchObject({ status: 'True', observedGeneration: fc.metadata.generation });
        const deployments = await deploymentsOf(ns.name);
        for (const d of deployments.items) {
          expect(d.spec.template.spec.containers[0].image).toMatch(/:0\.2\.0$/);
          expect(d.status.updatedReplicas).toBe(d.spec.replicas);
        }
      }, { timeoutMs: 90_000 });
    });
    // Every gateway pod still running and not on its way out runs the new image.
    const pods = await kubectlJson<List>(['get', 'pods', '-n', ns.name, '-l', 'app.kubernetes.io/component=gateway']);
    const serving = pods.items.filter((p) => p.status.phase === 'Running' && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    expect(serving.length).toBeGreaterThan(0);
    expect(serving.map((p) => p.spec.containers[0].image)).toEqual(serving.map(() => 'freechat/gateway:0.2.0'));
  });

  it('hands inference replicas to the HPA when autoscaling is on', async () => {
    await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"inference":{"autoscaling":{"enabled":true,"minReplicas":2,"maxReplicas":5}}}}']);
    await settle(async () => {
      const hpa = await kubectlJson<Obj>(['get', 'hpa', 'freechat-inference', '-n', ns.name]);
      expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'freechat-inference' } });
    });
    // The real HPA controller acts first: with no metrics it still enforces minReplicas (2).
    await settle(async () => expect((await kubectlJson<Obj>(['get', 'deployment', 'freechat-inference', '-n', ns.name])).spec.replicas).toBe(2), { timeoutMs: 30_000 });
    // What the HPA would do on load: the operator must not undo it.
    await kubectl(['scale', 'deployment/freechat-inference', '-n', ns.name, '--replicas=4']);
    await kubectl(['annotate', 'fc/freechat', '-n', ns.name, 'test/poke=2', '--overwrite']);
    await settle(async () => {
      const fc = await getFc(ns.name);
      expect(fc.status.inference.replicas).toBe(4);
    }, { timeoutMs: 30_000 });
    expect((await kubectlJson<Obj>(['get', 'deployment', 'freechat-inference', '-n', ns.name])).spec.replicas).toBe(4);
    const managers = (await kubectlJson<Obj & { metadata: { managedFields: { manager: string; fieldsV1: any }[] } }>(['get', 'deployment', 'freechat-inference', '-n', ns.name, '--show-managed-fields']))
      .metadata.managedFields.filter((f) => f.manager === 'freechat-operator');
    expect(managers.some((f) => f.fieldsV1?.['f:spec']?.['f:replicas'])).toBe(false);
  });

  it('creates an Ingress when asked and removes it when no longer asked', async () => {
    await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"gateway":{"ingress":{"enabled":true,"host":"chat.example.com"}}}}']);
    await settle(async () => expect(await kubectl(['get', 'ingress', '-n', ns.name, '-o', 'name'])).toContain('freechat-gateway'));
    expect(await kubectl(['get', 'fc', 'freechat', '-n', ns.name, '-o', 'jsonpath={.status.url}'])).toBe('http://chat.example.com');
    await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"gateway":{"ingress":{"enabled":false}}}}']);
    await settle(async () => expect(await kubectl(['get', 'ingress', '-n', ns.name, '-o', 'name'])).toBe(''));
  });

  it('creates a ServiceMonitor once the Prometheus Operator’s CRD exists, and says why not before', async () => {
    await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"observability":{"serviceMonitor":true}}}']);
    await settle(async () => expect(await kubectl(['get', 'events', '-n', ns.name, '--field-selector', 'reason=ServiceMonitorUnavailable', '-o', 'name'])).not.toBe(''));
    // Still Ready: a missing optional CRD is an event, not a failure (settled: a loaded API server can
    // restart the operator's watches, and Ready is re-evaluated meanwhile).
    await settle(async () => expect((await getFc(ns.name)).status.conditions[0].status).toBe('True'));
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'servicemonitors.monitoring.coreos.com' },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { kind: 'ServiceMonitor', plural: 'servicemonitors', singular: 'servicemonitor', listKind: 'ServiceMonitorList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
    try {
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(crd) });
      await kubectl(['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com']);
      await kubectl(['annotate', 'fc/freechat', '-n', ns.name, 'test/poke=3', '--overwrite']);
      await settle(async () => {
        const monitor = await kubectlJson<Obj>(['get', 'servicemonitor', 'freechat-services', '-n', ns.name]);
        expect(monitor.spec).toMatchObject({ endpoints: [{ port: 'metrics' }], selector: { matchLabels: { 'app.kubernetes.io/instance': 'freechat' } } });
      });
    } finally {
      await kubectl(['patch', 'fc/freechat', '-n', ns.name, '--type=merge', '-p', '{"spec":{"observability":{"serviceMonitor":false}}}']);
      await kubectl(['delete', 'crd', 'servicemonitors.monitoring.coreos.com', '--ignore-not-found']);
    }
  });

  it('runs only what is managed: the external sample gets no PostgreSQL or Redis StatefulSet and reports them External', async () => {
    const external = await withNamespace();
    try {
      const sample = readFileSync(path.join(REPO_ROOT, 'k8s/samples/external.yaml'), 'utf8');
      await kubectl(['apply', '-n', external.name, '-f', '-'], { input: sample });
      const name = (await kubectl(['get', 'fc', '-n', external.name, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
      await settle(async () => {
        const fc = await getFc(external.name, name);
        expect(condition(fc, 'PostgresReady')).toMatchObject({ status: 'True', reason: 'External' });
      });
      const statefulSets = (await kubectlJson<List>(['get', 'statefulsets', '-n', external.name])).items.map((s) => s.metadata.name).sort();
      expect(statefulSets).toEqual([`${name}-consul`, `${name}-rocketmq-broker`, `${name}-rocketmq-namesrv`]);
      const chat = await kubectlJson<Obj & { data: Record<string, string> }>(['get', 'configmap', `${name}-chat-config`, '-n', external.name]);
      expect(chat.data['DATABASE_URL']).toBe('postgres://freechat@postgres.databases.svc:5432/freechat');
    } finally {
      await external.cleanup();
    }
  });

  it('two operator replicas: one leads, the other takes over when it stops', async () => {
    standby = await startTestOperator(await serviceAccountKubeConfig(), 'operator-b');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(standby.isLeader()).toBe(false);
    expect(operator.isLeader()).toBe(true);
    await timed('leader failover', async () => {
      await operator.close();
      await settle(() => expect(standby!.isLeader()).toBe(true), { timeoutMs: 15_000 });
    });
    // The new leader reconciles: a deleted child comes back.
    await kubectl(['delete', 'configmap', 'freechat-gateway-config', '-n', ns.name]);
    await settle(() => kubectl(['get', 'configmap', 'freechat-gateway-config', '-n', ns.name]));
    const lease = await kubectlJson<Obj>(['get', 'lease', 'freechat-operator', '-n', SYSTEM_NAMESPACE]);
    expect(lease.spec.holderIdentity).toBe('operator-b');
  });

  it('a replica takes over from a leader that crashed (stopped renewing without releasing the Lease)', async () => {
    await standby!.close();
    standby = undefined;
    const renewTime = new Date().toISOString().replace('Z', '000Z');
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'freechat-operator', namespace: SYSTEM_NAMESPACE },
        spec: { holderIdentity: 'crashed-replica', leaseDurationSeconds: 3, renewTime, acquireTime: renewTime, leaseTransitions: 5 },
      }),
    });
    const started = Date.now();
    standby = await startTestOperator(await serviceAccountKubeConfig(), 'operator-c');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(standby.isLeader()).toBe(false);
    await settle(() => expect(standby!.isLeader()).toBe(true), { timeoutMs: 15_000 });
    timings['failover after a crash (3 s lease)'] = Date.now() - started;
    const lease = await kubectlJson<Obj>(['get', 'lease', 'freechat-operator', '-n', SYSTEM_NAMESPACE]);
    expect(lease.spec).toMatchObject({ holderIdentity: 'operator-c', leaseTransitions: 6 });
  });

  it('deleting the FreeChat garbage-collects every child; helm uninstall leaves no operator objects', async () => {
    await timed('kubectl delete fc → children gone', async () => {
      await kubectl(['delete', 'fc/freechat', '-n', ns.name, '--wait=true']);
      await settle(async () => {
        const left = await kubectl(['get', 'deployments,statefulsets,services,configmaps,secrets,jobs,networkpolicies,pdb,hpa', '-n', ns.name, '-l', 'app.kubernetes.io/managed-by=freechat-operator', '-o', 'name']);
        expect(left.trim()).toBe('');
      }, { timeoutMs: 60_000 });
    });
    await timed('helm uninstall', () => helm(['uninstall', 'freechat', '-n', SYSTEM_NAMESPACE, '--wait', '--timeout', '60s']));
    const left = await kubectl(['get', 'deployments,services,serviceaccounts,roles,rolebindings', '-n', SYSTEM_NAMESPACE, '-l', 'app.kubernetes.io/instance=freechat', '-o', 'name']);
    expect(left.trim()).toBe('');
    // The leader-election Lease too: the chart made it, so it goes with the release.
    expect((await kubectl(['get', 'leases', '-n', SYSTEM_NAMESPACE, '-o', 'name'])).trim()).toBe('');
    expect(await kubectl(['get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=freechat', '-o', 'name'])).toBe('');
  });
});
