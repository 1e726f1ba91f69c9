// A ServiceMonitor for the Prometheus Operator, when the resource asks for one (and the cluster
// has its CRD: the controller checks that before applying it).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FreeChat } from '../api/freechat.js';
import { childName, labels, LABELS } from './names.js';

export const SERVICE_MONITOR_CRD = 'servicemonitors.monitoring.coreos.com';

export interface ServiceMonitor extends KubernetesObject {
  readonly spec: Record<string, unknown>;
}

export function serviceMonitor(fc: FreeChat): ServiceMonitor[] {
  if (!fc.spec.observability.serviceMonitor) return [];
  return [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: childName(fc, 'services'), namespace: fc.metadata.namespace, labels: labels(fc, 'monitoring') },
      spec: {
        selector: { matchLabels: { [LABELS.instance]: fc.metadata.name, 'freechat.dev/metrics': 'true' } },
        endpoints: [{ port: 'metrics', interval: '15s' }],
      },
    },
  ];
}
