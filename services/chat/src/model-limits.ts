// The served models and their generation limit, asked of inference (ListModels) and kept for a while,
// so a request above the limit, or a conversation set to a model nobody serves, is refused before
// anything is stored rather than failing as a run afterwards.
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

interface ServedModels {
  readonly maxNewTokens: number;
  readonly ids: readonly string[];
  readonly at: number;
}

export class ModelLimits {
  private known: ServedModels | undefined;
  private loading: Promise<ServedModels | undefined> | undefined;

  constructor(private readonly options: ModelLimitsOptions) {}

  /**
   * The largest `max_new_tokens` the model takes; undefined while inference cannot say (down or
   * loading). Fails open on purpose: such a run then ends with `inference_unavailable` as before,
   * and a later call asks again (failures are not kept).
   */
  async maxNewTokens(): Promise<number | undefined> {
    return (await this.served())?.maxNewTokens;
  }

  /** The ids of the models inference serves; undefined while it cannot say (fails open, like the limit). */
  async modelIds(): Promise<readonly string[] | undefined> {
    return (await this.served())?.ids;
  }

  private async served(): Promise<ServedModels | undefined> {
    const now = (this.options.now ?? Date.now)();
    if (this.known && now - this.known.at < this.options.ttlMs) return this.known;
    this.loading ??= this.load(now).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(now: number): Promise<ServedModels | undefined> {
    try {
      const { models } = await this.options.inference.listModels(this.options.timeoutMs);
      // Every inference instance serves the same model; the smallest limit is safe if they differ.
      const limits = models.map((m) => m.maxNewTokensLimit).filter((n) => n > 0);
      if (limits.length === 0) return undefined;
      this.known = { maxNewTokens: Math.min(...limits), ids: [...new Set(models.map((m) => m.id))], at: now };
      return this.known;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the model limits; max_new_tokens is left to inference');
      return undefined;
    }
  }
}
