// The FreeChat custom resource (freechat.dev/v1alpha1): the one source its TypeScript types, the
// CRD's OpenAPI schema (defaults, CEL rules) and the docs come from. Change it here, then
// `npm run crd` rewrites k8s/crd/ and charts/freechat/crds/ (a test fails while they differ).
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { celRules, Opaque, Quantity, StringEnum, StringMap } from './schema-kit.js';

export const GROUP = 'freechat.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'FreeChat';
export const PLURAL = 'freechats';
/** Longest FreeChat name: its pods' host names (<name>-inference-<hash>-<id>) must stay within 63 characters. */
export const MAX_NAME_LENGTH = 30;

const replicas = (fallback: number, description: string) => Type.Integer({ minimum: 0, maximum: 100, default: fallback, description });
const dnsLabel = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

const SecretKeyRef = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: dnsLabel, description: 'A Secret in the FreeChat resource’s namespace.' }),
    key: Type.String({ minLength: 1, description: 'The key in that Secret.' }),
  },
  { description: 'A key of a Secret holding the password (PostgreSQL, Redis): the resource never holds the value itself.' },
);

/** What a managed dependency runs when the resource does not say: the images docker-compose.yml uses. */
export const DEPENDENCY_DEFAULTS = {
  postgres: { image: 'postgres:17-bookworm', storageSize: '10Gi' },
  redis: { image: 'redis:7-bookworm', storageSize: '1Gi' },
  consul: { image: 'hashicorp/consul:1.21', storageSize: '1Gi' },
  rocketmq: { image: 'apache/rocketmq:5.3.2', storageSize: '10Gi' },
} as const;

/**
 * A piece of infrastructure the operator either runs (`managed`) or is told where to find
 * (`external`): exactly one of the two.
 */
const Dependency = (what: string, defaultStorage: string, defaultImage: string) =>
  Type.Object(
    {
      managed: Type.Optional(
        Type.Object(
          {
            image: Type.String({ minLength: 1, default: defaultImage, description: `The ${what} image the operator runs.` }),
            storageSize: Type.Optional(Quantity({ description: `Persistent volume size for ${what}.` })),
            storageClassName: Type.Optional(Type.String({ description: 'Empty: the cluster’s default StorageClass.' })),
          },
          { description: `The operator runs ${what} as a StatefulSet (storage ${defaultStorage} unless storageSize says otherwise).` },
        ),
      ),
      external: Type.Optional(
        Type.Object(
          {
            address: Type.String({ minLength: 1, description: `Where ${what} is reached: host:port or a URL without a password (PostgreSQL host:port means user and database freechat).` }),
            secretRef: Type.Optional(SecretKeyRef),
          },
          { description: `${what} run by someone else.` },
        ),
      ),
    },
    {
      default: { managed: {} },
      description: `${what}: managed by the operator, or external.`,
      ...celRules({ rule: 'has(self.managed) != has(self.external)', message: `set exactly one of managed and external for ${what}` }),
    },
  );

