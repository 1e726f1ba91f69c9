// One reconcile of one FreeChat: plan → generated secrets → apply → prune → status. Each step's
// failure is reported on the resource (Ready=False, ReconcileError, and an Event) and retried by
// the queue.
import type { KubernetesObject, V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '@freechat/shared';
import { GROUP, PLURAL, specWithDefaults, VERSION, type FreeChat, type FreeChatStatus } from '../api/freechat.js';
import { SERVICE_MONITOR_CRD } from '../plan/observability.js';
import { planFreeChat, type Plan } from '../plan/plan.js';
import { computeStatus, type WorkloadState } from '../plan/status.js';
import { applyObjects, ensureGeneratedSecrets, pruneObjects } from './apply.js';
import type { EventRecorder } from './events.js';
import type { Informers } from './informers.js';
import { describeError, statusOf, type Kube } from './kube.js';
import type { OperatorMetrics } from './metrics.js';

export interface ReconcilerDeps {
  readonly kube: Kube;
  readonly informers: Informers;
  readonly events: EventRecorder;
  readonly metrics: OperatorMetrics;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export class ReconcileError extends Error {}

export function createReconciler(deps: ReconcilerDeps): (key: string) => Promise<void> {
  const { kube, informers, events, metrics, logger } = deps;
  const now = deps.now ?? (() => new Date());
  let serviceMonitorsKnown: boolean | undefined;
  const warnedServiceMonitor = new Set<string>();

  async function serviceMonitorsAvailable(): Promise<boolean> {
    if (serviceMonitorsKnown !== undefined) return serviceMonitorsKnown;
    try {
      await kube.apiextensions.readCustomResourceDefinition({ name: SERVICE_MONITOR_CRD });
      serviceMonitorsKnown = true;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      // Asked again on the next reconcile that wants one: the Prometheus Operator may be installed later.
      return false;
    }
    return true;
  }

  function workloadState(kind: 'Deployment' | 'StatefulSet', namespace: string, name: string): WorkloadState | undefined {
    const object = informers.children.get(kind)?.get(name, namespace) as V1Deployment | V1StatefulSet | undefined;
    if (!object) return undefined;
    return {
      desired: object.spec?.replicas ?? 1,
      generation: object.metadata?.generation,
      observedGeneration: object.status?.observedGeneration,
      replicas: object.status?.replicas,
      readyReplicas: object.status?.readyReplicas,
      updatedReplicas: object.status?.updatedReplicas,
    };
  }

  function rocketmqInitialized(fc: FreeChat, plan: Plan): boolean {
    const job = plan.objects.find((o) => o.kind === 'Job');
    if (!job) return true;
    const live = informers.children.get('Job')?.get(job.metadata!.name!, fc.metadata.namespace) as V1Job | undefined;
    return (live?.status?.succeeded ?? 0) > 0;
  }

  async function writeStatus(fc: FreeChat, status: FreeChatStatus): Promise<void> {
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(fc.status ?? {})), JSON.parse(JSON.stringify(status)))) return;
    // JSON patch `add` replaces /status whether or not it exists; the status subresource ignores spec.
    await kube.custom.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: fc.metadata.namespace,
      name: fc.metadata.name,
      body: [{ op: 'add', path: '/status', value: status }],
    });
    const before = fc.status?.conditions?.find((c) => c.type === 'Ready');
    const after = status.conditions?.find((c) => c.type === 'Ready');
    if (after && before?.status !== after.status) {
      await events.record(fc, after.status === 'True' ? 'Normal' : 'Warning', after.status === 'True' ? 'Ready' : after.reason, after.message);
    }
  }

  return async function reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const live = informers.freeChats.get(name, namespace) as (FreeChat & KubernetesObject & { metadata: { deletionTimestamp?: Date } }) | undefined;
    // Gone or going: the garbage collector removes the children through their ownerReferences.
    if (!live || live.metadata.deletionTimestamp) return;
    const fc: FreeChat = { ...live, spec: specWithDefaults(live.spec) };
    const started = process.hrtime.bigint();
    const log = logger.child({ freechat: key, generation: fc.metadata.generation });
    try {
      let plan = planFreeChat(fc);
      if (plan.objects.some((o) => o.kind === 'ServiceMonitor') && !(await serviceMonitorsAvailable())) {
        plan = { ...plan, objects: plan.objects.filter((o) => o.kind !== 'ServiceMonitor') };
        // Once per generation: every child event reconciles again, and each would add an Event.
        const warning = `${fc.metadata.uid}/${fc.metadata.generation}`;
        if (!warnedServiceMonitor.has(warning)) {
          warnedServiceMonitor.add(warning);
          await events.record(fc, 'Warning', 'ServiceMonitorUnavailable', 'observability.serviceMonitor is on but the ServiceMonitor CRD (Prometheus Operator) is not installed');
        }
      }
      const created = await ensureGeneratedSecrets(kube, fc, plan.secrets, informers.children.get('Secret'));
      if (created.length > 0) await events.record(fc, 'Normal', 'SecretsGenerated', `Generated ${created.join(', ')}`);
      const failures = await applyObjects(kube, fc, plan.objects);
      metrics.appliedObjects.inc(plan.objects.length);
      const removed = failures.length === 0 ? await pruneObjects(kube, fc, plan, informers.children) : [];
      if (removed.length > 0) log.info({ removed }, 'pruned children the resource no longer asks for');
      const reconcileError = failures.length > 0 ? `Could not apply ${failures.length} object(s): ${failures.join('; ')}` : undefined;
      const status = computeStatus(
        fc,
        {
          workload: (child) => workloadState('Deployment', namespace, child) ?? workloadState('StatefulSet', namespace, child),
          rocketmqInitialized: rocketmqInitialized(fc, plan),
          ...(reconcileError && { reconcileError }),
        },
        fc.status,
        now(),
      );
      await writeStatus(fc, status);
      if (reconcileError) {
        // Retries repeat the failure: an Event when it is new, not on every backoff step.
        if (fc.status?.conditions?.find((c) => c.type === 'Ready')?.message !== reconcileError) await events.record(fc, 'Warning', 'ApplyFailed', reconcileError);
        throw new ReconcileError(reconcileError);
      }
      metrics.reconciles.inc({ result: 'success' });
      log.debug({ objects: plan.objects.length, ready: status.conditions?.[0]?.status }, 'reconciled');
    } catch (error) {
      // Deleted while we worked: nothing left to reconcile.
      if (statusOf(error) === 404 && !informers.freeChats.get(name, namespace)) return;
      metrics.reconciles.inc({ result: 'error' });
      if (!(error instanceof ReconcileError)) log.warn({ error: describeError(error) }, 'reconcile failed');
      throw error;
    } finally {
      metrics.reconcileSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
