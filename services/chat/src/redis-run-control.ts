// Run ownership as Redis leases and stops as pub/sub broadcasts. The owner renews a short lease on
// each of its runs; a reader that hears nothing from a run whose lease is gone knows the owner died.
// Stops are broadcast on one channel: every replica acts on the runs it owns, so the sender needs no
// directory of who owns what, and a session's runs stop wherever they run.
import type { Logger, Redis } from '@freechat/shared';
import type { RedisChannels } from './redis-channels.js';
import type { RunControl, StopReason, StopTarget } from './run-control.js';

export interface RedisRunControlOptions {
  readonly redis: Redis;
  readonly channels: RedisChannels;
  /** This process, as written into its leases (for operators reading Redis). */
  readonly replicaId: string;
  /** A lease not renewed for this long means the owner is gone. Renewed every third of it. */
  readonly leaseMs: number;
  readonly logger: Logger;
}

export const CONTROL_CHANNEL = 'freechat:runs:control';
export const ownerKey = (runId: string): string => `freechat:run:{${runId}}:owner`;

interface StopMessage {
  readonly target: StopTarget;
  readonly reason: StopReason;
}

export class RedisRunControl implements RunControl {
  readonly mode = 'redis' as const;
  private readonly owned = new Set<string>();
  private readonly handlers: ((target: StopTarget, reason: StopReason) => void)[] = [];
  private readonly renewer: NodeJS.Timeout;
  private subscribed: Promise<void> | undefined;

  constructor(private readonly options: RedisRunControlOptions) {
    this.renewer = setInterval(() => void this.renew(), Math.max(50, Math.floor(options.leaseMs / 3)));
    this.renewer.unref();
  }

  /** Subscribes to the control channel; call before taking requests. */
  start(): Promise<void> {
    this.subscribed ??= this.options.channels.handle(CONTROL_CHANNEL, (message) => this.deliver(message));
    return this.subscribed;
  }

  async claim(runId: string): Promise<void> {
    this.owned.add(runId);
    // Not fatal when Redis is away: the run goes on; renewals retry, and readers elsewhere cannot
    // read the log either until Redis is back.
    await this.options.redis.set(ownerKey(runId), this.options.replicaId, 'PX', this.options.leaseMs).catch((error: unknown) => {
      this.options.logger.warn({ err: error, runId }, 'could not record run ownership');
    });
  }

  async release(runId: string): Promise<void> {
    this.owned.delete(runId);
    await this.options.redis.del(ownerKey(runId)).catch(() => {});
  }

  async isOwned(runId: string): Promise<boolean> {
    if (this.owned.has(runId)) return true;
    return (await this.options.redis.exists(ownerKey(runId))) === 1;
  }

  async requestStop(target: StopTarget, reason: StopReason): Promise<void> {
    // Local runs stop without a round trip (and still stop when Redis is away).
    this.dispatch(target, reason);
    await this.options.redis.publish(CONTROL_CHANNEL, JSON.stringify({ target, reason } satisfies StopMessage));
  }

  onStop(handler: (target: StopTarget, reason: StopReason) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    clearInterval(this.renewer);
    const runs = [...this.owned];
    this.owned.clear();
    if (runs.length > 0) await this.options.redis.del(...runs.map(ownerKey)).catch(() => {});
  }

  private deliver(message: string): void {
    let parsed: StopMessage;
    try {
      parsed = JSON.parse(message) as StopMessage;
    } catch {
      this.options.logger.warn({ message }, 'ignored a malformed run control message');
      return;
    }
    this.dispatch(parsed.target, parsed.reason);
  }

  private dispatch(target: StopTarget, reason: StopReason): void {
    for (const handler of this.handlers) handler(target, reason);
  }

  private async renew(): Promise<void> {
    if (this.owned.size === 0) return;
    const pipeline = this.options.redis.pipeline();
    for (const runId of this.owned) pipeline.set(ownerKey(runId), this.options.replicaId, 'PX', this.options.leaseMs);
    await pipeline.exec().catch(() => {});
  }
}
