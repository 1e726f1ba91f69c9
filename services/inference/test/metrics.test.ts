// The inference service's metric definitions: names, types and bounded labels, and that the engine's
// observer calls land in them (the integration test in the gateway suite sees them from a real run).
import { createMetricsRegistry } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { FINISH_REASONS, inferenceMetrics } from '../src/metrics.js';

describe('inference metrics', () => {
  it('defines the vLLM-style series with base units and bounded labels', async () => {
    const registry = createMetricsRegistry('inference');
    inferenceMetrics(registry);
    const shapes = Object.fromEntries(
      (await registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('freechat_')).map((m) => [m.name, m.type]),
    );
    expect(shapes).toMatchObject({
      freechat_inference_time_to_first_token_seconds: 'histogram',
      freechat_inference_inter_token_latency_seconds: 'histogram',
      freechat_inference_queue_wait_seconds: 'histogram',
      freechat_inference_prefill_step_seconds: 'histogram',
      freechat_inference_decode_step_seconds: 'histogram',
      freechat_inference_batch_size: 'histogram',
      freechat_inference_requests_running: 'gauge',
      freechat_inference_requests_waiting: 'gauge',
      freechat_inference_prompt_tokens_total: 'counter',
      freechat_inference_generation_tokens_total: 'counter',
      freechat_inference_requests_finished_total: 'counter',
      freechat_inference_e2e_request_latency_seconds: 'histogram',
      freechat_inference_kv_cache_bytes: 'gauge',
      freechat_stream_hop_seconds: 'histogram',
      freechat_stream_residence_seconds: 'histogram',
    });
    const finished = await registry.getSingleMetric('freechat_inference_requests_finished_total')!.get();
    expect(finished.values.map((v) => v.labels['finish_reason']).sort()).toEqual([...FINISH_REASONS].sort());
  });

  it('turns observer calls into observations: first token vs inter-token, finish reasons, load', async () => {
    const registry = createMetricsRegistry('inference');
    const metrics = inferenceMetrics(registry);
    metrics.token!(0.5, true);
    metrics.token!(0.02, false);
    metrics.token!(0.03, false);
    metrics.finished!('length', { promptTokens: 12, completionTokens: 3, cachedPromptTokens: 8 }, 0.6);
    metrics.load!({ running: 2, waiting: 5, kvCache: { path: 'shared-buffer', budgetBytes: 65536, reservedBytes: 8192, allocatedBytes: 4096, prefixCacheBytes: 2048 } });
    const event = { type: 'delta', channel: 'content', text: 'x', tokenCount: 1 } as const;
    metrics.delta!(event);
    metrics.deltaWritten(event);
    const value = async (name: string, suffix = '') =>
      (await registry.getSingleMetric(name)!.get()).values.filter((v) => (v as { metricName?: string }).metricName === undefined || (v as { metricName?: string }).metricName === name + suffix).reduce((s, v) => s + v.value, 0);
    expect(await value('freechat_inference_time_to_first_token_seconds', '_count')).toBe(1);
    expect(await value('freechat_inference_inter_token_latency_seconds', '_count')).toBe(2);
    expect(await value('freechat_inference_generation_tokens_total')).toBe(3);
    expect(await value('freechat_inference_prompt_tokens_total')).toBe(12);
    expect(await value('freechat_inference_requests_waiting')).toBe(5);
    expect(await value('freechat_inference_kv_cache_bytes')).toBe(4096);
    expect(await value('freechat_inference_kv_cache_reserved_bytes')).toBe(8192);
    expect(await value('freechat_inference_kv_cache_budget_bytes')).toBe(65536);
    expect(await value('freechat_inference_prefix_cache_bytes')).toBe(2048);
    expect(await value('freechat_inference_prefix_cache_hit_tokens_total')).toBe(8);
    expect(await value('freechat_stream_residence_seconds', '_count')).toBe(1);
    const finished = await registry.getSingleMetric('freechat_inference_requests_finished_total')!.get();
    expect(finished.values.find((v) => v.labels['finish_reason'] === 'length')?.value).toBe(1);
  });
});
