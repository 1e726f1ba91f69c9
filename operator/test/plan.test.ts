// The desired state of a FreeChat, computed without a cluster: what the operator would create for
// a given resource, and how it changes when the resource does.
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Job, V1NetworkPolicy, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planFreeChat } from '../src/plan/plan.js';
import { ANNOTATIONS, FIELD_MANAGER, LABELS } from '../src/plan/names.js';
import { freeChat } from './fixtures.js';

const find = <T extends KubernetesObject>(objects: readonly KubernetesObject[], kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`);
  return found as T;
};
const names = (objects: readonly KubernetesObject[], kind: string): string[] =>
  objects.filter((o) => o.kind === kind).map((o) => o.metadata!.name!).sort();
const envOf = (objects: readonly KubernetesObject[], component: string): Record<string, string> =>
  find<V1ConfigMap>(objects, 'ConfigMap', `chat-${component}-config`).data!;
const hashOf = (objects: readonly KubernetesObject[], component: string): string =>
  find<V1Deployment>(objects, 'Deployment', `chat-${component}`).spec!.template.metadata!.annotations![ANNOTATIONS.configHash]!;

describe('planFreeChat', () => {
  const minimal = planFreeChat(freeChat());

  it('turns the minimal resource into the whole platform: four services and managed PostgreSQL, Redis, Consul, RocketMQ', () => {
    expect(names(minimal.objects, 'Deployment')).toEqual(['chat-auth', 'chat-chat', 'chat-gateway', 'chat-inference']);
    expect(names(minimal.objects, 'StatefulSet')).toEqual(['chat-consul', 'chat-postgres', 'chat-redis', 'chat-rocketmq-broker', 'chat-rocketmq-namesrv']);
    expect(names(minimal.objects, 'Job')).toEqual([expect.stringMatching(/^chat-rocketmq-init-[0-9a-f]{8}$/)]);
    expect(names(minimal.objects, 'Service')).toEqual(
      expect.arrayContaining(['chat-gateway', 'chat-auth', 'chat-chat', 'chat-inference', 'chat-postgres', 'chat-rocketmq-broker']),
    );
    expect(minimal.secrets.map((s) => s.name)).toEqual(['chat-auth-signing-key', 'chat-postgres', 'chat-ca', 'chat-gateway-tls', 'chat-auth-tls', 'chat-chat-tls', 'chat-inference-tls']);
    for (const object of minimal.objects) {
      expect(object.metadata?.namespace, `${object.kind}/${object.metadata?.name}`).toBe('team');
      expect(object.metadata?.labels?.[LABELS.managedBy]).toBe(FIELD_MANAGER);
      expect(object.metadata?.labels?.[LABELS.instance]).toBe('chat');
      expect(object.metadata!.name!.length).toBeLessThanOrEqual(63);
    }
  });

  it('wires every service to the managed infrastructure by its in-cluster names, with no secret in a ConfigMap', () => {
    expect(envOf(minimal.objects, 'chat')).toMatchObject({
      DATABASE_URL: 'postgres://freechat@chat-postgres.team.svc:5432/freechat',
      DATABASE_PASSWORD_FILE: '/etc/freechat/postgres/password',
      REDIS_URL: 'redis://chat-redis.team.svc:6379',
      ROCKETMQ_ENDPOINTS: 'chat-rocketmq-broker.team.svc:8081',
      CONSUL_HTTP_ADDR: 'chat-consul.team.svc:8500',
      FREECHAT_CHAT_ADDRESS: '0.0.0.0:50052',
      FREECHAT_ENV: 'production',
      FREECHAT_TLS_CERT_FILE: '/etc/freechat/tls/tls.crt',
      FREECHAT_TLS_SERVER_NAME: 'chat.team.freechat.internal',
    });
    // Registered in Consul by pod IP; certificates name the shared internal name callers check.
    const chatPod = find<V1Deployment>(minimal.objects, 'Deployment', 'chat-chat').spec!.template.spec!;
    expect(chatPod.containers[0]!.env).toContainEqual({ name: 'FREECHAT_ADVERTISE_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    const leaf = minimal.secrets.find((secret) => secret.name === 'chat-chat-tls')!.spec;
    expect(leaf).toMatchObject({ type: 'tls-leaf', hosts: expect.arrayContaining(['chat.team.freechat.internal', 'chat-chat.team.svc']) });
    expect(envOf(minimal.objects, 'auth')).toMatchObject({ FREECHAT_AUTH_SIGNING_KEY_FILE: '/etc/freechat/signing/key.pem' });
    expect(envOf(minimal.objects, 'inference')).toMatchObject({ FREECHAT_MODEL: 'tiny' });
    expect(envOf(minimal.objects, 'gateway')).not.toHaveProperty('DATABASE_URL');
    const postgres = find<V1StatefulSet>(minimal.objects, 'StatefulSet', 'chat-postgres');
    expect(postgres.spec!.template.spec!.containers[0]!.env).toContainEqual({ name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'chat-postgres', key: 'password' } } });
    for (const object of minimal.objects.filter((o) => o.kind === 'ConfigMap')) {
      expect(JSON.stringify(object)).not.toMatch(/password=|:[^/@]+@/i);
    }
  });

  it('runs every pod non-root, with seccomp, no capabilities, and read-only roots for our own services', () => {
    const workloads = minimal.objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind!)) as V1Deployment[];
    for (const workload of workloads) {
      const pod = workload.spec!.template.spec!;
      expect(pod.securityContext, workload.metadata!.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        if (workload.kind === 'Deployment') expect(container.securityContext!.readOnlyRootFilesystem).toBe(true);
      }
    }
  });

  it('probes the services over plain HTTP health and sizes inference’s startup for loading a model', () => {
    const inference = find<V1Deployment>(minimal.objects, 'Deployment', 'chat-inference').spec!.template.spec!;
    const container = inference.containers[0]!;
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.startupProbe!.periodSeconds! * container.startupProbe!.failureThreshold!).toBeGreaterThanOrEqual(600);
    expect(container.lifecycle!.preStop!.sleep!.seconds).toBeGreaterThan(0);
    // preStop + the services' 30 s drain fit in the grace period.
    expect(inference.terminationGracePeriodSeconds).toBeGreaterThan(30 + container.lifecycle!.preStop!.sleep!.seconds);
    const gateway = find<V1Deployment>(minimal.objects, 'Deployment', 'chat-gateway').spec!;
    expect(gateway.strategy!.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(gateway.template.spec!.containers[0]!.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('changes a pod template’s config hash exactly when that component’s configuration changes', () => {
    const traced = planFreeChat(freeChat({ observability: { otlpEndpoint: 'http://otel:4318' } }));
    for (const component of ['gateway', 'auth', 'chat', 'inference']) expect(hashOf(traced.objects, component)).not.toBe(hashOf(minimal.objects, component));
    const rescaled = planFreeChat(freeChat({ gateway: { replicas: 5 } }));
    for (const component of ['gateway', 'auth', 'chat', 'inference']) expect(hashOf(rescaled.objects, component)).toBe(hashOf(minimal.objects, component));
    const model = planFreeChat(freeChat({ inference: { model: { source: 'huggingface', repo: 'onnx-community/Qwen3-0.6B-ONNX' } } }));
    expect(hashOf(model.objects, 'inference')).not.toBe(hashOf(minimal.objects, 'inference'));
    expect(hashOf(model.objects, 'chat')).toBe(hashOf(minimal.objects, 'chat'));
    const verbose = planFreeChat(freeChat({ observability: { logLevel: 'debug' } }));
    for (const component of ['gateway', 'auth', 'chat', 'inference']) {
      expect(envOf(verbose.objects, component)['FREECHAT_LOG_LEVEL']).toBe('debug');
      expect(hashOf(verbose.objects, component)).not.toBe(hashOf(minimal.objects, component));
    }
    expect(envOf(minimal.objects, 'chat')['FREECHAT_LOG_LEVEL']).toBe('info');
    // Same input, same hash: never a timestamp.
    expect(hashOf(planFreeChat(freeChat()).objects, 'chat')).toBe(hashOf(minimal.objects, 'chat'));
  });

  it('leaves inference replicas to the HPA when autoscaling is on, and sets them from the spec when off', () => {
    expect(find<V1Deployment>(minimal.objects, 'Deployment', 'chat-inference').spec!.replicas).toBe(1);
    expect(names(minimal.objects, 'HorizontalPodAutoscaler')).toEqual([]);
    const scaled = planFreeChat(freeChat({ inference: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetActiveRequests: 3 } } }));
    expect(find<V1Deployment>(scaled.objects, 'Deployment', 'chat-inference').spec).not.toHaveProperty('replicas');
    expect(find(scaled.objects, 'HorizontalPodAutoscaler', 'chat-inference')).toMatchObject({
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'chat-inference' }, minReplicas: 2, maxReplicas: 6, metrics: [{ pods: { target: { averageValue: '3' } } }] },
    });
    expect(names(scaled.objects, 'PodDisruptionBudget')).toContain('chat-inference');
  });

  it('uses external services as given: no StatefulSet, their address, the password from the named Secret', () => {
    const plan = planFreeChat(
      freeChat({
        postgres: { external: { address: 'postgres://app@db.example:5432/chat', secretRef: { name: 'db', key: 'pw' } } },
        redis: { external: { address: 'redis://cache.example:6380', secretRef: { name: 'cache', key: 'password' } } },
      }),
    );
    expect(names(plan.objects, 'StatefulSet')).toEqual(['chat-consul', 'chat-rocketmq-broker', 'chat-rocketmq-namesrv']);
    expect(plan.secrets.map((s) => s.name)).not.toContain('chat-postgres');
    expect(envOf(plan.objects, 'auth').DATABASE_URL).toBe('postgres://app@db.example:5432/chat');
    const auth = find<V1Deployment>(plan.objects, 'Deployment', 'chat-auth').spec!.template.spec!;
    expect(auth.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'db', items: [{ key: 'pw', path: 'password' }] }) }));
    // The Redis password joins the URL inside the pod, never in the ConfigMap.
    expect(envOf(plan.objects, 'chat')).not.toHaveProperty('REDIS_URL');
    const chatEnv = find<V1Deployment>(plan.objects, 'Deployment', 'chat-chat').spec!.template.spec!.containers[0]!.env!;
    expect(chatEnv).toContainEqual({ name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@cache.example:6380' });
    expect(chatEnv.findIndex((v) => v.name === 'REDIS_PASSWORD')).toBeLessThan(chatEnv.findIndex((v) => v.name === 'REDIS_URL'));
  });

  it('lets each service be reached only by its callers when network policies are on, and creates none when off', () => {
    const auth = find<V1NetworkPolicy>(minimal.objects, 'NetworkPolicy', 'chat-auth');
    const grpc = auth.spec!.ingress!.find((rule) => rule.ports!.some((p) => p.port === 50051))!;
    expect(grpc._from!.map((peer) => peer.podSelector!.matchLabels![LABELS.component]).sort()).toEqual(['chat', 'gateway']);
    const postgres = find<V1NetworkPolicy>(minimal.objects, 'NetworkPolicy', 'chat-postgres');
    expect(postgres.spec!.ingress![0]!._from!.map((peer) => peer.podSelector!.matchLabels![LABELS.component]).sort()).toEqual(['auth', 'chat']);
    expect(find<V1NetworkPolicy>(minimal.objects, 'NetworkPolicy', 'chat-gateway').spec!.ingress![0]).not.toHaveProperty('_from');
    expect(names(planFreeChat(freeChat({ security: { networkPolicies: false } })).objects, 'NetworkPolicy')).toEqual([]);
  });

  it('without mTLS: no certificates, no TLS settings', () => {
    const plan = planFreeChat(freeChat({ security: { mtls: false } }));
    expect(plan.secrets.map((s) => s.name)).toEqual(['chat-auth-signing-key', 'chat-postgres']);
    expect(envOf(plan.objects, 'chat')).not.toHaveProperty('FREECHAT_TLS_CA_FILE');
  });

  it('creates an Ingress (SSE-friendly, TLS when a secret is named) and trusts the proxy only then', () => {
    expect(names(minimal.objects, 'Ingress')).toEqual([]);
    expect(envOf(minimal.objects, 'gateway')).not.toHaveProperty('FREECHAT_TRUST_PROXY');
    const plan = planFreeChat(freeChat({ gateway: { ingress: { enabled: true, host: 'chat.example.com', className: 'nginx', tlsSecretName: 'chat-tls' } } }));
    expect(find(plan.objects, 'Ingress', 'chat-gateway')).toMatchObject({
      spec: { ingressClassName: 'nginx', tls: [{ hosts: ['chat.example.com'], secretName: 'chat-tls' }], rules: [{ host: 'chat.example.com' }] },
    });
    expect(envOf(plan.objects, 'gateway').FREECHAT_TRUST_PROXY).toBe('true');
  });

  it('names the RocketMQ init Job after what it runs: a new image is a new Job', () => {
    const job = names(minimal.objects, 'Job')[0];
    const other = planFreeChat(freeChat({ rocketmq: { managed: { image: 'registry.local/rocketmq:5.3.3' } } }));
    expect(names(other.objects, 'Job')[0]).not.toBe(job);
    expect(find<V1Job>(minimal.objects, 'Job', job!).spec!.template.spec!.containers[0]!.command!.join(' ')).toContain('message.type=FIFO');
  });

  it('puts the gateway Service on the type and port the resource asks for', () => {
    const plan = planFreeChat(freeChat({ gateway: { service: { type: 'NodePort', port: 8080 } } }));
    expect(find<V1Service>(plan.objects, 'Service', 'chat-gateway').spec).toMatchObject({ type: 'NodePort', ports: [{ name: 'http', port: 8080, targetPort: 'http' }, expect.anything()] });
  });
});
