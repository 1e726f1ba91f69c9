// The operator process: watches (informers), a work queue reconciling FreeChat keys, leader
// election deciding whether this replica's queue runs, and the health/metrics endpoint.
import type { Logger, StartedService } from '@freechat/shared';
import type { OperatorConfig } from './config.js';
import { createEventRecorder } from './controller/events.js';
import { serveHttp } from './controller/http-server.js';
import { createInformers, OWNED_KINDS, SERVICE_MONITOR_KIND, type WatchedKind } from './controller/informers.js';
import { connect, describeError, statusOf, type Kube } from './controller/kube.js';
import { startLeaderElection, type LeaderElection } from './controller/leader-election.js';
import { createOperatorMetrics } from './controller/metrics.js';
import { createReconciler } from './controller/reconciler.js';
import { WorkQueue } from './controller/work-queue.js';
import { SERVICE_MONITOR_CRD } from './plan/observability.js';

export interface StartOperatorOptions {
  readonly kube?: Kube;
  /** Called when leadership is lost: by default the process exits to restart clean (client-go's practice). */
  readonly onLostLeadership?: () => void;
}

export interface RunningOperator extends StartedService {
  readonly port: number;
  readonly isLeader: () => boolean;
}

/** ServiceMonitors are watched only where their CRD exists. */
async function watchedKinds(kube: Kube): Promise<WatchedKind[]> {
  try {
    await kube.apiextensions.readCustomResourceDefinition({ name: SERVICE_MONITOR_CRD });
    return [...OWNED_KINDS, SERVICE_MONITOR_KIND];
  } catch (error) {
    if (statusOf(error) === 404 || statusOf(error) === 403) return [...OWNED_KINDS];
    throw error;
  }
}

export async function startOperator(config: OperatorConfig, logger: Logger, options: StartOperatorOptions = {}): Promise<RunningOperator> {
  const settings = config.operator;
  const kube = options.kube ?? connect();
  const metrics = createOperatorMetrics();
  const events = createEventRecorder(kube, logger, settings.leaderElection.identity);
  let synced = false;

  // The queue exists from the start (informers enqueue into it) but runs only while leading.
  let queue: WorkQueue | undefined;
  const enqueue = (key: string): void => {
    queue?.add(key);
    metrics.queueDepth.set(queue?.depth ?? 0);
  };
  const informers = createInformers(kube, {
    namespace: settings.watchNamespace,
    kinds: await watchedKinds(kube),
    enqueue,
    onError: (kind, error) => logger.warn({ kind, error: describeError(error) }, 'watch failed; restarting it'),
  });
  queue = new WorkQueue({
    concurrency: settings.concurrency,
    backoff: { baseMs: 500, maxMs: settings.maxRetryDelayMs },
    process: createReconciler({ kube, informers, events, metrics, logger }),
    onError: (key, error, retryInMs) => logger.warn({ freechat: key, retryInMs, error: describeError(error) }, 'reconcile failed; retrying'),
  });

  const http = await serveHttp(settings.httpAddress, metrics.registry, () => synced);
  logger.info({ url: `http://${settings.httpAddress.replace(/:\d+$/, '')}:${http.port}`, namespace: settings.watchNamespace || '(all)' }, 'operator: health and metrics');
  await informers.start();
  synced = true;

  const resync = setInterval(() => {
    for (const fc of informers.freeChats.list()) enqueue(`${fc.metadata.namespace}/${fc.metadata.name}`);
  }, settings.resyncIntervalMs);
  resync.unref();

  const lead = (): void => {
    metrics.leader.set(1);
    queue!.start();
    // Everything, once: what changed while following is not in the queue.
    for (const fc of informers.freeChats.list()) enqueue(`${fc.metadata.namespace}/${fc.metadata.name}`);
  };

  let election: LeaderElection | undefined;
  const le = settings.leaderElection;
  if (le.enabled) {
    election = startLeaderElection(kube, logger, {
      namespace: le.namespace,
      leaseName: le.leaseName,
      identity: le.identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      onStartedLeading: lead,
      onStoppedLeading: () => {
        metrics.leader.set(0);
        void queue!.shutdown();
        (options.onLostLeadership ?? (() => process.exit(1)))();
      },
      onNewLeader: (identity) => logger.info({ leader: identity }, 'leader election: following'),
    });
  } else {
    lead();
  }

  return {
    ready: Promise.resolve(),
    port: http.port,
    isLeader: () => election?.isLeader() ?? true,
    async close() {
      clearInterval(resync);
      await queue!.shutdown();
      await election?.stop();
      await informers.stop();
      await http.close();
      logger.info('operator stopped');
    },
  };
}
