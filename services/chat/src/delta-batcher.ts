// Merges a run's deltas before they reach the run log: one append per window (about a frame) or per
// `maxTokens` tokens, whichever comes first, and at every change of channel. A run then costs a
// bounded number of store round trips, not one per token, and readers still see text at frame rate.
// Appends run one at a time in order; the token path never waits for them.

export type DeltaChannel = 'reasoning' | 'content';

export interface DeltaBatcherOptions {
  readonly windowMs: number;
  readonly maxTokens: number;
  /** Appends one merged delta; called in order, never concurrently. */
  readonly flush: (channel: DeltaChannel, text: string) => Promise<void>;
}

export class DeltaBatcher {
  private channel: DeltaChannel | undefined;
  private text = '';
  private tokens = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(private readonly options: DeltaBatcherOptions) {}

  push(channel: DeltaChannel, text: string, tokens: number): void {
    if (this.channel !== undefined && this.channel !== channel) this.cut();
    this.channel = channel;
    this.text += text;
    this.tokens += tokens;
    if (this.tokens >= this.options.maxTokens) this.cut();
    else this.timer ??= setTimeout(() => this.cut(), this.options.windowMs);
  }

  /** Sends what is buffered and waits for every append; throws the first append failure, if any. */
  async drain(): Promise<void> {
    this.cut();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  private cut(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { channel, text } = this;
    this.text = '';
    this.tokens = 0;
    if (channel === undefined || text === '') return;
    this.chain = this.chain.then(async () => {
      // After one failure the log is behind: later deltas would leave a hole, so none are sent.
      if (this.failure !== undefined) return;
      try {
        await this.options.flush(channel, text);
      } catch (error) {
        this.failure = error;
      }
    });
  }
}
