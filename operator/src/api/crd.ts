// The CustomResourceDefinition of FreeChat, computed from the schema in freechat.ts (pure).
import { MAX_NAME_LENGTH, FreeChatSpecSchema, FreeChatStatusSchema, GROUP, KIND, PLURAL, VERSION } from './freechat.js';

const readyCondition = (field: 'status' | 'reason') => `.status.conditions[?(@.type=="Ready")].${field}`;

/** JSON (a plain object) as `kubectl apply` and the API server take it. */
export function freeChatCrd(): Record<string, unknown> {
  // A JSON round trip: plain data only, as it will be written to YAML and sent to the API server.
  const schema = JSON.parse(
    JSON.stringify({
      type: 'object',
      description: 'Free Chat, the whole platform: gateway, auth, chat, inference and the infrastructure they use.',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec: FreeChatSpecSchema,
        status: FreeChatStatusSchema,
      },
      // Children are named <name>-<part> (Services need DNS-1035 labels) and their pods'
      // <pod>.<name>-<component>-pods DNS names must fit a 63-character host name.
      'x-kubernetes-validations': [
        { rule: `self.metadata.name.size() <= ${MAX_NAME_LENGTH}`, message: `metadata.name must be at most ${MAX_NAME_LENGTH} characters` },
        { rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')", message: 'metadata.name must start with a letter and hold only lowercase letters, digits and dashes' },
      ],
    }),
  ) as Record<string, unknown>;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'freechat' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'freechat', shortNames: ['fc'], categories: ['all'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: {
            status: {},
            // `kubectl scale fc/NAME --replicas=3` and an HPA act on the inference replicas.
            scale: { specReplicasPath: '.spec.inference.replicas', statusReplicasPath: '.status.inference.replicas', labelSelectorPath: '.status.inference.selector' },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: readyCondition('status') },
            { name: 'Reason', type: 'string', jsonPath: readyCondition('reason') },
            { name: 'Inference', type: 'integer', description: 'Inference replicas', jsonPath: '.status.inference.replicas' },
            { name: 'URL', type: 'string', jsonPath: '.status.url' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
