// What a FreeChat's status says, computed from what its children report: per component ready and
// desired replicas and a condition, `Ready` when all are. Pure: the controller writes it only when
// it differs from the stored status (lastTransitionTime moves only when a condition's status does).
import type { FreeChat, FreeChatStatus } from '../api/freechat.js';
import { dependencyWorkloads } from './dependencies.js';
import { APP_COMPONENTS, childName, DEPENDENCIES, selectorLabels, selectorString, type AppComponent, type Dependency } from './names.js';
import { publicUrl } from './network.js';

export type Condition = NonNullable<FreeChatStatus['conditions']>[number];
type ConditionStatus = Condition['status'];

/** The part of a Deployment's or StatefulSet's status that readiness is judged by. */
export interface WorkloadState {
  readonly generation?: number;
  readonly desired: number;
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly updatedReplicas?: number;
}

export interface Observed {
  /** Deployments and StatefulSets of this instance, by name; absent: not created yet. */
  readonly workload: (name: string) => WorkloadState | undefined;
  /** The RocketMQ init Job has succeeded. */
  readonly rocketmqInitialized: boolean;
  /** Why the last apply failed, if it did. */
  readonly reconcileError?: string;
}

export const CONDITION_TYPES: Readonly<Record<AppComponent | Dependency, string>> = {
  gateway: 'GatewayReady',
  auth: 'AuthReady',
  chat: 'ChatReady',
  inference: 'InferenceReady',
  postgres: 'PostgresReady',
  redis: 'RedisReady',
  consul: 'ConsulReady',
  rocketmq: 'RocketMQReady',
};

const TITLES: Readonly<Record<AppComponent | Dependency, string>> = {
  gateway: 'Gateway',
  auth: 'Auth',
  chat: 'Chat',
  inference: 'Inference',
  postgres: 'PostgreSQL',
  redis: 'Redis',
  consul: 'Consul',
  rocketmq: 'RocketMQ',
};

interface Verdict {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly ready: number;
  readonly desired: number;
}

/** A rollout is done when the controller saw the latest spec and every replica is updated and ready. */
function judge(title: string, name: string, state: WorkloadState | undefined): Verdict {
  if (!state) return { status: 'False', reason: 'Creating', message: `${title}: ${name} does not exist yet`, ready: 0, desired: 0 };
  const ready = state.readyReplicas ?? 0;
  const { desired } = state;
  if (state.generation !== undefined && (state.observedGeneration ?? 0) < state.generation) {
    return { status: 'False', reason: 'Progressing', message: `${title}: ${name} has a change its controller has not seen yet`, ready, desired };
  }
  if ((state.updatedReplicas ?? 0) < desired || (state.replicas ?? 0) > desired) {
    return { status: 'False', reason: 'Progressing', message: `${title}: rolling out, ${state.updatedReplicas ?? 0}/${desired} updated`, ready, desired };
  }
  if (ready < desired) return { status: 'False', reason: 'Unavailable', message: `${title}: ${ready}/${desired} ready`, ready, desired };
  return { status: 'True', reason: desired === 0 ? 'ScaledToZero' : 'Available', message: `${title}: ${ready}/${desired} ready`, ready, desired };
}

function combine(verdicts: Verdict[]): Verdict {
  const failing = verdicts.find((v) => v.status !== 'True');
  const ready = verdicts.reduce((sum, v) => sum + v.ready, 0);
  const desired = verdicts.reduce((sum, v) => sum + v.desired, 0);
  if (failing) return { ...failing, ready, desired };
  return { status: 'True', reason: 'Available', message: verdicts.map((v) => v.message).join('; '), ready, desired };
}

function componentVerdict(fc: FreeChat, part: AppComponent | Dependency, observed: Observed): Verdict {
  if ((APP_COMPONENTS as readonly string[]).includes(part)) {
    return judge(TITLES[part], childName(fc, part), observed.workload(childName(fc, part)));
  }
  const dependency = part as Dependency;
  const external = fc.spec[dependency].external;
  if (external) return { status: 'True', reason: 'External', message: `${TITLES[part]} at ${external.address} (not run by the operator)`, ready: 0, desired: 0 };
  const verdict = combine(dependencyWorkloads(fc, dependency).map((name) => judge(TITLES[part], name, observed.workload(name))));
  if (dependency === 'rocketmq' && verdict.status === 'True' && !observed.rocketmqInitialized) {
    return { ...verdict, status: 'False', reason: 'Initializing', message: 'RocketMQ: creating the topic and consumer group' };
  }
  return verdict;
}

/**
 * The status to store. `previous` keeps each condition's lastTransitionTime while its status is
 * unchanged, so an unchanged world computes an identical status and nothing is written.
 */
export function computeStatus(fc: FreeChat, observed: Observed, previous: FreeChatStatus | undefined, now: Date): FreeChatStatus {
  const generation = fc.metadata.generation;
  const parts = [...APP_COMPONENTS, ...DEPENDENCIES];
  const verdicts = Object.fromEntries(parts.map((part) => [part, componentVerdict(fc, part, observed)])) as Record<AppComponent | Dependency, Verdict>;
  const notReady = parts.filter((part) => verdicts[part].status !== 'True');
  const ready: Verdict = observed.reconcileError
    ? { status: 'False', reason: 'ReconcileError', message: observed.reconcileError, ready: 0, desired: 0 }
    : notReady.length === 0
      ? { status: 'True', reason: 'Available', message: 'Every component is ready', ready: 0, desired: 0 }
      : {
          status: 'False',
          reason: `${TITLES[notReady[0]!].replace(/[^A-Za-z]/g, '')}NotReady`,
          message: notReady.map((part) => verdicts[part].message).join('; '),
          ready: 0,
          desired: 0,
        };

  const condition = (type: string, verdict: Verdict): Condition => {
    const before = previous?.conditions?.find((c) => c.type === type);
    const lastTransitionTime = before && before.status === verdict.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { type, status: verdict.status, reason: verdict.reason, message: verdict.message, lastTransitionTime, ...(generation !== undefined && { observedGeneration: generation }) };
  };

  const inference = observed.workload(childName(fc, 'inference'));
  return {
    ...(generation !== undefined && { observedGeneration: generation }),
    conditions: [condition('Ready', ready), ...parts.map((part) => condition(CONDITION_TYPES[part], verdicts[part]))],
    components: Object.fromEntries(parts.map((part) => [part, { ready: verdicts[part].ready, desired: verdicts[part].desired }])),
    inference: { replicas: inference?.replicas ?? 0, selector: selectorString(selectorLabels(fc, 'inference')) },
    url: publicUrl(fc),
  };
}
