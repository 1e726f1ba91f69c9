// The run log in Redis Streams, so any chat replica can serve, resume or finish any run.
// One stream per run holds its numbered events (entry ids 0-1, 0-2, … are the seqs); appends are one
// Lua call (refuse after the end, refuse a gap, number, expire, notify); readers wait on a per-run
// pub/sub channel shared by every subscriber in the process, so a thousand readers cost two connections.
import type { Logger, Redis } from '@freechat/shared';
import { NotFoundError } from './errors.js';
import { isTerminal, type RunEvent, type RunEventBody } from './run-events.js';
import { RunEndedError, RunLogUnavailableError, type RunLog, type SubscribeOptions } from './run-log.js';
import type { RedisChannels } from './redis-channels.js';

export interface RedisRunLogOptions {
  readonly redis: Redis;
  readonly channels: RedisChannels;
  /** How long a finished run stays readable. */
  readonly retentionMs: number;
  /** A run nobody appends to for this long is dropped (its owner died and nobody finished it). */
  readonly idleExpiryMs: number;
  /** A reader with no notification re-reads after this long (a lost PUBLISH costs at most this). */
  readonly pollMs?: number;
  readonly logger: Logger;
}

export const runLogKey = (runId: string): string => `freechat:run:{${runId}}:log`;
const endKey = (runId: string): string => `freechat:run:{${runId}}:end`;
export const runEventsChannel = (runId: string): string => `freechat:run:{${runId}}:appended`;

// KEYS: log, end. ARGV: expected seq (0: any), payload, terminal (1/0), retention ms, idle ms, channel.
const APPEND_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('ENDED run has already ended') end
local expected = tonumber(ARGV[1])
if expected > 0 and redis.call('XLEN', KEYS[1]) ~= expected - 1 then
  return redis.error_reply('GAP run log lost events')
end
local id = redis.call('XADD', KEYS[1], '0-*', 'e', ARGV[2])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
redis.call('PUBLISH', ARGV[6], id)
return id
`;

type Entry = [id: string, fields: string[]];

const READ_BATCH = 512;

export class RedisRunLog implements RunLog {
  /** Next seq of each run this process appends to: an append that does not land there is a lost log. */
  private readonly nextSeq = new Map<string, number>();

  constructor(private readonly options: RedisRunLogOptions) {}

  async append(runId: string, body: RunEventBody): Promise<RunEvent> {
    const { redis, retentionMs, idleExpiryMs } = this.options;
    const expected = this.nextSeq.get(runId) ?? (body.$case === 'started' ? 1 : 0);
    const terminal = isTerminal(body);
    let id: string;
    try {
      id = (await redis.eval(APPEND_SCRIPT, 2, runLogKey(runId), endKey(runId), expected, JSON.stringify(body), terminal ? 1 : 0, retentionMs, idleExpiryMs, runEventsChannel(runId))) as string;
    } catch (error) {
      const message = (error as Error).message ?? '';
      // The expected seq stays: after a failure, only an append that lands exactly there is accepted.
      if (terminal) this.nextSeq.delete(runId);
      if (message.startsWith('ENDED')) throw new RunEndedError(runId);
      if (message.startsWith('GAP')) throw new RunLogUnavailableError('the run log lost events (Redis restarted)', { cause: error });
      throw new RunLogUnavailableError('the run log is unreachable', { cause: error });
    }
    const seq = seqOf(id);
    if (terminal) this.nextSeq.delete(runId);
    else this.nextSeq.set(runId, seq + 1);
    return { runId, seq, event: body };
  }

  async read(runId: string, afterSeq: number): Promise<RunEvent[] | undefined> {
    const { redis } = this.options;
    try {
      const [entries, exists] = await Promise.all([
        redis.xrange(runLogKey(runId), `(0-${Math.max(0, afterSeq)}`, '+') as Promise<Entry[]>,
        afterSeq > 0 ? redis.exists(runLogKey(runId)) : Promise.resolve(1),
      ]);
      if (entries.length === 0 && (afterSeq === 0 || exists === 0)) return undefined;
      return entries.map((entry) => toEvent(runId, entry));
    } catch (error) {
      throw new RunLogUnavailableError('the run log is unreachable', { cause: error });
    }
  }

  async *subscribe(runId: string, afterSeq: number, options: SubscribeOptions = {}): AsyncIterable<RunEvent> {
    const { redis, channels, pollMs = 1_000 } = this.options;
    const { signal } = options;
    // Listening before the first read: an append between the read and the wait still wakes us.
    const listener = await channels.listen(runEventsChannel(runId));
    try {
      let next = Math.max(0, afterSeq);
      let endSeen = false;
      for (let first = true; ; first = false) {
        let entries: Entry[];
        try {
          entries = (await redis.xrange(runLogKey(runId), `(0-${next}`, '+', 'COUNT', READ_BATCH)) as Entry[];
        } catch (error) {
          throw new RunLogUnavailableError('the run log is unreachable', { cause: error });
        }
        for (const entry of entries) {
          const event = toEvent(runId, entry);
          next = event.seq;
          yield event;
          if (isTerminal(event.event)) return;
        }
        if (entries.length === READ_BATCH) continue;
        if (entries.length === 0) {
          // Ended with nothing after `next` (checked once more after seeing the end: it may have
          // come between the read and the check).
          if (endSeen) return;
          const [exists, ended] = await this.existence(runId);
          if (exists === 0) {
            if (first) throw new NotFoundError('run');
            // It existed and is gone without an end: Redis lost it (restart) or it expired under us.
            throw new RunLogUnavailableError('the run log was lost');
          }
          if (ended === 1) {
            endSeen = true;
            continue;
          }
        }
        // After a read with entries no check is needed: we listened before reading, so anything
        // appended since is already a pending notification.
        if (signal?.aborted) return;
        await listener.next(pollMs, signal);
        if (signal?.aborted) return;
      }
    } finally {
      listener.close();
    }
  }

  async ended(runId: string): Promise<boolean | undefined> {
    const [exists, ended] = await this.existence(runId);
    return exists === 0 ? undefined : ended === 1;
  }

  /** Whether the run's log and its end marker exist, in one round trip. */
  private async existence(runId: string): Promise<[number, number]> {
    try {
      const results = await this.options.redis.pipeline().exists(runLogKey(runId)).exists(endKey(runId)).exec();
      const values = (results ?? []).map(([error, value]) => {
        if (error) throw error;
        return value as number;
      });
      return [values[0] ?? 0, values[1] ?? 0];
    } catch (error) {
      throw new RunLogUnavailableError('the run log is unreachable', { cause: error });
    }
  }

  close(): Promise<void> {
    this.nextSeq.clear();
    return Promise.resolve();
  }
}

function seqOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}

function toEvent(runId: string, [id, fields]: Entry): RunEvent {
  const payload = fields[fields.indexOf('e') + 1];
  return { runId, seq: seqOf(id), event: JSON.parse(payload!) as RunEventBody };
}
