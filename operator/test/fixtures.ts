// A FreeChat as the API server hands it to the operator: defaults filled in.
import { specWithDefaults, type FreeChat } from '../src/api/freechat.js';

export function freeChat(spec: Record<string, unknown> = {}, name = 'chat', namespace = 'team'): FreeChat {
  return {
    apiVersion: 'freechat.dev/v1alpha1',
    kind: 'FreeChat',
    metadata: { name, namespace, uid: '6f1c0e3a-0000-4000-8000-000000000001', generation: 3 },
    spec: specWithDefaults(spec),
  };
}
