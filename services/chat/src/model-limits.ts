// The served model's generation limit, asked of inference (ListModels) and kept for a while, so a
// request above it is refused before anything is stored rather than failing as a run afterwards.
import type { Logger } from '@freechat/shared';
import type { InferenceGateway } from './inference-client.js';

export interface ModelLimitsOptions {
  readonly inference: Pick<InferenceGateway, 'listModels'>;
  /** How long a known limit is used before it is asked again. */
  readonly ttlMs: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class ModelLimits {
  private known: { readonly maxNewTokens: number; readonly at: number } | undefined;
  private loading: Promise<number | undefined> | undefined;

  constructor(private readonly options: ModelLimitsOptions) {}

  /**
   * The largest `max_new_tokens` the model takes; undefined while inference cannot say (down or
   * loading). Fails open on purpose: such a run then ends with `inference_unavailable` as before,
   * and a later call asks again (failures are not kept).
   */
  async maxNewTokens(): Promise<number | undefined> {
    const now = (this.options.now ?? Date.now)();
    if (this.known && now - this.known.at < this.options.ttlMs) return this.known.maxNewTokens;
    this.loading ??= this.load(now).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(now: number): Promise<number | undefined> {
    try {
      const { models } = await this.options.inference.listModels(this.options.timeoutMs);
      // Every inference instance serves the same model; the smallest limit is safe if they differ.
      const limits = models.map((m) => m.maxNewTokensLimit).filter((n) => n > 0);
      if (limits.length === 0) return undefined;
      this.known = { maxNewTokens: Math.min(...limits), at: now };
      return this.known.maxNewTokens;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the model limits; max_new_tokens is left to inference');
      return undefined;
    }
  }
}