export const FreeChatSpecSchema = Type.Object(
  {
    images: Type.Object(
      {
        registry: Type.String({ default: 'freechat', description: 'Images are <registry>/<service>:<tag>.' }),
        tag: Type.String({ minLength: 1, default: '0.1.0' }),
        pullPolicy: StringEnum(['Always', 'IfNotPresent', 'Never'], { default: 'IfNotPresent' }),
        pullSecrets: Type.Array(Type.String({ pattern: dnsLabel }), { default: [] }),
      },
      { default: {} },
    ),
    gateway: Type.Object(
      {
        replicas: replicas(2, 'Gateway pods (HTTP, SSE and the web UI).'),
        service: Type.Object(
          {
            type: StringEnum(['ClusterIP', 'NodePort', 'LoadBalancer'], { default: 'ClusterIP' }),
            port: Type.Integer({ minimum: 1, maximum: 65535, default: 80 }),
          },
          { default: {} },
        ),
        ingress: Type.Object(
          {
            enabled: Type.Boolean({ default: false }),
            host: Type.Optional(Type.String({ description: 'The public host name.' })),
            className: Type.Optional(Type.String()),
            tlsSecretName: Type.Optional(Type.String({ pattern: dnsLabel, description: 'A TLS Secret for host; empty: plain HTTP.' })),
          },
          { default: {}, ...celRules({ rule: '!self.enabled || has(self.host)', message: 'an enabled ingress needs a host', fieldPath: '.host' }) },
        ),
      },
      { default: {} },
    ),
    auth: Type.Object({ replicas: replicas(2, 'Auth pods.') }, { default: {} }),
    chat: Type.Object({ replicas: replicas(2, 'Chat pods.') }, { default: {} }),
    inference: Type.Object(
      {
        replicas: replicas(1, 'Inference pods when autoscaling is off (`kubectl scale fc/NAME` sets it).'),
        autoscaling: Type.Object(
          {
            enabled: Type.Boolean({ default: false }),
            minReplicas: Type.Integer({ minimum: 1, default: 1 }),
            maxReplicas: Type.Integer({ minimum: 1, default: 4 }),
            targetActiveRequests: Type.Integer({ minimum: 1, default: 4, description: 'Streams per replica the autoscaler aims at.' }),
          },
          { default: {}, ...celRules({ rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas', fieldPath: '.minReplicas' }) },
        ),
        model: Type.Object(
          {
            source: StringEnum(['builtin', 'huggingface', 'pvc'], { default: 'builtin', description: 'builtin: the untrained tiny model, no download.' }),
            repo: Type.Optional(Type.String({ description: 'Hub repo id, e.g. onnx-community/Qwen3-0.6B-ONNX.' })),
            revision: Type.Optional(Type.String({ description: 'Hub revision (branch, tag or commit); empty: main.' })),
            variant: Type.String({ default: 'model', description: 'Which onnx/<variant>.onnx: model, model_fp16, model_q4, …' }),
            claimName: Type.Optional(Type.String({ pattern: dnsLabel, description: 'A PersistentVolumeClaim holding the model (source pvc).' })),
            path: Type.Optional(Type.String({ description: 'The model directory inside that claim.' })),
          },
          {
            default: {},
            ...celRules(
              { rule: "self.source != 'huggingface' || has(self.repo)", message: 'a huggingface model needs a repo', fieldPath: '.repo' },
              { rule: "self.source != 'pvc' || has(self.claimName)", message: 'a pvc model needs a claimName', fieldPath: '.claimName' },
            ),
          },
        ),
        resources: Type.Object(
          {
            requests: Type.Optional(StringMap({ description: 'cpu, memory, …' })),
            limits: Type.Optional(StringMap()),
          },
          { default: {} },
        ),
        nodeSelector: Type.Optional(StringMap()),
        tolerations: Type.Optional(Opaque<unknown[]>('array', { description: 'Kubernetes tolerations, as in a pod spec.' })),
      },
      { default: {} },
    ),
    postgres: Dependency('PostgreSQL', DEPENDENCY_DEFAULTS.postgres.storageSize, DEPENDENCY_DEFAULTS.postgres.image),
    redis: Dependency('Redis', DEPENDENCY_DEFAULTS.redis.storageSize, DEPENDENCY_DEFAULTS.redis.image),
    consul: Dependency('Consul', DEPENDENCY_DEFAULTS.consul.storageSize, DEPENDENCY_DEFAULTS.consul.image),
    rocketmq: Dependency('RocketMQ', DEPENDENCY_DEFAULTS.rocketmq.storageSize, DEPENDENCY_DEFAULTS.rocketmq.image),
    observability: Type.Object(
      {
        logLevel: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'How much every service logs (JSON lines on stdout).' }),
        serviceMonitor: Type.Boolean({ default: false, description: 'Create a ServiceMonitor (Prometheus Operator).' }),
        otlpEndpoint: Type.String({ default: '', description: 'OTLP/HTTP endpoint for traces; empty: tracing off.' }),
        traceSampleRatio: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
      },
      { default: {} },
    ),
    security: Type.Object(
      {
        mtls: Type.Boolean({ default: true, description: 'Mutual TLS between the services.' }),
        networkPolicies: Type.Boolean({ default: true, description: 'Each service reachable only by its callers.' }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export const COMPONENTS = ['gateway', 'auth', 'chat', 'inference', 'postgres', 'redis', 'consul', 'rocketmq'] as const;
export type Component = (typeof COMPONENTS)[number];

const Condition = Type.Object({
  type: Type.String(),
  status: StringEnum(['True', 'False', 'Unknown']),
  reason: Type.String(),
  message: Type.String(),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer()),
});

const ComponentReplicas = Type.Object({ ready: Type.Integer({ minimum: 0 }), desired: Type.Integer({ minimum: 0 }) });

export const FreeChatStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer()),
  conditions: Type.Optional(Type.Array(Condition)),
  /** Ready and desired replicas of each part (managed infrastructure included). */
  components: Type.Optional(
    Type.Object({
      gateway: Type.Optional(ComponentReplicas),
      auth: Type.Optional(ComponentReplicas),
      chat: Type.Optional(ComponentReplicas),
      inference: Type.Optional(ComponentReplicas),
      postgres: Type.Optional(ComponentReplicas),
      redis: Type.Optional(ComponentReplicas),
      consul: Type.Optional(ComponentReplicas),
      rocketmq: Type.Optional(ComponentReplicas),
    }),
  ),
  /** For the scale subresource: inference pods now, and the selector an HPA counts them by. */
  inference: Type.Optional(Type.Object({ replicas: Type.Integer({ minimum: 0 }), selector: Type.String() })),
  url: Type.Optional(Type.String()),
});

export type FreeChatSpec = Static<typeof FreeChatSpecSchema>;

/**
 * The spec with every default filled in, as the API server stores it: the operator never relies on
 * a field's presence for a default (an object stored before a field existed lacks it until rewritten).
 */
export function specWithDefaults(spec: unknown): FreeChatSpec {
  return Value.Default(FreeChatSpecSchema, structuredClone(spec ?? {})) as FreeChatSpec;
}
export type FreeChatStatus = Static<typeof FreeChatStatusSchema>;

export interface FreeChat {
  readonly apiVersion: `${typeof GROUP}/${typeof VERSION}`;
  readonly kind: typeof KIND;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid?: string; readonly generation?: number };
  readonly spec: FreeChatSpec;
  readonly status?: FreeChatStatus;
}
