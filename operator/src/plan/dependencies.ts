// Managed infrastructure: PostgreSQL, Redis, Consul and RocketMQ (name server + broker with its gRPC
// proxy) as single-replica StatefulSets with persistent volumes, and a Job creating RocketMQ's topic
// and consumer group before chat needs them. Only for parts the resource marks `managed`.
import type { V1ConfigMap, V1Container, V1Job, V1Probe, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { DEPENDENCY_DEFAULTS, type FreeChat } from '../api/freechat.js';
import { POSTGRES_DATABASE, POSTGRES_USER, postgresSecretName } from './endpoints.js';
import { childName, labels, selectorLabels, serviceHost, type Dependency } from './names.js';
import { containerSecurity, podSecurity } from './pod-security.js';
import { configHash } from './service-config.js';

/** What chat publishes to and consumes from (config/chat.yaml events.topic / consumerGroup). */
export const ROCKETMQ_TOPIC = 'freechat-events';
export const ROCKETMQ_CONSUMER_GROUP = 'freechat-chat';

interface Server {
  /** Child name suffix and component label. */
  readonly part: string;
  readonly dependency: Dependency;
  readonly uid: number;
  readonly ports: readonly { readonly name: string; readonly port: number }[];
  readonly dataPath: string;
  readonly container: Omit<V1Container, 'name' | 'image' | 'ports' | 'volumeMounts' | 'securityContext'>;
}

const tcpProbe = (port: string, failureThreshold = 3): V1Probe => ({ tcpSocket: { port: port as never }, periodSeconds: 2, failureThreshold });

function servers(fc: FreeChat): Server[] {
  const namesrv = `${serviceHost(fc, 'rocketmq-namesrv')}:9876`;
  const list: Server[] = [];
  if (fc.spec.postgres.managed) {
    list.push({
      part: 'postgres',
      dependency: 'postgres',
      uid: 999,
      ports: [{ name: 'postgres', port: 5432 }],
      dataPath: '/var/lib/postgresql/data',
      container: {
        env: [
          { name: 'POSTGRES_USER', value: POSTGRES_USER },
          { name: 'POSTGRES_DB', value: POSTGRES_DATABASE },
          { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: postgresSecretName(fc), key: 'password' } } },
          // A subdirectory: a fresh volume's root may hold lost+found, which initdb refuses.
          { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
        ],
        readinessProbe: { exec: { command: ['pg_isready', '-U', POSTGRES_USER, '-d', POSTGRES_DATABASE, '-h', '127.0.0.1'] }, periodSeconds: 2, failureThreshold: 3 },
        resources: { requests: { cpu: '100m', memory: '256Mi' } },
      },
    });
  }
  if (fc.spec.redis.managed) {
    list.push({
      part: 'redis',
      dependency: 'redis',
      uid: 999,
      ports: [{ name: 'redis', port: 6379 }],
      dataPath: '/data',
      container: {
        args: ['--appendonly', 'yes', '--dir', '/data'],
        readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 2, failureThreshold: 3 },
        resources: { requests: { cpu: '50m', memory: '64Mi' } },
      },
    });
  }
  if (fc.spec.consul.managed) {
    list.push({
      part: 'consul',
      dependency: 'consul',
      uid: 100,
      ports: [{ name: 'http', port: 8500 }],
      dataPath: '/consul/data',
      container: {
        // One server agent that elects itself: services re-register after a restart anyway.
        args: ['agent', '-server', '-bootstrap-expect=1', '-client=0.0.0.0', '-bind=0.0.0.0', '-data-dir=/consul/data', '-log-level=warn'],
        readinessProbe: { httpGet: { path: '/v1/status/leader', port: 'http' as never }, periodSeconds: 2, failureThreshold: 3 },
        resources: { requests: { cpu: '50m', memory: '64Mi' } },
      },
    });
  }
  if (fc.spec.rocketmq.managed) {
    list.push(
      {
        part: 'rocketmq-namesrv',
        dependency: 'rocketmq',
        uid: 3000,
        ports: [{ name: 'namesrv', port: 9876 }],
        dataPath: '/home/rocketmq/logs',
        container: {
          command: ['sh', 'mqnamesrv'],
          env: [{ name: 'JAVA_OPT_EXT', value: '-Xms128m -Xmx256m' }],
          readinessProbe: tcpProbe('namesrv', 60),
          resources: { requests: { cpu: '100m', memory: '384Mi' } },
        },
      },
      {
        part: 'rocketmq-broker',
        dependency: 'rocketmq',
        uid: 3000,
        ports: [
          { name: 'proxy', port: 8081 },
          { name: 'broker', port: 10911 },
        ],
        dataPath: '/home/rocketmq/store',
        container: {
          // The broker with its gRPC proxy in the same process (local mode): clients dial 8081.
          command: ['sh', 'mqbroker', '-n', namesrv, '--enable-proxy', '-c', '/etc/rocketmq/broker.conf'],
          env: [{ name: 'JAVA_OPT_EXT', value: '-Xms256m -Xmx512m' }],
          readinessProbe: tcpProbe('proxy', 90),
          resources: { requests: { cpu: '200m', memory: '768Mi' } },
        },
      },
    );
  }
  return list;
}

const brokerConfigName = (fc: FreeChat): string => childName(fc, 'rocketmq-broker-config');

