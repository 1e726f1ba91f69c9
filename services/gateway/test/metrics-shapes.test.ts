// The gateway's metric definitions: names, types and bounded labels (route templates, methods,
// status codes, event types, limit names), without a server.
import { createMetricsRegistry } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { gatewayMetrics, RATE_LIMITS, SSE_EVENT_TYPES, UNMATCHED_ROUTE } from '../src/metrics.js';

describe('gateway metrics', () => {
  it('defines HTTP, SSE, rate-limit, token-timing and stream series', async () => {
    const registry = createMetricsRegistry('gateway');
    gatewayMetrics(registry);
    const json = await registry.getMetricsAsJSON();
    const shapes = Object.fromEntries(json.filter((m) => m.name.startsWith('freechat_')).map((m) => [m.name, m.type]));
    expect(shapes).toMatchObject({
      freechat_http_request_duration_seconds: 'histogram',
      freechat_gateway_sse_streams_active: 'gauge',
      freechat_gateway_sse_events_sent_total: 'counter',
      freechat_gateway_sse_resumes_total: 'counter',
      freechat_gateway_sse_client_disconnects_total: 'counter',
      freechat_gateway_rate_limited_total: 'counter',
      freechat_gateway_time_to_first_token_seconds: 'histogram',
      freechat_gateway_inter_token_gap_seconds: 'histogram',
      freechat_stream_hop_seconds: 'histogram',
      freechat_stream_residence_seconds: 'histogram',
    });
    const byName = Object.fromEntries(json.map((m) => [m.name, m]));
    expect(byName['freechat_gateway_sse_events_sent_total']!.values.map((v) => v.labels['event']).sort()).toEqual([...SSE_EVENT_TYPES].sort());
    expect(byName['freechat_gateway_rate_limited_total']!.values.map((v) => v.labels['limit']).sort()).toEqual([...RATE_LIMITS].sort());
  });

  it('labels a request by its route template, an unmatched one as one value, and odd methods as other', async () => {
    const registry = createMetricsRegistry('gateway');
    const metrics = gatewayMetrics(registry);
    metrics.httpRequest('GET', '/api/sessions/:id', 200, 0.01);
    metrics.httpRequest('GET', undefined, 404, 0.001);
    metrics.httpRequest('BREW', undefined, 404, 0.001);
    const counts = (await metrics.httpRequestDurationSeconds.get()).values.filter((v) => v.metricName === 'freechat_http_request_duration_seconds_count');
    expect(counts.map((v) => v.labels)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: 'GET', route: '/api/sessions/:id', status_code: '200' }),
        expect.objectContaining({ method: 'GET', route: UNMATCHED_ROUTE, status_code: '404' }),
        expect.objectContaining({ method: 'other', route: UNMATCHED_ROUTE, status_code: '404' }),
      ]),
    );
  });
});
