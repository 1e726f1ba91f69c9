// The auth service's metric definitions: outcome counters with bounded labels, every outcome
// exported at zero so a rate over it exists before the first event.
import { createMetricsRegistry } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { authMetrics, LOGIN_OUTCOMES, REFRESH_OUTCOMES, REGISTER_OUTCOMES } from '../src/metrics.js';

describe('auth metrics', () => {
  it('defines logins, registrations, refreshes and reuse detections as counters with outcome labels', async () => {
    const registry = createMetricsRegistry('auth');
    authMetrics(registry);
    const json = Object.fromEntries((await registry.getMetricsAsJSON()).map((m) => [m.name, m]));
    for (const [name, outcomes] of [
      ['freechat_auth_logins_total', LOGIN_OUTCOMES],
      ['freechat_auth_registrations_total', REGISTER_OUTCOMES],
      ['freechat_auth_refreshes_total', REFRESH_OUTCOMES],
    ] as const) {
      expect(json[name]?.type, name).toBe('counter');
      expect(json[name]!.values.map((v) => v.labels['outcome']).sort(), name).toEqual([...outcomes].sort());
      expect(json[name]!.values.every((v) => v.value === 0)).toBe(true);
    }
    expect(json['freechat_auth_refresh_token_reuse_detected_total']?.type).toBe('counter');
  });
});