/** As config/compose/rocketmq-broker.conf, with the broker's in-cluster name. */
function brokerConfig(fc: FreeChat): V1ConfigMap {
  const conf = [
    'brokerClusterName=DefaultCluster',
    'brokerName=broker-a',
    'brokerId=0',
    `brokerIP1=${serviceHost(fc, 'rocketmq-broker')}`,
    'storePathRootDir=/home/rocketmq/store',
    'storePathCommitLog=/home/rocketmq/store/commitlog',
    'mappedFileSizeCommitLog=67108864',
    'mappedFileSizeConsumeQueue=300000',
    'diskMaxUsedSpaceRatio=95',
    // Topics and groups come from the init Job, never from a typo.
    'autoCreateTopicEnable=false',
    'autoCreateSubscriptionGroup=false',
    '',
  ].join('\n');
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: brokerConfigName(fc), namespace: fc.metadata.namespace, labels: labels(fc, 'rocketmq-broker') },
    data: { 'broker.conf': conf },
  };
}

function statefulSet(fc: FreeChat, server: Server): V1StatefulSet {
  const managed = fc.spec[server.dependency].managed!;
  const isBroker = server.part === 'rocketmq-broker';
  const podAnnotations = isBroker ? { 'freechat.dev/config-hash': configHash(brokerConfig(fc).data) } : undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: childName(fc, server.part), namespace: fc.metadata.namespace, labels: labels(fc, server.part) },
    spec: {
      replicas: 1,
      serviceName: childName(fc, server.part),
      selector: { matchLabels: selectorLabels(fc, server.part) },
      template: {
        metadata: { labels: labels(fc, server.part), ...(podAnnotations && { annotations: podAnnotations }) },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurity(server.uid),
          terminationGracePeriodSeconds: 30,
          ...(fc.spec.images.pullSecrets.length > 0 && { imagePullSecrets: fc.spec.images.pullSecrets.map((name) => ({ name })) }),
          containers: [
            {
              name: server.part,
              image: managed.image,
              imagePullPolicy: fc.spec.images.pullPolicy,
              ports: server.ports.map(({ name, port }) => ({ name, containerPort: port })),
              ...server.container,
              securityContext: containerSecurity(false),
              volumeMounts: [
                { name: 'data', mountPath: server.dataPath },
                ...(isBroker ? [{ name: 'config', mountPath: '/etc/rocketmq', readOnly: true }] : []),
              ],
            },
          ],
          ...(isBroker && { volumes: [{ name: 'config', configMap: { name: brokerConfigName(fc) } }] }),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: labels(fc, server.part) },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(managed.storageClassName && { storageClassName: managed.storageClassName }),
            resources: { requests: { storage: String(managed.storageSize ?? DEPENDENCY_DEFAULTS[server.dependency].storageSize) } },
          },
        },
      ],
    },
  };
}

function service(fc: FreeChat, server: Server): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: childName(fc, server.part), namespace: fc.metadata.namespace, labels: labels(fc, server.part) },
    spec: {
      selector: selectorLabels(fc, server.part),
      ports: server.ports.map(({ name, port }) => ({ name, port, targetPort: name as never, protocol: 'TCP' })),
    },
  };
}

/**
 * The FIFO topic and the orderly group (idempotent commands). A Job's pod template cannot change,
 * so its name carries a hash of what it runs: a new command is a new Job, and the old one is pruned.
 */
function rocketmqInit(fc: FreeChat): V1Job {
  const namesrv = `${serviceHost(fc, 'rocketmq-namesrv')}:9876`;
  const broker = `${serviceHost(fc, 'rocketmq-broker')}:10911`;
  const image = fc.spec.rocketmq.managed!.image;
  // mqadmin exits 0 even when its command failed (a broker still starting): success is only in
  // what it prints, so the Job fails, and is retried, until both commands say so.
  const script = [
    'admin() { out=$(sh mqadmin "$@" 2>&1); echo "$out"; echo "$out" | grep -q success; }',
    `admin updateTopic -n ${namesrv} -b ${broker} -t ${ROCKETMQ_TOPIC} -r 4 -w 4 -a +message.type=FIFO`,
    `admin updateSubGroup -n ${namesrv} -b ${broker} -g ${ROCKETMQ_CONSUMER_GROUP} -o true`,
  ].join(' && ');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: childName(fc, `rocketmq-init-${configHash({ script, image }).slice(0, 8)}`), namespace: fc.metadata.namespace, labels: labels(fc, 'rocketmq-init') },
    spec: {
      // The broker may take a minute to accept admin commands: retry with the Job's backoff.
      backoffLimit: 20,
      template: {
        metadata: { labels: labels(fc, 'rocketmq-init') },
        spec: {
          restartPolicy: 'OnFailure',
          automountServiceAccountToken: false,
          securityContext: podSecurity(3000),
          containers: [
            {
              name: 'rocketmq-init',
              image,
              imagePullPolicy: fc.spec.images.pullPolicy,
              command: ['sh', '-c', script],
              env: [{ name: 'JAVA_OPT_EXT', value: '-Xms64m -Xmx128m' }],
              securityContext: containerSecurity(false),
            },
          ],
        },
      },
    },
  };
}

/** StatefulSets, Services, the broker's config and the init Job of every managed part. */
export function managedDependencies(fc: FreeChat): (V1StatefulSet | V1Service | V1ConfigMap | V1Job)[] {
  const objects: (V1StatefulSet | V1Service | V1ConfigMap | V1Job)[] = [];
  for (const server of servers(fc)) objects.push(statefulSet(fc, server), service(fc, server));
  if (fc.spec.rocketmq.managed) objects.push(brokerConfig(fc), rocketmqInit(fc));
  return objects;
}

/** The managed servers' parts (`postgres`, `rocketmq-broker`, …): their StatefulSets' name suffixes and component labels. */
export const managedParts = (fc: FreeChat): string[] => servers(fc).map((server) => server.part);

/** The StatefulSets (by child name) that make up each managed dependency. */
export function dependencyWorkloads(fc: FreeChat, dependency: Dependency): string[] {
  return servers(fc)
    .filter((server) => server.dependency === dependency)
    .map((server) => childName(fc, server.part));
}
