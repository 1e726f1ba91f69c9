// One request's life in the engine: its prompt, sampler state, router and event stream.
import { EventChannel } from './event-channel.js';
import { seededRandom, sampleToken, type RandomSource } from './sampling.js';
import { TokenRouter, type TokenRouterOptions } from './token-router.js';
import type { EngineObserver, FinishReason, GenerationEvent, SamplingParams, Usage } from './types.js';

export type Clock = () => number;

export type StepResult = 'continue' | FinishReason;

export class Sequence {
  readonly events: EventChannel<GenerationEvent>;
  /** Prompt and generated ids: what the repetition penalty looks at. */
  private readonly seen: Set<number>;
  private readonly random: RandomSource;
  private readonly router: TokenRouter;
  private generated = 0;
  /** The answer as streamed (content channel), what the chat service stores as the message. */
  private answerText = '';
  private cancelled = false;
  private finished = false;
  /** Sampled but not yet fed to the model; the next decode step's input. */
  pendingToken = -1;
  /** Tokens in this sequence's KV cache (its next position id). */
  position = 0;
  /** Leading prompt tokens whose K/V came from the prefix cache. */
  cachedPromptTokens = 0;
  admittedAt: number | undefined;
  private firstTokenAt: number | undefined;
  private lastTokenAt: number | undefined;

  constructor(
    readonly requestId: string,
    readonly promptIds: readonly number[],
    readonly params: SamplingParams,
    routerOptions: Omit<TokenRouterOptions, 'stop'>,
    private readonly maxContextTokens: number,
    private readonly clock: Clock,
    readonly arrivedAt: number,
    /** Whose request this is, for fair admission; '' is the shared key of requests that set none. */
    readonly fairnessKey = '',
    private readonly observer?: EngineObserver,
  ) {
    this.seen = new Set(promptIds);
    this.random = seededRandom(params.seed);
    this.router = new TokenRouter({ ...routerOptions, stop: params.stop });
    this.events = new EventChannel(() => this.cancel());
  }

  get answer(): string {
    return this.answerText;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** Samples from this sequence's logits row and streams what the token completes. */
  acceptLogits(logits: Float32Array): StepResult {
    const token = sampleToken(logits, this.params, this.seen, this.random);
    const now = this.clock();
    this.firstTokenAt ??= now;
    this.observer?.token?.((now - (this.lastTokenAt ?? this.arrivedAt)) / 1000, this.lastTokenAt === undefined);
    this.lastTokenAt = now;
    this.generated++;
    this.seen.add(token);
    const { deltas, stopped } = this.router.push(token);
    for (const d of deltas) this.emit({ type: 'delta', ...d });
    if (stopped) return 'stop';
    // The pending token still needs a slot in the context to be fed back.
    if (this.generated >= this.params.maxNewTokens || this.position + 1 >= this.maxContextTokens) return 'length';
    this.pendingToken = token;
    return 'continue';
  }

  private emit(event: GenerationEvent): void {
    if (event.type === 'delta' && event.channel === 'content') this.answerText += event.text;
    this.observer?.delta?.(event);
    this.events.push(event);
  }

  finish(reason: FinishReason): void {
    if (this.finished) return;
    this.finished = true;
    for (const d of this.router.finish()) this.emit({ type: 'delta', ...d });
    const now = this.clock();
    this.observer?.finished?.(reason, this.usage, (now - this.arrivedAt) / 1000);
    const first = this.firstTokenAt;
    const decodeSeconds = first === undefined ? 0 : (now - first) / 1000;
    this.events.push({
      type: 'done',
      finishReason: reason,
      usage: this.usage,
      timings: {
        queueWaitMs: (this.admittedAt ?? now) - this.arrivedAt,
        timeToFirstTokenMs: first === undefined ? 0 : first - this.arrivedAt,
        decodeTokensPerSecond: decodeSeconds > 0 ? (this.generated - 1) / decodeSeconds : 0,
      },
    });
    this.events.close();
  }

  private get usage(): Usage {
    return { promptTokens: this.promptIds.length, completionTokens: this.generated, cachedPromptTokens: this.cachedPromptTokens };
  }

  fail(error: Error): void {
    if (!this.finished) this.observer?.finished?.('error', this.usage, (this.clock() - this.arrivedAt) / 1000);
    this.finished = true;
    this.events.fail(error);
  }
}
