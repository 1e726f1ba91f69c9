// What `make run` starts, in which order, with which environment: a pure function of the
// environment so it is tested without starting anything.

export type Readiness = { readonly kind: 'grpc'; readonly address: string } | { readonly kind: 'http'; readonly url: string };

export type ServiceName = 'auth' | 'chat' | 'inference' | 'gateway';

export interface ProcessSpec {
  /** The service, or `<service>-<n>` for its n-th replica when it has several. */
  readonly name: string;
  readonly service: ServiceName;
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  readonly readiness: Readiness;
  /** Where it serves Prometheus metrics (`http://host:port/metrics`); undefined when metrics are off. */
  readonly metricsUrl?: string;
}

export interface StackPlan {
  /** Start order; shutdown runs in reverse, so the gateway stops taking requests first. */
  readonly processes: readonly ProcessSpec[];
  readonly publicUrl: string;
  readonly dataDir: string;
}

export interface PlanInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly databaseUrl: string;
  /** A service's own URL (its least-privilege role), used instead of databaseUrl. */
  readonly databaseUrls?: Readonly<Partial<Record<'auth' | 'chat', string>>>;
  /** Mutual TLS between the services: the CA and each service's certificate and key. */
  readonly tls?: {
    readonly caFile: string;
    readonly identities: Readonly<Record<ServiceName, { readonly certFile: string; readonly keyFile: string }>>;
  };
  readonly repoRoot: string;
  /**
   * A free port per process name for its /metrics endpoint, so the URLs are known before start
   * (`FREECHAT_<SERVICE>_METRICS_ADDRESS` set in the environment wins; empty there turns them off).
   */
  readonly metricsPorts?: Readonly<Record<string, number>>;
}

const DEFAULT_ADDRESSES = { auth: '127.0.0.1:50051', chat: '127.0.0.1:50052', inference: '127.0.0.1:50053' } as const;
/** Replica n (from 0) of a service listens this many ports above the first one. */
const REPLICA_PORT_STEP = 100;

export function planStack({ env, databaseUrl, databaseUrls, tls, repoRoot, metricsPorts }: PlanInput): StackPlan {
  const address = (name: keyof typeof DEFAULT_ADDRESSES, variable: string) => env[variable] || DEFAULT_ADDRESSES[name];
  const auth = address('auth', 'FREECHAT_AUTH_ADDRESS');
  const chat = address('chat', 'FREECHAT_CHAT_ADDRESS');
  const inference = address('inference', 'FREECHAT_INFERENCE_ADDRESS');
  const port = env['PORT'] || '3000';
  const dataDir = env['FREECHAT_DATA_DIR'] || `${repoRoot}/.data`;
  const shared = {
    DATABASE_URL: databaseUrl,
    FREECHAT_DATA_DIR: dataDir,
    FREECHAT_AUTH_ADDRESS: auth,
    FREECHAT_CHAT_ADDRESS: chat,
    FREECHAT_INFERENCE_ADDRESS: inference,
    PORT: port,
    // Absolute, so the gateway finds the built UI whatever directory `make run` was started from.
    FREECHAT_WEB_UI_DIR: env['FREECHAT_WEB_UI_DIR'] || `${repoRoot}/web-ui/dist`,
  };
  // Per service: its own certificate, and its own database role where it has a schema.
  const own = (service: ServiceName): Record<string, string> => ({
    ...(service !== 'inference' && service !== 'gateway' && databaseUrls?.[service] ? { DATABASE_URL: databaseUrls[service] } : {}),
    ...(tls && {
      FREECHAT_TLS_CA_FILE: tls.caFile,
      FREECHAT_TLS_CERT_FILE: tls.identities[service].certFile,
      FREECHAT_TLS_KEY_FILE: tls.identities[service].keyFile,
    }),
  });
  const entry = (name: string) => `${repoRoot}/services/${name}/dist/main.js`;
  const replicas = { chat: count(env, 'FREECHAT_CHAT_REPLICAS'), inference: count(env, 'FREECHAT_INFERENCE_REPLICAS') };
  if ((replicas.chat > 1 || replicas.inference > 1) && !env['CONSUL_HTTP_ADDR']) {
    throw new Error('several replicas need service discovery: set CONSUL_HTTP_ADDR (make run-infra does)');
  }
  const grpcService = (service: 'inference' | 'auth' | 'chat', address: string, variable: string, count = 1): ProcessSpec[] =>
    Array.from({ length: count }, (_, n) => {
      const listenAt = n === 0 ? address : shiftPort(address, n * REPLICA_PORT_STEP);
      return {
        name: count > 1 ? `${service}-${n + 1}` : service,
        service,
        entry: entry(service),
        env: { ...shared, ...own(service), [variable]: listenAt },
        readiness: { kind: 'grpc', address: listenAt },
      };
    });
  const processes: ProcessSpec[] = [
    ...grpcService('inference', inference, 'FREECHAT_INFERENCE_ADDRESS', replicas.inference),
    ...grpcService('auth', auth, 'FREECHAT_AUTH_ADDRESS'),
    ...grpcService('chat', chat, 'FREECHAT_CHAT_ADDRESS', replicas.chat),
    { name: 'gateway', service: 'gateway', entry: entry('gateway'), env: { ...shared, ...own('gateway') }, readiness: { kind: 'http', url: `http://127.0.0.1:${port}/readyz` } },
  ];
  return { dataDir, publicUrl: `http://localhost:${port}`, processes: processes.map((spec, i) => withMetrics(spec, env, metricsPorts, processes.slice(0, i).filter((p) => p.service === spec.service).length)) };
}

/** The process's metrics address in its environment and its URL, from the environment or the planned free port. */
function withMetrics(spec: ProcessSpec, env: PlanInput['env'], ports: PlanInput['metricsPorts'], replica: number): ProcessSpec {
  const variable = `FREECHAT_${spec.service.toUpperCase()}_METRICS_ADDRESS`;
  const configured = env[variable];
  const address =
    configured !== undefined
      ? configured && replica > 0
        ? shiftPort(configured, replica * REPLICA_PORT_STEP)
        : configured
      : ports?.[spec.name] !== undefined
        ? `127.0.0.1:${ports[spec.name]}`
        : undefined;
  if (address === undefined) return spec;
  return { ...spec, env: { ...spec.env, [variable]: address }, ...(address && { metricsUrl: `http://${address}/metrics` }) };
}

function count(env: PlanInput['env'], variable: string): number {
  const value = env[variable];
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`${variable} must be a whole number from 1 to 8, not "${value}"`);
  return n;
}

function shiftPort(address: string, by: number): string {
  const colon = address.lastIndexOf(':');
  return `${address.slice(0, colon)}:${Number(address.slice(colon + 1)) + by}`;
}
