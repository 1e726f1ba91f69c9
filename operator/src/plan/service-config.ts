// The configuration each service's pods run with, as the environment variables the services read
// (config/*.yaml documents each one). Non-secret values go into a ConfigMap per component; secrets
// stay in Secrets and reach the pods as files or `$(VAR)`-expanded env. A hash of what is rendered
// here is stamped on the pod template, so a configuration change rolls the pods.
import { createHash } from 'node:crypto';
import type { FreeChat } from '../api/freechat.js';
import { endpoint } from './endpoints.js';
import { HEALTH_PORT, internalServerName, METRICS_PORT, SERVICE_PORTS, type AppComponent } from './names.js';

/** Where secrets are mounted inside the pods. */
export const MOUNTS = {
  tls: '/etc/freechat/tls',
  postgresPassword: '/etc/freechat/postgres',
  signingKey: '/etc/freechat/signing',
  models: '/models',
  tmp: '/tmp',
} as const;

export type EnvMap = Readonly<Record<string, string>>;

/** Which services reach PostgreSQL and Redis (the others get neither their address nor a secret). */
const usesPostgres = (component: AppComponent): boolean => component === 'auth' || component === 'chat';
const usesRedis = (component: AppComponent): boolean => component === 'chat' || component === 'gateway';

/** The ConfigMap data of one component: everything it needs except secrets. */
export function serviceEnv(fc: FreeChat, component: AppComponent): EnvMap {
  const { spec } = fc;
  const env: Record<string, string> = {
    // Production refuses default secrets (e.g. a generated signing key).
    FREECHAT_ENV: 'production',
    FREECHAT_LOG_LEVEL: spec.observability.logLevel,
    CONSUL_HTTP_ADDR: endpoint(fc, 'consul').address,
    // One Consul may serve several installations: the catalog names carry namespace and name.
    FREECHAT_SERVICE_NAME_PREFIX: `freechat-${fc.metadata.namespace}-${fc.metadata.name}`,
    [`FREECHAT_${component.toUpperCase()}_METRICS_ADDRESS`]: `0.0.0.0:${METRICS_PORT}`,
  };
  if (component === 'gateway') {
    env['FREECHAT_GATEWAY_HOST'] = '0.0.0.0';
    env['PORT'] = String(SERVICE_PORTS.gateway);
    // Behind an ingress every request comes through the proxy: client IPs from X-Forwarded-For.
    if (spec.gateway.ingress.enabled) env['FREECHAT_TRUST_PROXY'] = 'true';
  } else {
    env[`FREECHAT_${component.toUpperCase()}_ADDRESS`] = `0.0.0.0:${SERVICE_PORTS[component]}`;
    env['FREECHAT_GRPC_HEALTH_ADDRESS'] = `0.0.0.0:${HEALTH_PORT}`;
  }
  if (spec.security.mtls) {
    env['FREECHAT_TLS_CA_FILE'] = `${MOUNTS.tls}/ca.crt`;
    env['FREECHAT_TLS_CERT_FILE'] = `${MOUNTS.tls}/tls.crt`;
    env['FREECHAT_TLS_KEY_FILE'] = `${MOUNTS.tls}/tls.key`;
    // Callers dial pod IPs from Consul: they check certificates against the instance's shared name.
    env['FREECHAT_TLS_SERVER_NAME'] = internalServerName(fc);
  }
  if (spec.observability.otlpEndpoint) {
    env['OTEL_EXPORTER_OTLP_ENDPOINT'] = spec.observability.otlpEndpoint;
    env['OTEL_TRACES_SAMPLER'] = 'parentbased_traceidratio';
    env['OTEL_TRACES_SAMPLER_ARG'] = String(spec.observability.traceSampleRatio);
  }
  if (usesPostgres(component)) {
    const postgres = endpoint(fc, 'postgres');
    env['DATABASE_URL'] = postgres.address;
    if (postgres.secret) env['DATABASE_PASSWORD_FILE'] = `${MOUNTS.postgresPassword}/password`;
  }
  if (usesRedis(component)) {
    const redis = endpoint(fc, 'redis');
    // With a password the URL is built in the pod from the secret (secretEnv), never stored here.
    if (!redis.secret) env['REDIS_URL'] = redis.address;
  }
  if (component === 'chat') env['ROCKETMQ_ENDPOINTS'] = endpoint(fc, 'rocketmq').address;
  if (component === 'auth') env['FREECHAT_AUTH_SIGNING_KEY_FILE'] = `${MOUNTS.signingKey}/key.pem`;
  if (component === 'inference') Object.assign(env, modelEnv(fc));
  return env;
}

function modelEnv(fc: FreeChat): EnvMap {
  const { model } = fc.spec.inference;
  switch (model.source) {
    case 'builtin':
      return { FREECHAT_MODEL: 'tiny', FREECHAT_MODEL_CACHE: MOUNTS.models };
    case 'huggingface':
      return {
        FREECHAT_MODEL: model.repo ?? '',
        FREECHAT_MODEL_VARIANT: model.variant,
        ...(model.revision && { FREECHAT_MODEL_REVISION: model.revision }),
        FREECHAT_MODEL_CACHE: MOUNTS.models,
      };
    case 'pvc':
      return { FREECHAT_MODEL_DIR: `${MOUNTS.models}/${(model.path ?? '').replace(/^\/+/, '')}`.replace(/\/$/, ''), FREECHAT_MODEL_VARIANT: model.variant };
  }
}

export interface SecretEnvVar {
  readonly name: string;
  readonly valueFrom?: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
  readonly value?: string;
}

/**
 * Environment built from secrets in the pod: a Redis password becomes part of REDIS_URL through
 * Kubernetes' `$(VAR)` expansion, so the URL never sits in a ConfigMap.
 */
export function secretEnv(fc: FreeChat, component: AppComponent): readonly SecretEnvVar[] {
  const vars: SecretEnvVar[] = [];
  const redis = endpoint(fc, 'redis');
  if (usesRedis(component) && redis.secret) {
    const url = new URL(redis.address.includes('://') ? redis.address : `redis://${redis.address}`);
    vars.push({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: redis.secret.name, key: redis.secret.key } } });
    vars.push({ name: 'REDIS_URL', value: `${url.protocol}//:$(REDIS_PASSWORD)@${url.host}${url.pathname === '/' ? '' : url.pathname}` });
  }
  return vars;
}

/** A stable digest of any JSON value (keys sorted): what the pod templates carry as config-hash. */
export function configHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
