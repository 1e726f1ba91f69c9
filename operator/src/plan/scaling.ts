// Replica bounds: the inference autoscaler and disruption budgets for replicated services.
import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { FreeChat } from '../api/freechat.js';
import { APP_COMPONENTS, childName, labels, selectorLabels } from './names.js';

/** The inference gauge the HPA averages over pods (needs a custom-metrics adapter such as prometheus-adapter). */
export const AUTOSCALING_METRIC = 'freechat_inference_requests_running';

export function inferenceAutoscaler(fc: FreeChat): V2HorizontalPodAutoscaler[] {
  const autoscaling = fc.spec.inference.autoscaling;
  if (!autoscaling.enabled) return [];
  return [
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: childName(fc, 'inference'), namespace: fc.metadata.namespace, labels: labels(fc, 'inference') },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: childName(fc, 'inference') },
        minReplicas: autoscaling.minReplicas,
        maxReplicas: autoscaling.maxReplicas,
        metrics: [
          {
            type: 'Pods',
            pods: { metric: { name: AUTOSCALING_METRIC }, target: { type: 'AverageValue', averageValue: String(autoscaling.targetActiveRequests) as never } },
          },
        ],
        // A model takes a while to load: scale up promptly, down only after five quiet minutes.
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    },
  ];
}

/** At most one pod of a replicated service away at a time during node drains. */
export function disruptionBudgets(fc: FreeChat): V1PodDisruptionBudget[] {
  return APP_COMPONENTS.filter((component) => {
    if (component === 'inference') return fc.spec.inference.autoscaling.enabled ? fc.spec.inference.autoscaling.minReplicas > 1 : fc.spec.inference.replicas > 1;
    return fc.spec[component].replicas > 1;
  }).map((component) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: childName(fc, component), namespace: fc.metadata.namespace, labels: labels(fc, component) },
    spec: { maxUnavailable: 1 as never, selector: { matchLabels: selectorLabels(fc, component) } },
  }));
}
