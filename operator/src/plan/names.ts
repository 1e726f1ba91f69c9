// Names, labels and ports every child of a FreeChat shares: the one place that says what a child
// is called, so the plans, the controller's informers and the tests agree.
import type { FreeChat } from '../api/freechat.js';

export const FIELD_MANAGER = 'freechat-operator';

/** The four Free Chat services, each a Deployment. */
export const APP_COMPONENTS = ['gateway', 'auth', 'chat', 'inference'] as const;
export type AppComponent = (typeof APP_COMPONENTS)[number];

/** Infrastructure the operator can run itself, each a StatefulSet (RocketMQ: two). */
export const DEPENDENCIES = ['postgres', 'redis', 'consul', 'rocketmq'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/** gRPC (auth, chat, inference) or HTTP (gateway) port each service listens on. */
export const SERVICE_PORTS: Readonly<Record<AppComponent, number>> = { gateway: 3000, auth: 50051, chat: 50052, inference: 50053 };
/** Prometheus /metrics of every service. */
export const METRICS_PORT = 9464;
/** Plain-HTTP /healthz and /readyz of the gRPC services: kubelet and Consul cannot present a client certificate. */
export const HEALTH_PORT = 8086;

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  version: 'app.kubernetes.io/version',
} as const;

export const ANNOTATIONS = {
  /** On pod templates: a hash of everything rendered into the pods' configuration. */
  configHash: 'freechat.dev/config-hash',
} as const;

/** Every child carries this; informers watch only objects with it. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${FIELD_MANAGER}`;

export type Owner = Pick<FreeChat, 'metadata'>;

/** `<instance>-<part>`: instance names are DNS-1035 labels of at most 30 characters (CRD rules), so this fits. */
export const childName = (fc: Owner, part: string): string => `${fc.metadata.name}-${part}`;

/** Labels that select one component's pods (never change: Deployment selectors are immutable). */
export function selectorLabels(fc: Owner, component: string): Record<string, string> {
  return { [LABELS.name]: 'freechat', [LABELS.instance]: fc.metadata.name, [LABELS.component]: component };
}

export function labels(fc: Owner, component: string): Record<string, string> {
  return { ...selectorLabels(fc, component), [LABELS.partOf]: 'freechat', [LABELS.managedBy]: FIELD_MANAGER };
}

/** `key=value,…` as a label selector string. */
export const selectorString = (selector: Record<string, string>): string =>
  Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

/** In-cluster DNS name of a Service of this instance. */
export const serviceHost = (fc: Owner, part: string): string => `${childName(fc, part)}.${fc.metadata.namespace}.svc`;

/**
 * The one name every service certificate of an instance carries, and that callers check servers
 * against: instances are found in Consul by pod IP, which no certificate made in advance can name.
 */
export const internalServerName = (fc: Owner): string => `${fc.metadata.name}.${fc.metadata.namespace}.freechat.internal`;
