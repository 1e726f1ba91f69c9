// Who may reach whom: each service only by its callers (NetworkPolicies, ingress only: egress is
// left open so external dependencies and model downloads work), and the optional Ingress.
import type { V1Ingress, V1NetworkPolicy, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import type { FreeChat } from '../api/freechat.js';
import { childName, HEALTH_PORT, labels, METRICS_PORT, selectorLabels, SERVICE_PORTS, type AppComponent } from './names.js';

type Peer = AppComponent | 'consul' | 'rocketmq-broker' | 'rocketmq-namesrv' | 'rocketmq-init';

interface Rule {
  readonly ports: readonly number[];
  /** Pods of this instance allowed in; `anywhere`: every source (the public gateway, scrapers). */
  readonly from: readonly Peer[] | 'anywhere';
}

/** The call graph (docs: gateway → auth, chat, inference; chat → auth, inference; Consul checks everyone's health). */
function rulesFor(fc: FreeChat, target: string): Rule[] {
  const monitoring: Rule = { ports: [METRICS_PORT], from: 'anywhere' };
  // An external Consul checks health from outside this namespace.
  const health: Rule = { ports: [HEALTH_PORT], from: fc.spec.consul.managed ? ['consul'] : 'anywhere' };
  switch (target) {
    case 'gateway':
      return [{ ports: [SERVICE_PORTS.gateway], from: 'anywhere' }, monitoring];
    case 'auth':
      return [{ ports: [SERVICE_PORTS.auth], from: ['gateway', 'chat'] }, health, monitoring];
    case 'chat':
      return [{ ports: [SERVICE_PORTS.chat], from: ['gateway'] }, health, monitoring];
    case 'inference':
      return [{ ports: [SERVICE_PORTS.inference], from: ['gateway', 'chat'] }, health, monitoring];
    case 'postgres':
      return [{ ports: [5432], from: ['auth', 'chat'] }];
    case 'redis':
      return [{ ports: [6379], from: ['gateway', 'chat'] }];
    case 'consul':
      return [{ ports: [8500], from: ['gateway', 'auth', 'chat', 'inference'] }];
    case 'rocketmq-namesrv':
      return [{ ports: [9876], from: ['rocketmq-broker', 'chat', 'rocketmq-init'] }];
    case 'rocketmq-broker':
      return [{ ports: [8081, 10911], from: ['chat', 'rocketmq-init', 'rocketmq-namesrv'] }];
    default:
      return [];
  }
}

function policy(fc: FreeChat, target: string): V1NetworkPolicy {
  const peers = (from: Rule['from']): V1NetworkPolicyPeer[] | undefined =>
    from === 'anywhere' ? undefined : from.map((peer) => ({ podSelector: { matchLabels: selectorLabels(fc, peer) } }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: childName(fc, target), namespace: fc.metadata.namespace, labels: labels(fc, target) },
    spec: {
      podSelector: { matchLabels: selectorLabels(fc, target) },
      policyTypes: ['Ingress'],
      ingress: rulesFor(fc, target).map((rule) => ({
        ports: rule.ports.map((port) => ({ port, protocol: 'TCP' })),
        ...(peers(rule.from) && { _from: peers(rule.from) }),
      })),
    },
  };
}

export function networkPolicies(fc: FreeChat, managed: readonly string[]): V1NetworkPolicy[] {
  if (!fc.spec.security.networkPolicies) return [];
  return [...(['gateway', 'auth', 'chat', 'inference'] as const), ...managed].map((target) => policy(fc, target));
}

export function ingress(fc: FreeChat): V1Ingress[] {
  const spec = fc.spec.gateway.ingress;
  if (!spec.enabled || !spec.host) return [];
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: childName(fc, 'gateway'),
        namespace: fc.metadata.namespace,
        labels: labels(fc, 'gateway'),
        // Answers stream over SSE for minutes: no buffering, no idle cut (ingress-nginx; others ignore these).
        annotations: {
          'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
          'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
        },
      },
      spec: {
        ...(spec.className && { ingressClassName: spec.className }),
        ...(spec.tlsSecretName && { tls: [{ hosts: [spec.host], secretName: spec.tlsSecretName }] }),
        rules: [
          {
            host: spec.host,
            http: {
              paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: childName(fc, 'gateway'), port: { name: 'http' } } } }],
            },
          },
        ],
      },
    },
  ];
}

/** Where people open Free Chat: the ingress host, else the gateway Service inside the cluster. */
export function publicUrl(fc: FreeChat): string {
  const { ingress: spec, service } = fc.spec.gateway;
  if (spec.enabled && spec.host) return `${spec.tlsSecretName ? 'https' : 'http'}://${spec.host}`;
  const port = service.port === 80 ? '' : `:${service.port}`;
  return `http://${childName(fc, 'gateway')}.${fc.metadata.namespace}.svc${port}`;
}
