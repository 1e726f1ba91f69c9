// Kubernetes Events on a FreeChat, so `kubectl describe fc` tells its story (Ready changes, apply
// failures, generated secrets). Best effort: an Event that cannot be written is only logged.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from '@freechat/shared';
import { GROUP, KIND, VERSION, type FreeChat } from '../api/freechat.js';
import { FIELD_MANAGER } from '../plan/names.js';
import type { Kube } from './kube.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(fc: FreeChat, type: EventType, reason: string, message: string): Promise<void>;
}

export function createEventRecorder(kube: Kube, logger: Logger, instance: string): EventRecorder {
  return {
    async record(fc, type, reason, message) {
      const now = new Date();
      const body: CoreV1Event = {
        metadata: { generateName: `${fc.metadata.name}.`, namespace: fc.metadata.namespace },
        involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: fc.metadata.name, namespace: fc.metadata.namespace, uid: fc.metadata.uid },
        type,
        reason,
        // The API server refuses messages over 1 KiB.
        message: message.slice(0, 1000),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: FIELD_MANAGER },
        reportingComponent: `${GROUP}/${FIELD_MANAGER}`,
        reportingInstance: instance,
      };
      try {
        await kube.core.createNamespacedEvent({ namespace: fc.metadata.namespace, body });
      } catch (error) {
        logger.warn({ err: error, reason }, 'could not record event');
      }
    },
  };
}
