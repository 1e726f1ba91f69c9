// A FreeChat's status from what its children report: conditions per component, Ready when all
// are, transition times that only move when a condition's status does.
import { describe, expect, it } from 'vitest';
import { computeStatus, type Observed, type WorkloadState } from '../src/plan/status.js';
import { freeChat } from './fixtures.js';

const fc = freeChat();
const ready = (desired: number): WorkloadState => ({ generation: 2, observedGeneration: 2, desired, replicas: desired, readyReplicas: desired, updatedReplicas: desired });
const allReady: Record<string, WorkloadState> = {
  'chat-gateway': ready(2),
  'chat-auth': ready(2),
  'chat-chat': ready(2),
  'chat-inference': ready(1),
  'chat-postgres': ready(1),
  'chat-redis': ready(1),
  'chat-consul': ready(1),
  'chat-rocketmq-namesrv': ready(1),
  'chat-rocketmq-broker': ready(1),
};
const observe = (workloads: Record<string, WorkloadState | undefined>, extra: Partial<Observed> = {}): Observed => ({
  workload: (name) => workloads[name],
  rocketmqInitialized: true,
  ...extra,
});
const condition = (status: ReturnType<typeof computeStatus>, type: string) => status.conditions!.find((c) => c.type === type)!;
const t0 = new Date('2026-11-30T10:00:00.000Z');
const t1 = new Date('2026-11-30T10:05:00.000Z');

describe('computeStatus', () => {
  it('is Ready with every component condition True when every workload is rolled out and ready', () => {
    const status = computeStatus(fc, observe(allReady), undefined, t0);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Available', observedGeneration: 3, lastTransitionTime: '2026-11-30T10:00:00Z' });
    expect(status.conditions!.map((c) => c.type)).toEqual([
      'Ready', 'GatewayReady', 'AuthReady', 'ChatReady', 'InferenceReady', 'PostgresReady', 'RedisReady', 'ConsulReady', 'RocketMQReady',
    ]);
    expect(status.conditions!.every((c) => c.status === 'True')).toBe(true);
    expect(status.components).toMatchObject({ gateway: { ready: 2, desired: 2 }, rocketmq: { ready: 2, desired: 2 } });
    expect(status.inference).toEqual({ replicas: 1, selector: 'app.kubernetes.io/name=freechat,app.kubernetes.io/instance=chat,app.kubernetes.io/component=inference' });
    expect(status.url).toBe('http://chat-gateway.team.svc');
    expect(status.observedGeneration).toBe(3);
  });

  it('names the first component that is not ready as the reason, and says why in the message', () => {
    const status = computeStatus(fc, observe({ ...allReady, 'chat-inference': { ...ready(2), readyReplicas: 1 } }), undefined, t0);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'InferenceNotReady', message: 'Inference: 1/2 ready' });
    expect(condition(status, 'InferenceReady')).toMatchObject({ status: 'False', reason: 'Unavailable' });
    expect(condition(status, 'GatewayReady').status).toBe('True');
  });

  it('is not ready while a rollout is in progress, even with every replica ready', () => {
    const rolling = { ...ready(2), updatedReplicas: 1, replicas: 3 };
    expect(condition(computeStatus(fc, observe({ ...allReady, 'chat-chat': rolling }), undefined, t0), 'ChatReady')).toMatchObject({ status: 'False', reason: 'Progressing' });
    const unseen = { ...ready(2), generation: 5, observedGeneration: 4 };
    expect(condition(computeStatus(fc, observe({ ...allReady, 'chat-chat': unseen }), undefined, t0), 'ChatReady')).toMatchObject({ status: 'False', reason: 'Progressing' });
  });

  it('says Creating for children that do not exist yet and waits for RocketMQ’s topic before RocketMQReady', () => {
    const status = computeStatus(fc, observe({}, { rocketmqInitialized: false }), undefined, t0);
    expect(condition(status, 'GatewayReady')).toMatchObject({ status: 'False', reason: 'Creating' });
    const initializing = computeStatus(fc, observe(allReady, { rocketmqInitialized: false }), undefined, t0);
    expect(condition(initializing, 'RocketMQReady')).toMatchObject({ status: 'False', reason: 'Initializing' });
    expect(condition(initializing, 'Ready')).toMatchObject({ status: 'False', reason: 'RocketMQNotReady' });
  });

  it('reports external dependencies as External, not checked', () => {
    const external = freeChat({ redis: { external: { address: 'redis://cache:6379' } } });
    const workloads = { ...allReady, 'chat-redis': undefined };
    expect(condition(computeStatus(external, observe(workloads), undefined, t0), 'RedisReady')).toMatchObject({ status: 'True', reason: 'External' });
    expect(condition(computeStatus(external, observe(workloads), undefined, t0), 'Ready').status).toBe('True');
  });

  it('keeps lastTransitionTime while a condition’s status stays, and moves it when it flips', () => {
    const first = computeStatus(fc, observe(allReady), undefined, t0);
    const same = computeStatus(fc, observe(allReady), first, t1);
    expect(same).toEqual(first);
    const flipped = computeStatus(fc, observe({ ...allReady, 'chat-auth': { ...ready(2), readyReplicas: 0 } }), first, t1);
    expect(condition(flipped, 'AuthReady').lastTransitionTime).toBe('2026-11-30T10:05:00Z');
    expect(condition(flipped, 'GatewayReady').lastTransitionTime).toBe('2026-11-30T10:00:00Z');
  });

  it('reports a failed apply on Ready with its message', () => {
    const status = computeStatus(fc, observe(allReady, { reconcileError: 'Deployment/chat-auth: forbidden' }), undefined, t0);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'ReconcileError', message: 'Deployment/chat-auth: forbidden' });
  });
});
