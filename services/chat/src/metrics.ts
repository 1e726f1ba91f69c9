// Every metric the chat service defines, built over a Registry so tests read their shapes. Labels are
// bounded sets (outcomes, operations); never a user, session or run id.
import { defineStreamMetrics, type Registry, type StreamMetrics } from '@freechat/shared';
import { Counter, Gauge, Histogram } from 'prom-client';
import { RUN_ERRORS, type RunErrorCode } from './errors.js';

/** How a run ended: its finish reason when it finished, else its error code. */
export const RUN_OUTCOMES = ['stop', 'length', 'stopped', ...(Object.keys(RUN_ERRORS) as RunErrorCode[])] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** What a message write was: the user message with the run's start, a periodic flush, the final write. */
export const PERSIST_OPERATIONS = ['start', 'flush', 'finish'] as const;
export type PersistOperation = (typeof PERSIST_OPERATIONS)[number];

export interface ChatMetrics {
  readonly runsStarted: Counter<never>;
  readonly runsFinished: Counter<'outcome'>;
  readonly runDurationSeconds: Histogram<'outcome'>;
  readonly runsActive: Gauge<never>;
  readonly messagePersistSeconds: Histogram<'operation'>;
  readonly runLogAppends: Counter<never>;
  readonly runLogRuns: Gauge<never>;
  readonly outboxPendingEvents: Gauge<never>;
  readonly stream: StreamMetrics;
  runEnded(outcome: RunOutcome, seconds: number): void;
}

export interface ChatMetricsSources {
  /** Runs this replica's run log holds (memory) or wrote and still tracks (Redis). */
  readonly runLogRuns?: () => number;
  /** Outbox rows not yet published; read at scrape time. Undefined: unknown (not exported). */
  readonly outboxPending?: () => Promise<number | undefined>;
}

export function chatMetrics(registry: Registry, sources: ChatMetricsSources = {}): ChatMetrics {
  const registers = [registry];
  const runsStarted = new Counter({ name: 'freechat_chat_runs_started_total', help: 'Runs (answers) started.', registers });
  const runsFinished = new Counter({ name: 'freechat_chat_runs_finished_total', help: 'Runs ended, by outcome: stop, length, stopped, or the run error code.', labelNames: ['outcome'], registers });
  const runDurationSeconds = new Histogram({ name: 'freechat_chat_run_duration_seconds', help: 'From a run starting to its terminal event, by outcome.', labelNames: ['outcome'], buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640], registers });
  const runsActive = new Gauge({ name: 'freechat_chat_runs_active', help: 'Runs executing on this replica now.', registers });
  const messagePersistSeconds = new Histogram({ name: 'freechat_chat_message_persist_seconds', help: 'Time to store an assistant message in PostgreSQL, by operation (start, flush, finish).', labelNames: ['operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
  const runLogAppends = new Counter({ name: 'freechat_chat_run_log_appends_total', help: 'Events appended to the run log (deltas merged per frame count once).', registers });
  const runLogRuns = new Gauge({
    name: 'freechat_chat_run_log_runs',
    help: 'Runs held in the run log by this replica (in memory: all of them, until retention ends; Redis: its own live runs).',
    registers,
    ...(sources.runLogRuns && { collect(this: Gauge) { this.set(sources.runLogRuns!()); } }),
  });
  const outboxPendingEvents = new Gauge({
    name: 'freechat_chat_outbox_pending_events',
    help: 'Domain events written to the outbox and not yet published (relayed).',
    registers,
    ...(sources.outboxPending && {
      async collect(this: Gauge) {
        const pending = await sources.outboxPending!().catch(() => undefined);
        if (pending === undefined) this.reset();
        else this.set(pending);
      },
    }),
  });
  for (const outcome of RUN_OUTCOMES) runsFinished.inc({ outcome }, 0);
  const stream = defineStreamMetrics(registry);
  return {
    runsStarted,
    runsFinished,
    runDurationSeconds,
    runsActive,
    messagePersistSeconds,
    runLogAppends,
    runLogRuns,
    outboxPendingEvents,
    stream,
    runEnded(outcome, seconds) {
      runsFinished.inc({ outcome });
      runDurationSeconds.observe({ outcome }, seconds);
    },
  };
}
