// What the domain-event tests share: chat configured for events, an inference engine whose title
// answers are scripted (the tiny model's random words make no title to assert on), and SQL probes.
import pg from 'pg';
import { withGenerate } from '../../../inference/src/engine/index.js';
import { defaultEngineFactory, type EngineFactory } from '../../../inference/src/server.js';
import type { ChatConfig } from '../../src/config.js';

/** What the scripted model answers to a title request: reasoning, Markdown, a label, quotes, a full stop. */
export const SCRIPTED_TITLE_ANSWER = '**Title:** "Quantum cats at dinner."';
export const SCRIPTED_TITLE = 'Quantum cats at dinner';

/** The real engine; title requests (the title writer's request ids) get the scripted answer. */
export const scriptedTitles: EngineFactory = async (model, config, logger) =>
  withGenerate(await defaultEngineFactory(model, config, logger), async function* (request, inner) {
    if (!request.requestId.startsWith('title-')) {
      yield* inner.generate(request);
      return;
    }
    yield { type: 'delta', channel: 'reasoning', text: 'A title, then.', tokenCount: 4 };
    yield { type: 'delta', channel: 'content', text: SCRIPTED_TITLE_ANSWER, tokenCount: 9 };
    yield {
      type: 'done',
      finishReason: 'stop',
      usage: { promptTokens: 40, completionTokens: 13, cachedPromptTokens: 0 },
      timings: { queueWaitMs: 0, timeToFirstTokenMs: 1, decodeTokensPerSecond: 100 },
    };
  });

/** Chat's config with events on `endpoints` (empty: in-process), quick polls and retries. */
export function withEvents(config: ChatConfig, endpoints: string, overrides: Partial<ChatConfig['events']> = {}): ChatConfig {
  return {
    ...config,
    events: {
      ...config.events,
      endpoints,
      relay: { ...config.events.relay, pollIntervalMs: 100, maxBackoffMs: 2_000 },
      maxAttempts: 3,
      retryDelayMs: 500,
      ...overrides,
    },
  };
}

export async function sql<R extends pg.QueryResultRow>(db: pg.Pool, text: string, values: unknown[] = []): Promise<R[]> {
  return (await db.query<R>(text, values)).rows;
}

export function openDb(url: string): pg.Pool {
  return new pg.Pool({ connectionString: url, max: 2 });
}
