// Every metric the chat service defines, built over a Registry so tests read their shapes. Labels are
// bounded sets (outcomes, operations); never a user, session or run id.
import { Counter, Gauge, Histogram, defineStreamMetrics, type Registry, type StreamMetrics } from '@freechat/shared';
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
  readonly runLogEvents: Gauge<never>;
  readonly outboxPendingEvents: Gauge<never>;
  readonly stream: StreamMetrics;
  runEnded(outcome: RunOutcome, seconds: number): void;
}

export interface ChatMetricsSources {
  /** Runs and events the in-memory run log holds. Unset (Redis: the size lives there): not exported. */
  readonly runLogSize?: () => { readonly runs: number; readonly events: number };
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
  // Only with the in-memory log; Redis's size is Redis's own to report.
  const runLogRuns = new Gauge({
    name: 'freechat_chat_run_log_runs',
    help: 'Runs held in the in-memory run log (live, or finished within runs.logRetentionSeconds).',
    registers: sources.runLogSize ? registers : [],
    collect(this: Gauge) {
      if (sources.runLogSize) this.set(sources.runLogSize().runs);
    },
  });
  const runLogEvents = new Gauge({
    name: 'freechat_chat_run_log_events',
    help: 'Events held in the in-memory run log.',
    registers: sources.runLogSize ? registers : [],
    collect(this: Gauge) {
      if (sources.runLogSize) this.set(sources.runLogSize().events);
    },
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
    runLogEvents,
    outboxPendingEvents,
    stream,
    runEnded(outcome, seconds) {
      runsFinished.inc({ outcome });
      runDurationSeconds.observe({ outcome }, seconds);
    },
  };
}
