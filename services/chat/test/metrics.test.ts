// The chat service's metric definitions: names, types, bounded labels (outcomes and operations,
// never an id), and the scrape-time gauges reading their sources.
import { createMetricsRegistry } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { RUN_ERRORS } from '../src/errors.js';
import { chatMetrics, PERSIST_OPERATIONS, RUN_OUTCOMES } from '../src/metrics.js';

describe('chat metrics', () => {
  it('defines runs, persistence, run log, outbox and stream series with bounded labels', async () => {
    const registry = createMetricsRegistry('chat');
    chatMetrics(registry, { runLogSize: () => ({ runs: 3, events: 42 }), outboxPending: async () => 7 });
    const json = await registry.getMetricsAsJSON();
    const shapes = Object.fromEntries(json.filter((m) => m.name.startsWith('freechat_')).map((m) => [m.name, m.type]));
    expect(shapes).toMatchObject({
      freechat_chat_runs_started_total: 'counter',
      freechat_chat_runs_finished_total: 'counter',
      freechat_chat_run_duration_seconds: 'histogram',
      freechat_chat_runs_active: 'gauge',
      freechat_chat_message_persist_seconds: 'histogram',
      freechat_chat_run_log_appends_total: 'counter',
      freechat_chat_run_log_runs: 'gauge',
      freechat_chat_run_log_events: 'gauge',
      freechat_chat_outbox_pending_events: 'gauge',
      freechat_stream_hop_seconds: 'histogram',
      freechat_stream_residence_seconds: 'histogram',
    });
    const byName = Object.fromEntries(json.map((m) => [m.name, m]));
    expect(byName['freechat_chat_runs_finished_total']!.values.map((v) => v.labels['outcome']).sort()).toEqual([...RUN_OUTCOMES].sort());
    expect(RUN_OUTCOMES).toEqual(expect.arrayContaining(Object.keys(RUN_ERRORS)));
    expect(byName['freechat_chat_run_log_runs']!.values[0]!.value).toBe(3);
    expect(byName['freechat_chat_run_log_events']!.values[0]!.value).toBe(42);
    expect(byName['freechat_chat_outbox_pending_events']!.values[0]!.value).toBe(7);
    expect(PERSIST_OPERATIONS).toEqual(['start', 'flush', 'finish']);
  });

  it('with Redis holding the run log, exports no run-log size; an outbox it cannot read is left out', async () => {
    const registry = createMetricsRegistry('chat');
    chatMetrics(registry, { outboxPending: async () => undefined });
    const text = await registry.metrics();
    expect(text).not.toContain('freechat_chat_run_log_runs');
    expect(text).not.toMatch(/^freechat_chat_outbox_pending_events\{[^}]*\} [1-9]/m);
  });

  it('records a run by its outcome and duration', async () => {
    const registry = createMetricsRegistry('chat');
    const metrics = chatMetrics(registry);
    metrics.runEnded('stopped', 2.5);
    const finished = await metrics.runsFinished.get();
    expect(finished.values.find((v) => v.labels['outcome'] === 'stopped')?.value).toBe(1);
    const duration = await metrics.runDurationSeconds.get();
    expect(duration.values.find((v) => v.metricName === 'freechat_chat_run_duration_seconds_sum' && v.labels['outcome'] === 'stopped')?.value).toBe(2.5);
  });
});
