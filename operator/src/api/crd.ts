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
  expandDefaults(schema);
  optionalWhereDefaulted(schema);
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

/**
 * A property with a default is filled in by the API server, so it is not `required` in the CRD (the
 * API server validates each default against its schema without applying nested defaults, and
 * would refuse `default: {}` for an object whose members are all defaulted). The TypeScript type
 * keeps them required: that is what the operator reads back.
 */
function optionalWhereDefaulted(node: Record<string, any>): void {
  const properties = node['properties'] as Record<string, Record<string, any>> | undefined;
  if (properties) {
    if (Array.isArray(node['required'])) {
      node['required'] = (node['required'] as string[]).filter((name) => properties[name]?.['default'] === undefined);
      if ((node['required'] as string[]).length === 0) delete node['required'];
    }
    for (const child of Object.values(properties)) optionalWhereDefaulted(child);
  }
  if (node['items'] && typeof node['items'] === 'object') optionalWhereDefaulted(node['items'] as Record<string, any>);
  if (node['additionalProperties'] && typeof node['additionalProperties'] === 'object') optionalWhereDefaulted(node['additionalProperties'] as Record<string, any>);
}

/**
 * Writes each object default out in full (`default: {}` becomes every member's default, nested):
 * the API server checks a default against the schema's required members and CEL rules as written,
 * without applying the defaults inside it first.
 */
function expandDefaults(node: Record<string, any>): void {
  for (const child of Object.values((node['properties'] ?? {}) as Record<string, Record<string, any>>)) expandDefaults(child);
  if (node['items'] && typeof node['items'] === 'object') expandDefaults(node['items'] as Record<string, any>);
  if (node['default'] !== undefined) node['default'] = withNestedDefaults(node, structuredClone(node['default']));
}

function withNestedDefaults(node: Record<string, any>, value: unknown): unknown {
  const properties = node['properties'] as Record<string, Record<string, any>> | undefined;
  if (!properties || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const object = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(properties)) {
    if (object[name] === undefined && child['default'] !== undefined) object[name] = structuredClone(child['default']);
    if (object[name] !== undefined) object[name] = withNestedDefaults(child, object[name]);
  }
  return object;
}
