// The run log contract, held by both implementations: numbering, exactly-once reads from any point,
// live tails, the end, expiry. The Redis one runs against the suite's real Redis; its own section
// covers what only a shared store has (several processes, memory per run, a Redis restart).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, type Redis } from '@freechat/shared';
import { startRedis, type RedisServer } from '../../../scripts/infra/redis.js';
import { infraEndpoints } from '../../../test/infra/endpoints.js';
import { NotFoundError } from '../src/errors.js';
import { RedisChannels } from '../src/redis-channels.js';
import { RedisRunLog, runLogKey } from '../src/redis-run-log.js';
import { contentDelta, FinishReason, runDone, runStarted, type RunEvent } from '../src/run-events.js';
import { MemoryRunLog, RunEndedError, RunLogUnavailableError, type RunLog } from '../src/run-log.js';
import { silentLogger } from './support/harness.js';

async function drain(iterable: AsyncIterable<RunEvent>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const event of iterable) seqs.push(event.seq);
  return seqs;
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const done = () => runDone(FinishReason.FINISH_REASON_STOP, 'm', { promptTokens: 0, completionTokens: 0 });

interface RedisPair {
  readonly redis: Redis;
  readonly channels: RedisChannels;
  close(): Promise<void>;
}

function connect(url: string): RedisPair {
  const redis = createRedisClient({ url, logger: silentLogger, name: 'run-log-test' });
  const subscriber = createRedisClient({ url, logger: silentLogger, name: 'run-log-test-sub', overrides: { commandTimeout: undefined } });
  return {
    redis,
    channels: new RedisChannels(subscriber, silentLogger),
    close: async () => {
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

const pairs: RedisPair[] = [];
afterAll(async () => {
  for (const pair of pairs) await pair.close();
});

function redisLog(retentionMs: number, url = infraEndpoints().redisUrl): RedisRunLog {
  const pair = connect(url);
  pairs.push(pair);
  return new RedisRunLog({ ...pair, retentionMs, idleExpiryMs: 60_000, pollMs: 200, logger: silentLogger });
}

const implementations: [string, (retentionMs: number) => RunLog][] = [
  ['MemoryRunLog', (retentionMs) => new MemoryRunLog({ retentionMs })],
  ['RedisRunLog', (retentionMs) => redisLog(retentionMs)],
];

describe.each(implementations)('%s', (_name, create) => {
  // Run ids are unique per test: the Redis one is shared by the whole suite.
  let r: string;
  beforeAll(() => {
    r = '';
  });
  const fresh = () => (r = randomUUID());

  it('numbers events from 1 without gaps', async () => {
    const log = create(60_000);
    fresh();
    const a = await log.append(r, runStarted(r, 'u', 'm'));
    const b = await log.append(r, contentDelta('x'));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.runId).toBe(r);
    expect((await log.read(r, 1))?.map((e) => e.seq)).toEqual([2]);
    expect((await log.read(r, 1))?.[0]?.event).toEqual(contentDelta('x'));
    await log.close();
  });

  it('gives a subscriber every event after its seq exactly once: stored, then live, then ends at the terminal event', async () => {
    const log = create(60_000);
    fresh();
    await log.append(r, runStarted(r, 'u', 'm'));
    await log.append(r, contentDelta('a'));
    await log.append(r, contentDelta('b'));
    const fromTwo = drain(log.subscribe(r, 2));
    const fromZero = drain(log.subscribe(r, 0));
    for (const text of ['c', 'd', 'e']) {
      await tick();
      await log.append(r, contentDelta(text));
    }
    await log.append(r, runDone(FinishReason.FINISH_REASON_STOP, 'm', { promptTokens: 1, completionTokens: 5 }));
    expect(await fromTwo).toEqual([3, 4, 5, 6, 7]);
    expect(await fromZero).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // After the end: the stored tail, then the iteration ends at once.
    expect(await drain(log.subscribe(r, 5))).toEqual([6, 7]);
    expect(await drain(log.subscribe(r, 7))).toEqual([]);
    await log.close();
  });

  it('refuses events after the terminal one', async () => {
    const log = create(60_000);
    fresh();
    await log.append(r, runStarted(r, 'u', 'm'));
    await log.append(r, done());
    await expect(log.append(r, contentDelta('late'))).rejects.toBeInstanceOf(RunEndedError);
    await log.close();
  });

  it('says whether a run has ended: not yet, ended, or unknown', async () => {
    const log = create(60_000);
    fresh();
    await log.append(r, runStarted(r, 'u', 'm'));
    expect(await log.ended(r)).toBe(false);
    await log.append(r, done());
    expect(await log.ended(r)).toBe(true);
    expect(await log.ended(randomUUID())).toBeUndefined();
    await log.close();
  });

  it('treats an unknown run as not found', async () => {
    const log = create(60_000);
    const unknown = randomUUID();
    expect(await log.read(unknown, 0)).toBeUndefined();
    await expect(drain(log.subscribe(unknown, 0))).rejects.toBeInstanceOf(NotFoundError);
    await log.close();
  });

  it('drops a finished run after the retention, and keeps a running one', async () => {
    const log = create(50);
    const finished = randomUUID();
    const running = randomUUID();
    await log.append(finished, runStarted(finished, 'u', 'm'));
    await log.append(finished, done());
    await log.append(running, runStarted(running, 'u', 'm2'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await log.read(finished, 0)).toBeUndefined();
    await expect(drain(log.subscribe(finished, 0))).rejects.toBeInstanceOf(NotFoundError);
    expect(await log.read(running, 0)).toHaveLength(1);
    await log.close();
  });

  it('ends a subscription when its signal aborts, without touching the run', async () => {
    const log = create(60_000);
    fresh();
    await log.append(r, runStarted(r, 'u', 'm'));
    const controller = new AbortController();
    const seqs = drain(log.subscribe(r, 0, { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await seqs).toEqual([1]);
    expect((await log.append(r, contentDelta('on'))).seq).toBe(2);
    await log.close();
  });
});

describe('RedisRunLog across processes', () => {
  it('lets a reader on another connection (another replica) tail a run live, and only one writer end it', async () => {
    const writer = redisLog(60_000);
    const reader = redisLog(60_000);
    const other = redisLog(60_000);
    const run = randomUUID();
    await writer.append(run, runStarted(run, 'u', 'm'));
    const texts: string[] = [];
    const tail = (async () => {
      for await (const event of reader.subscribe(run, 0)) if (event.event?.$case === 'content') texts.push(event.event.content.text);
    })();
    for (const text of ['one ', 'two ', 'three']) {
      await tick();
      await writer.append(run, contentDelta(text));
    }
    // Two parties race to end it (the owner, and a replica closing it as orphaned): one wins.
    const results = await Promise.allSettled([writer.append(run, done()), other.append(run, done())]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')?.reason).toBeInstanceOf(RunEndedError);
    await tail;
    expect(texts.join('')).toBe('one two three');
  });

  it('keeps a run of 1,000 merged deltas in bounded memory, and frees it after the retention', async () => {
    const log = redisLog(300);
    const { redis } = pairs.at(-1)!;
    const run = randomUUID();
    await log.append(run, runStarted(run, 'u', 'm'));
    // 1,000 appends of ~32 tokens' worth of text: a long answer after merging.
    const chunk = 'lorem ipsum dolor sit amet, con'.repeat(4);
    for (let i = 0; i < 1_000; i++) await log.append(run, contentDelta(chunk));
    const bytes = Number(await redis.memory('USAGE', runLogKey(run)));
    const payload = chunk.length * 1_000;
    // Stored size tracks the text (JSON framing, stream overhead), not the number of tokens.
    expect(bytes).toBeGreaterThan(payload);
    expect(bytes).toBeLessThan(payload * 1.6);
    await log.append(run, done());
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await redis.exists(runLogKey(run))).toBe(0);
  });
});

describe('RedisRunLog when Redis goes away (its own Redis)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ dataDir: `${process.env['TMPDIR'] ?? '/tmp'}/freechat-runlog-outage-${process.pid}` });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails fast instead of hanging, and a restart that lost the log is reported, not papered over', async () => {
    const log = redisLog(60_000, server.url);
    const run = randomUUID();
    await log.append(run, runStarted(run, 'u', 'm'));
    await log.append(run, contentDelta('before'));
    const reading = drain(log.subscribe(run, 0));
    await server.stop();
    const started = Date.now();
    await expect(log.append(run, contentDelta('during'))).rejects.toBeInstanceOf(RunLogUnavailableError);
    await expect(reading).rejects.toBeInstanceOf(RunLogUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);
    await server.restart();
    // The restarted Redis has no copy: appending seq 3 onto nothing would renumber the run.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(log.append(run, contentDelta('after'))).rejects.toBeInstanceOf(RunLogUnavailableError);
    // New runs work again.
    const next = randomUUID();
    expect((await log.append(next, runStarted(next, 'u', 'm'))).seq).toBe(1);
  });
});
