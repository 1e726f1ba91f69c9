// Making the cluster match a plan: server-side apply of every object (field manager
// freechat-operator, forced: the operator owns what it renders), generated Secrets created only
// when missing, and children the plan no longer has deleted.
import { PatchStrategy, type KubernetesObject, type V1OwnerReference, type V1Secret } from '@kubernetes/client-node';
import { GROUP, KIND, VERSION, type FreeChat } from '../api/freechat.js';
import { FIELD_MANAGER, labels, LABELS } from '../plan/names.js';
import { objectKey, type Plan } from '../plan/plan.js';
import type { GeneratedSecret } from '../plan/secrets.js';
import { OWNED_KINDS, SERVICE_MONITOR_KIND, type Cache } from './informers.js';
import { describeError, statusOf, type Kube } from './kube.js';
import { generateSecretData } from './secret-generator.js';

export function ownerReference(fc: FreeChat): V1OwnerReference {
  if (!fc.metadata.uid) throw new Error(`FreeChat ${fc.metadata.namespace}/${fc.metadata.name} has no uid`);
  return { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: fc.metadata.name, uid: fc.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function owned<T extends KubernetesObject>(object: T, owner: V1OwnerReference): T {
  return { ...object, metadata: { ...object.metadata, ownerReferences: [owner] } };
}

/** Applies in the plan's order, a few at a time; collects failures instead of stopping at the first. */
export async function applyObjects(kube: Kube, fc: FreeChat, objects: readonly KubernetesObject[], parallelism = 6): Promise<string[]> {
  const owner = ownerReference(fc);
  const failures: string[] = [];
  for (let i = 0; i < objects.length; i += parallelism) {
    await Promise.all(
      objects.slice(i, i + parallelism).map(async (object) => {
        try {
          await kube.objects.patch(owned(object, owner), undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
        } catch (error) {
          failures.push(`${objectKey(object)}: ${describeError(error)}`);
        }
      }),
    );
  }
  return failures;
}

const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));

/** Creates each missing generated Secret (in order: a CA before the certificates it signs). Returns the names created. */
export async function ensureGeneratedSecrets(kube: Kube, fc: FreeChat, secrets: readonly GeneratedSecret[], cache: Cache | undefined): Promise<string[]> {
  const namespace = fc.metadata.namespace;
  const read = async (name: string): Promise<Record<string, string> | undefined> => {
    try {
      return decode((await kube.core.readNamespacedSecret({ name, namespace })).data);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const created: string[] = [];
  for (const secret of secrets) {
    if (cache?.get(secret.name, namespace)) continue;
    // The cache may lag a create: ask the API server before generating anything.
    if (await read(secret.name)) continue;
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: secret.name, namespace, labels: labels(fc, secret.component), ownerReferences: [ownerReference(fc)] },
      stringData: await generateSecretData(secret.spec, read),
    };
    try {
      await kube.core.createNamespacedSecret({ namespace, body, fieldManager: FIELD_MANAGER });
      created.push(secret.name);
    } catch (error) {
      // Another reconcile (or replica) created it first: theirs stands.
      if (statusOf(error) !== 409) throw error;
    }
  }
  return created;
}

// Listed objects carry no apiVersion: it comes from the kind.
const apiVersionOf = (kind: string): string => [...OWNED_KINDS, SERVICE_MONITOR_KIND].find((k) => k.kind === kind)!.apiVersion;

/**
 * Deletes children of this FreeChat (by its uid) that the plan no longer lists: an Ingress switched
 * off, a dependency made external, an old init Job. Generated Secrets are kept while the FreeChat
 * lives: a database's volume outlives its StatefulSet, and so must its password.
 */
export async function pruneObjects(kube: Kube, fc: FreeChat, plan: Plan, caches: ReadonlyMap<string, Cache>): Promise<string[]> {
  const wanted = new Set(plan.objects.map(objectKey));
  const removed: string[] = [];
  for (const [kind, cache] of caches) {
    if (kind === 'Secret') continue;
    for (const object of cache.list(fc.metadata.namespace)) {
      const ours = object.metadata?.labels?.[LABELS.instance] === fc.metadata.name && object.metadata?.ownerReferences?.some((ref) => ref.uid === fc.metadata.uid && ref.controller);
      if (!ours || wanted.has(`${kind}/${object.metadata?.name}`)) continue;
      try {
        await kube.objects.delete({ apiVersion: apiVersionOf(kind), kind, metadata: { name: object.metadata!.name!, namespace: fc.metadata.namespace } }, undefined, undefined, undefined, undefined, 'Background');
        removed.push(`${kind}/${object.metadata!.name}`);
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    }
  }
  return removed;
}
