// What each status condition means: rendered into docs/freechat-resource.md, and the reasons the
// status computation (plan/status.ts) uses.
export interface ConditionDoc {
  readonly type: string;
  readonly trueWhen: string;
  readonly reasons: string;
}

const workload = (what: string, name: string): ConditionDoc => ({
  type: `${name}Ready`,
  trueWhen: `${what}: every replica runs the latest spec and is ready (Available), or it is scaled to zero (ScaledToZero)`,
  reasons: 'Creating (not created yet), Progressing (a rollout is under way), Unavailable (fewer ready than desired)',
});

const dependency = (what: string, name: string, extra = ''): ConditionDoc => ({
  type: `${name}Ready`,
  trueWhen: `Managed: ${what}'s StatefulSet(s) are ready${extra} (Available). External: always True (External), the operator does not probe it`,
  reasons: `Creating, Progressing, Unavailable${extra ? ', Initializing (the topic and consumer group are being created)' : ''}`,
});

export const CONDITION_DOCS: readonly ConditionDoc[] = [
  {
    type: 'Ready',
    trueWhen: 'every condition below is True',
    reasons: '`<Component>NotReady` naming the first component that is not (e.g. InferenceNotReady), with every unready part in the message; ReconcileError when objects could not be applied (the message says which and why)',
  },
  workload('The gateway Deployment', 'Gateway'),
  workload('The auth Deployment', 'Auth'),
  workload('The chat Deployment', 'Chat'),
  workload('The inference Deployment', 'Inference'),
  dependency('PostgreSQL', 'Postgres'),
  dependency('Redis', 'Redis'),
  dependency('Consul', 'Consul'),
  dependency('RocketMQ', 'RocketMQ', ' and its init Job has created the topic and consumer group'),
];
