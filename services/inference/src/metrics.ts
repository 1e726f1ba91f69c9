// Every metric the inference service defines (names in the style of vLLM's, `freechat_inference_`
// prefix), built over a Registry so tests read their shapes. The engine stays free of prom-client:
// it reports through EngineObserver, which inferenceMetrics() implements.
import { Counter, Gauge, Histogram, defineStreamMetrics, type Registry, type StreamMetrics } from '@freechat/shared';
import type { EngineObserver, GenerationEvent } from './engine/types.js';

/** vLLM's TTFT buckets, in seconds: sub-second on a warm batch, tens of seconds behind a long queue. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const STEP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ITL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5];

export const FINISH_REASONS = ['stop', 'length', 'cancelled', 'error'] as const;

export interface InferenceMetrics extends EngineObserver {
  readonly timeToFirstTokenSeconds: Histogram<never>;
  readonly interTokenLatencySeconds: Histogram<never>;
  readonly queueWaitSeconds: Histogram<never>;
  readonly prefillStepSeconds: Histogram<never>;
  readonly decodeStepSeconds: Histogram<never>;
  readonly batchSize: Histogram<never>;
  readonly requestsRunning: Gauge<never>;
  readonly requestsWaiting: Gauge<never>;
  readonly promptTokens: Counter<never>;
  readonly generationTokens: Counter<never>;
  readonly requestsFinished: Counter<'finish_reason'>;
  readonly requestSeconds: Histogram<never>;
  readonly kvCacheBytes: Gauge<never>;
  readonly kvCacheReservedBytes: Gauge<never>;
  readonly kvCacheBudgetBytes: Gauge<never>;
  readonly prefixCacheBytes: Gauge<never>;
  readonly stream: StreamMetrics;
  /** The gRPC handler wrote `event` to the stream: its residence since the engine emitted it. */
  deltaWritten(event: GenerationEvent): void;
}

export function inferenceMetrics(registry: Registry): InferenceMetrics {
  const registers = [registry];
  const timeToFirstTokenSeconds = new Histogram({ name: 'freechat_inference_time_to_first_token_seconds', help: 'From a request arriving at the engine to its first token being sampled (queue wait and prefill included).', buckets: LATENCY_BUCKETS, registers });
  const interTokenLatencySeconds = new Histogram({ name: 'freechat_inference_inter_token_latency_seconds', help: 'Time between consecutive tokens of one request.', buckets: ITL_BUCKETS, registers });
  const queueWaitSeconds = new Histogram({ name: 'freechat_inference_queue_wait_seconds', help: 'From a request arriving to its admission into the batch.', buckets: LATENCY_BUCKETS, registers });
  const prefillStepSeconds = new Histogram({ name: 'freechat_inference_prefill_step_seconds', help: 'Duration of one prefill chunk (one forward pass over up to prefillChunkTokens prompt tokens).', buckets: STEP_BUCKETS, registers });
  const decodeStepSeconds = new Histogram({ name: 'freechat_inference_decode_step_seconds', help: 'Duration of one decode step (one token for every running request).', buckets: STEP_BUCKETS, registers });
  const batchSize = new Histogram({ name: 'freechat_inference_batch_size', help: 'Requests decoded together in one decode step.', buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64], registers });
  const requestsRunning = new Gauge({ name: 'freechat_inference_requests_running', help: 'Requests prefilling or decoding now.', registers });
  const requestsWaiting = new Gauge({ name: 'freechat_inference_requests_waiting', help: 'Requests queued for a batch slot now.', registers });
  const promptTokens = new Counter({ name: 'freechat_inference_prompt_tokens_total', help: 'Prompt tokens of finished requests.', registers });
  const generationTokens = new Counter({ name: 'freechat_inference_generation_tokens_total', help: 'Tokens sampled (generated), counted as they are sampled.', registers });
  const requestsFinished = new Counter({ name: 'freechat_inference_requests_finished_total', help: 'Requests finished, by finish reason (stop, length, cancelled, error).', labelNames: ['finish_reason'], registers });
  const requestSeconds = new Histogram({ name: 'freechat_inference_e2e_request_latency_seconds', help: 'From a request arriving at the engine to its end.', buckets: [...LATENCY_BUCKETS, 160, 320], registers });
  const kvCacheBytes = new Gauge({ name: 'freechat_inference_kv_cache_bytes', help: 'Bytes of KV cache held now: running and prefilling requests, and the prefix cache.', registers });
  const kvCacheReservedBytes = new Gauge({ name: 'freechat_inference_kv_cache_reserved_bytes', help: 'Worst-case KV bytes (prompt + max new tokens) reserved by the requests prefilling and running.', registers });
  const kvCacheBudgetBytes = new Gauge({ name: 'freechat_inference_kv_cache_budget_bytes', help: 'KV bytes running requests may reserve together (admission waits beyond it); absent when unbounded.', registers });
  const prefixCacheBytes = new Gauge({ name: 'freechat_inference_prefix_cache_bytes', help: 'KV bytes of cached prefixes (finished conversations kept for their next turn); part of freechat_inference_kv_cache_bytes.', registers });
  const prefixCachedTokens = new Counter({ name: 'freechat_inference_prefix_cache_hit_tokens_total', help: 'Prompt tokens whose K/V came from the prefix cache (no prefill).', registers });
  const stream = defineStreamMetrics(registry);
  // Monotonic time each delta left the engine, until the handler writes it (the event is the key).
  const emitted = new WeakMap<GenerationEvent, number>();
  for (const reason of FINISH_REASONS) requestsFinished.inc({ finish_reason: reason }, 0);

  return {
    timeToFirstTokenSeconds,
    interTokenLatencySeconds,
    queueWaitSeconds,
    prefillStepSeconds,
    decodeStepSeconds,
    batchSize,
    requestsRunning,
    requestsWaiting,
    promptTokens,
    generationTokens,
    requestsFinished,
    requestSeconds,
    kvCacheBytes,
    kvCacheReservedBytes,
    kvCacheBudgetBytes,
    prefixCacheBytes,
    stream,
    admitted: (seconds) => queueWaitSeconds.observe(seconds),
    prefillStep: (seconds) => prefillStepSeconds.observe(seconds),
    decodeStep: (seconds, size) => {
      decodeStepSeconds.observe(seconds);
      batchSize.observe(size);
    },
    token: (sincePrevious, first) => {
      generationTokens.inc();
      (first ? timeToFirstTokenSeconds : interTokenLatencySeconds).observe(sincePrevious);
    },
    load: ({ running, waiting, kvCache }) => {
      requestsRunning.set(running);
      requestsWaiting.set(waiting);
      kvCacheBytes.set(kvCache.allocatedBytes);
      kvCacheReservedBytes.set(kvCache.reservedBytes);
      prefixCacheBytes.set(kvCache.prefixCacheBytes);
      if (kvCache.budgetBytes !== undefined) kvCacheBudgetBytes.set(kvCache.budgetBytes);
    },
    finished: (reason, usage, seconds) => {
      requestsFinished.inc({ finish_reason: reason });
      promptTokens.inc(usage.promptTokens);
      prefixCachedTokens.inc(usage.cachedPromptTokens);
      requestSeconds.observe(seconds);
    },
    delta: (event) => emitted.set(event, performance.now()),
    deltaWritten(event) {
      const at = emitted.get(event);
      if (at !== undefined) stream.residenceSeconds.observe((performance.now() - at) / 1000);
    },
  };
}
