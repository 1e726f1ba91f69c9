// The four Free Chat services: one Deployment, one ConfigMap and one Service per component.
import type { V1ConfigMap, V1Container, V1Deployment, V1Probe, V1Service, V1ServiceAccount, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { FreeChat } from '../api/freechat.js';
import { endpoint } from './endpoints.js';
import {
  ANNOTATIONS,
  childName,
  HEALTH_PORT,
  labels,
  METRICS_PORT,
  selectorLabels,
  SERVICE_PORTS,
  type AppComponent,
} from './names.js';
import { containerSecurity, podSecurity } from './pod-security.js';
import { signingKeySecretName, tlsSecretName } from './secrets.js';
import { configHash, MOUNTS, secretEnv, serviceEnv } from './service-config.js';

/** The services' own drain after SIGTERM (config/default.yaml shutdown.graceMs: 30 s). */
const DRAIN_SECONDS = 30;
/** Endpoints controllers and kube-proxy need a moment to stop sending new connections to a terminating pod. */
const PRESTOP_SECONDS = 5;
const NODE_UID = 1000;

export const configMapName = (fc: FreeChat, component: AppComponent): string => childName(fc, `${component}-config`);
export const appServiceAccountName = (fc: FreeChat): string => childName(fc, 'app');

export function imageOf(fc: FreeChat, component: AppComponent | 'operator'): string {
  return `${fc.spec.images.registry}/${component}:${fc.spec.images.tag}`;
}

export function serviceConfigMap(fc: FreeChat, component: AppComponent): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configMapName(fc, component), namespace: fc.metadata.namespace, labels: labels(fc, component) },
    data: { ...serviceEnv(fc, component) },
  };
}

/** The services call the Kubernetes API never: no token in their pods. */
export function appServiceAccount(fc: FreeChat): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: appServiceAccountName(fc), namespace: fc.metadata.namespace, labels: labels(fc, 'app') },
    automountServiceAccountToken: false,
  };
}

function replicasOf(fc: FreeChat, component: AppComponent): number | undefined {
  if (component !== 'inference') return fc.spec[component].replicas;
  // With autoscaling on, the HPA sets the replicas: leaving the field out of what we apply hands it over.
  return fc.spec.inference.autoscaling.enabled ? undefined : fc.spec.inference.replicas;
}

function probes(component: AppComponent): { startupProbe: V1Probe; readinessProbe: V1Probe; livenessProbe: V1Probe } {
  const port = component === 'gateway' ? 'http' : 'health';
  // Loading a model (a hub download on first start) may take minutes; the others start in seconds.
  const startupFailures = component === 'inference' ? 360 : 60;
  return {
    startupProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 2, failureThreshold: startupFailures },
    readinessProbe: { httpGet: { path: '/readyz', port }, periodSeconds: 2, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
  };
}

function volumesOf(fc: FreeChat, component: AppComponent): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: MOUNTS.tmp }];
  if (fc.spec.security.mtls) {
    volumes.push({ name: 'tls', secret: { secretName: tlsSecretName(fc, component), defaultMode: 0o440 } });
    mounts.push({ name: 'tls', mountPath: MOUNTS.tls, readOnly: true });
  }
  const postgres = endpoint(fc, 'postgres');
  if ((component === 'auth' || component === 'chat') && postgres.secret) {
    volumes.push({ name: 'postgres-password', secret: { secretName: postgres.secret.name, items: [{ key: postgres.secret.key, path: 'password' }], defaultMode: 0o440 } });
    mounts.push({ name: 'postgres-password', mountPath: MOUNTS.postgresPassword, readOnly: true });
  }
  if (component === 'auth') {
    volumes.push({ name: 'signing-key', secret: { secretName: signingKeySecretName(fc), defaultMode: 0o440 } });
    mounts.push({ name: 'signing-key', mountPath: MOUNTS.signingKey, readOnly: true });
  }
  if (component === 'inference') {
    const { model } = fc.spec.inference;
    volumes.push(
      model.source === 'pvc' && model.claimName
        ? { name: 'models', persistentVolumeClaim: { claimName: model.claimName, readOnly: true } }
        : { name: 'models', emptyDir: {} },
    );
    mounts.push({ name: 'models', mountPath: MOUNTS.models, readOnly: model.source === 'pvc' });
  }
  return { volumes, mounts };
}

