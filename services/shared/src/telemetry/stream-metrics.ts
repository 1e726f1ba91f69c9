// The metrics of a delta's way to the browser, shared by name and shape by every service it crosses:
// inference emit → chat receive → run-log append → gateway receive → written and flushed to the socket.
// A hop whose two ends are stamped by different processes reads their wall clocks, so on different
// hosts it carries their clock skew (a negative difference is clamped to 0); residence is measured
// on one monotonic clock inside one process and needs no clock agreement.
import { Histogram, type Registry } from 'prom-client';

export const STREAM_HOPS = ['inference_to_chat', 'chat_to_run_log', 'run_log_to_gateway', 'gateway_to_socket'] as const;
export type StreamHop = (typeof STREAM_HOPS)[number];

/** A hop is sub-millisecond on one host and up to a frame (16 ms) where deltas are merged. */
export const STREAM_SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface StreamMetrics {
  /** freechat_stream_hop_seconds{hop}: one observation per delta per hop, from in-band wall-clock stamps. */
  readonly hopSeconds: Histogram<'hop'>;
  /** freechat_stream_residence_seconds: time a delta spends inside this service (its `service` label). */
  readonly residenceSeconds: Histogram<never>;
  /** Observes a hop from two wall-clock stamps in ms since the epoch; skips a missing stamp. */
  observeHop(hop: StreamHop, fromEpochMs: number | undefined, toEpochMs: number): void;
}

export function defineStreamMetrics(registry: Registry): StreamMetrics {
  const hopSeconds = new Histogram({
    name: 'freechat_stream_hop_seconds',
    help: 'Time a delta takes over one hop (inference_to_chat, chat_to_run_log, run_log_to_gateway, gateway_to_socket), from wall-clock stamps carried with it; hops across hosts include their clock skew.',
    labelNames: ['hop'],
    buckets: STREAM_SECONDS_BUCKETS,
    registers: [registry],
  });
  const residenceSeconds = new Histogram({
    name: 'freechat_stream_residence_seconds',
    help: 'Time a delta spends inside this service, from arriving (or being sampled) to being passed on, on one monotonic clock.',
    buckets: STREAM_SECONDS_BUCKETS,
    registers: [registry],
  });
  return {
    hopSeconds,
    residenceSeconds,
    observeHop(hop, fromEpochMs, toEpochMs) {
      if (fromEpochMs === undefined || !Number.isFinite(fromEpochMs) || fromEpochMs <= 0) return;
      hopSeconds.observe({ hop }, Math.max(0, toEpochMs - fromEpochMs) / 1000);
    },
  };
}
