// What `make run` starts, in which order, with which environment: a pure function of the
// environment so it is tested without starting anything.

export type Readiness = { readonly kind: 'grpc'; readonly address: string } | { readonly kind: 'http'; readonly url: string };

export interface ProcessSpec {
  readonly name: 'auth' | 'chat' | 'inference' | 'gateway';
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  readonly readiness: Readiness;
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
  readonly repoRoot: string;
}

const DEFAULT_ADDRESSES = { auth: '127.0.0.1:50051', chat: '127.0.0.1:50052', inference: '127.0.0.1:50053' } as const;

export function planStack({ env, databaseUrl, repoRoot }: PlanInput): StackPlan {
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
  const entry = (name: string) => `${repoRoot}/services/${name}/dist/main.js`;
  return {
    dataDir,
    publicUrl: `http://localhost:${port}`,
    processes: [
      { name: 'inference', entry: entry('inference'), env: shared, readiness: { kind: 'grpc', address: inference } },
      { name: 'auth', entry: entry('auth'), env: shared, readiness: { kind: 'grpc', address: auth } },
      { name: 'chat', entry: entry('chat'), env: shared, readiness: { kind: 'grpc', address: chat } },
      { name: 'gateway', entry: entry('gateway'), env: shared, readiness: { kind: 'http', url: `http://127.0.0.1:${port}/readyz` } },
    ],
  };
}
