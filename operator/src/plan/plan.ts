// The desired state of one FreeChat: every child object, computed from the resource alone. Pure:
// the controller applies what this returns (and prunes what it no longer returns).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FreeChat } from '../api/freechat.js';
import { managedDependencies, managedParts } from './dependencies.js';
import { APP_COMPONENTS } from './names.js';
import { ingress, networkPolicies } from './network.js';
import { serviceMonitor } from './observability.js';
import { disruptionBudgets, inferenceAutoscaler } from './scaling.js';
import { generatedSecrets, type GeneratedSecret } from './secrets.js';
import { appServiceAccount, deployment, service, serviceConfigMap } from './workloads.js';

export interface Plan {
  /** Applied with server-side apply on every reconcile, in this order. */
  readonly objects: readonly KubernetesObject[];
  /** Created when missing, never updated. */
  readonly secrets: readonly GeneratedSecret[];
}

export function planFreeChat(fc: FreeChat): Plan {
  const objects: KubernetesObject[] = [
    appServiceAccount(fc),
    // Infrastructure first: the services wait for it anyway, and it is slowest to become ready.
    ...managedDependencies(fc),
    ...APP_COMPONENTS.flatMap((component) => [serviceConfigMap(fc, component), service(fc, component), deployment(fc, component)]),
    ...inferenceAutoscaler(fc),
    ...disruptionBudgets(fc),
    ...networkPolicies(fc, managedParts(fc)),
    ...ingress(fc),
    ...serviceMonitor(fc),
  ];
  return { objects, secrets: generatedSecrets(fc) };
}

/** `Kind/name`: how a child is identified within its FreeChat's namespace. */
export const objectKey = (object: KubernetesObject): string => `${object.kind}/${object.metadata?.name}`;
