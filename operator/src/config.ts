// The operator's settings: config/default.yaml < config/operator.yaml < environment, validated at start.
import { hostname } from 'node:os';
import { loadConfig, LOG_LEVELS, type DeepReadonly } from '@freechat/shared';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

export const operatorConfigSchema = z.object({
  log: z.object({ level: z.enum(LOG_LEVELS) }),
  operator: z.object({
    watchNamespace: z.string(),
    httpAddress: z.string().regex(/^.+:\d+$/, 'expected host:port'),
    concurrency: positiveInt,
    maxRetryDelayMs: positiveInt,
    resyncIntervalMs: positiveInt,
    leaderElection: z
      .object({
        enabled: bool,
        leaseName: z.string().min(1),
        namespace: z.string(),
        identity: z.string(),
        leaseDurationMs: positiveInt,
        renewDeadlineMs: positiveInt,
        retryPeriodMs: positiveInt,
      })
      .refine((le) => le.retryPeriodMs < le.renewDeadlineMs && le.renewDeadlineMs < le.leaseDurationMs, {
        message: 'expected retryPeriodMs < renewDeadlineMs < leaseDurationMs',
      })
      // The Lease lives in the operator's own namespace, which only the pod knows (the downward API).
      .refine((le) => !le.enabled || le.namespace !== '', {
        message: 'required with leader election on (set POD_NAMESPACE, or FREECHAT_OPERATOR_LEADER_ELECTION=false)',
        path: ['namespace'],
      }),
  }),
});

export type OperatorConfig = DeepReadonly<z.output<typeof operatorConfigSchema>>;

export const OPERATOR_ENV = {
  FREECHAT_LOG_LEVEL: 'log.level',
  FREECHAT_OPERATOR_WATCH_NAMESPACE: 'operator.watchNamespace',
  FREECHAT_OPERATOR_HTTP_ADDRESS: 'operator.httpAddress',
  FREECHAT_OPERATOR_CONCURRENCY: 'operator.concurrency',
  FREECHAT_OPERATOR_LEADER_ELECTION: 'operator.leaderElection.enabled',
  FREECHAT_OPERATOR_LEASE_NAME: 'operator.leaderElection.leaseName',
  FREECHAT_OPERATOR_LEASE_DURATION_MS: 'operator.leaderElection.leaseDurationMs',
  FREECHAT_OPERATOR_RENEW_DEADLINE_MS: 'operator.leaderElection.renewDeadlineMs',
  FREECHAT_OPERATOR_RETRY_PERIOD_MS: 'operator.leaderElection.retryPeriodMs',
  POD_NAMESPACE: 'operator.leaderElection.namespace',
  POD_NAME: 'operator.leaderElection.identity',
} as const;

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env, configDir?: string): OperatorConfig {
  const config = loadConfig(operatorConfigSchema, { service: 'operator', env, envOverrides: OPERATOR_ENV, ...(configDir && { configDir }) });
  const le = config.operator.leaderElection;
  // Outside a pod there is no POD_NAME: host and pid still tell replicas apart.
  return { ...config, operator: { ...config.operator, leaderElection: { ...le, identity: le.identity || `${hostname()}-${process.pid}` } } };
}