function container(fc: FreeChat, component: AppComponent, mounts: V1VolumeMount[]): V1Container {
  const ports = [
    { name: component === 'gateway' ? 'http' : 'grpc', containerPort: SERVICE_PORTS[component] },
    { name: 'metrics', containerPort: METRICS_PORT },
    ...(component === 'gateway' ? [] : [{ name: 'health', containerPort: HEALTH_PORT }]),
  ];
  const inference = fc.spec.inference;
  return {
    name: component,
    image: imageOf(fc, component),
    imagePullPolicy: fc.spec.images.pullPolicy,
    ports,
    envFrom: [{ configMapRef: { name: configMapName(fc, component) } }],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      // Registered in Consul and checked by it: the pod's own address (FREECHAT_TLS_SERVER_NAME
      // tells callers which name its certificate carries).
      { name: 'FREECHAT_ADVERTISE_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ...secretEnv(fc, component).map((v) => ({ ...v })),
    ],
    ...probes(component),
    lifecycle: { preStop: { sleep: { seconds: PRESTOP_SECONDS } } },
    resources:
      component === 'inference'
        ? { requests: inference.resources.requests ?? { cpu: '500m', memory: '1Gi' }, ...(inference.resources.limits && { limits: inference.resources.limits }) }
        : { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    securityContext: containerSecurity(true),
    volumeMounts: mounts,
  };
}

/** Stamped on the pod template: changes exactly when what the pods are configured with changes. */
export function podConfigHash(fc: FreeChat, component: AppComponent): string {
  return configHash({ env: serviceEnv(fc, component), secretEnv: secretEnv(fc, component), mtls: fc.spec.security.mtls });
}

export function deployment(fc: FreeChat, component: AppComponent): V1Deployment {
  const { volumes, mounts } = volumesOf(fc, component);
  const replicas = replicasOf(fc, component);
  const inference = fc.spec.inference;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: childName(fc, component), namespace: fc.metadata.namespace, labels: labels(fc, component) },
    spec: {
      ...(replicas !== undefined && { replicas }),
      selector: { matchLabels: selectorLabels(fc, component) },
      // One new pod Ready before an old one goes: no request meets a missing replica.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels(fc, component),
          annotations: {
            [ANNOTATIONS.configHash]: podConfigHash(fc, component),
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(METRICS_PORT),
          },
        },
        spec: {
          serviceAccountName: appServiceAccountName(fc),
          automountServiceAccountToken: false,
          securityContext: podSecurity(NODE_UID),
          terminationGracePeriodSeconds: PRESTOP_SECONDS + DRAIN_SECONDS + 10,
          ...(fc.spec.images.pullSecrets.length > 0 && { imagePullSecrets: fc.spec.images.pullSecrets.map((name) => ({ name })) }),
          ...(component === 'inference' && inference.nodeSelector && { nodeSelector: { ...inference.nodeSelector } }),
          ...(component === 'inference' && inference.tolerations && { tolerations: inference.tolerations as never }),
          containers: [container(fc, component, mounts)],
          volumes,
        },
      },
    },
  };
}

export function service(fc: FreeChat, component: AppComponent): V1Service {
  const port = SERVICE_PORTS[component];
  const portName = component === 'gateway' ? 'http' : 'grpc';
  const gateway = fc.spec.gateway.service;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: childName(fc, component), namespace: fc.metadata.namespace, labels: { ...labels(fc, component), 'freechat.dev/metrics': 'true' } },
    spec: {
      type: component === 'gateway' ? gateway.type : 'ClusterIP',
      selector: selectorLabels(fc, component),
      ports: [
        { name: portName, port: component === 'gateway' ? gateway.port : port, targetPort: portName as never, protocol: 'TCP' },
        { name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' as never, protocol: 'TCP' },
      ],
    },
  };
}
