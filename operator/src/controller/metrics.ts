// The operator's Prometheus metrics: reconciles, their outcome and duration, the queue.
import { Counter, Gauge, Histogram, createMetricsRegistry, type Registry } from '@freechat/shared';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileSeconds: Histogram<never>;
  readonly queueDepth: Gauge<never>;
  readonly leader: Gauge<never>;
  readonly appliedObjects: Counter<never>;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = createMetricsRegistry('operator');
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({ name: 'freechat_operator_reconciles_total', help: 'FreeChat reconciles, by result (success, error).', labelNames: ['result'], registers }),
    reconcileSeconds: new Histogram({
      name: 'freechat_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one FreeChat (plan, apply, prune, status).',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    queueDepth: new Gauge({ name: 'freechat_operator_queue_depth', help: 'FreeChat keys waiting to be reconciled.', registers }),
    leader: new Gauge({ name: 'freechat_operator_leader', help: '1 while this replica holds the leader Lease.', registers }),
    appliedObjects: new Counter({ name: 'freechat_operator_applied_objects_total', help: 'Objects sent with server-side apply.', registers }),
  };
}
