// Watches: every FreeChat, and every kind the operator creates (only objects carrying its
// managed-by label). A change to a child enqueues the FreeChat that controls it.
import { makeInformer, type Informer, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION, type FreeChat } from '../api/freechat.js';
import { MANAGED_SELECTOR } from '../plan/names.js';
import type { Kube } from './kube.js';

export interface WatchedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
}

/** What the operator creates and therefore watches (and prunes). */
export const OWNED_KINDS: readonly WatchedKind[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses' },
];

export const SERVICE_MONITOR_KIND: WatchedKind = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', plural: 'servicemonitors' };

function collectionPath({ apiVersion, plural }: WatchedKind, namespace: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
}

export type Cache<T extends KubernetesObject = KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface Informers {
  readonly freeChats: Cache<FreeChat & KubernetesObject>;
  /** By kind. */
  readonly children: ReadonlyMap<string, Cache>;
  /** Resolves once every cache holds its first list. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `namespace/name` of the FreeChat that controls `object`, if one does. */
export function controllerKey(object: KubernetesObject): string | undefined {
  const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller && ref.kind === KIND && ref.apiVersion === `${GROUP}/${VERSION}`);
  return owner && object.metadata?.namespace ? `${object.metadata.namespace}/${owner.name}` : undefined;
}

export const keyOf = (object: KubernetesObject): string => `${object.metadata?.namespace}/${object.metadata?.name}`;

export function createInformers(
  kube: Kube,
  options: { readonly namespace: string; readonly kinds: readonly WatchedKind[]; readonly enqueue: (key: string) => void; readonly onError: (kind: string, error: unknown) => void },
): Informers {
  const { namespace, enqueue } = options;
  const list = (kind: WatchedKind, labelSelector?: string) => () =>
    kube.objects.list(kind.apiVersion, kind.kind, namespace || undefined, undefined, undefined, undefined, undefined, labelSelector) as never;

  const freeChatKind: WatchedKind = { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, plural: PLURAL };
  const freeChats = makeInformer<FreeChat & KubernetesObject>(kube.config, collectionPath(freeChatKind, namespace), list(freeChatKind));
  for (const verb of ['add', 'update', 'delete'] as const) freeChats.on(verb, (fc) => enqueue(keyOf(fc)));

  const children = new Map<string, Cache>();
  for (const kind of options.kinds) {
    const informer = makeInformer<KubernetesObject>(kube.config, collectionPath(kind, namespace), list(kind, MANAGED_SELECTOR), MANAGED_SELECTOR);
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (object) => {
        const key = controllerKey(object);
        if (key) enqueue(key);
      });
    }
    children.set(kind.kind, informer);
  }

  const all: Cache[] = [freeChats as unknown as Cache, ...children.values()];
  let stopped = false;
  // The client's informers stop on a watch error; restart after a pause (the list refreshes the cache).
  all.forEach((informer, index) => {
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      options.onError(index === 0 ? KIND : options.kinds[index - 1]!.kind, error);
      setTimeout(() => {
        if (!stopped) void informer.start().catch((e: unknown) => options.onError('restart', e));
      }, 2000).unref();
    });
  });

  return {
    freeChats,
    children,
    start: async () => {
      await Promise.all(all.map((informer) => informer.start()));
    },
    stop: async () => {
      stopped = true;
      await Promise.all(all.map((informer) => informer.stop()));
    },
  };
}
