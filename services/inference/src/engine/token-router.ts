// Turns a sequence's generated token ids into channel deltas: the reasoning split by <think> ids,
// UTF-8-safe text, and stop strings held back until they can no longer begin a match.
import { IncrementalDetokenizer, type Decode } from './incremental-detokenizer.js';
import type { Channel } from './types.js';

export interface RoutedDelta {
  readonly channel: Channel;
  readonly text: string;
  readonly tokenCount: number;
}

export interface TokenRouterOptions {
  readonly decode: Decode;
  readonly eosTokenIds: ReadonlySet<number>;
  readonly thinkStartId: number | undefined;
  readonly thinkEndId: number | undefined;
  /** False: think tags are dropped and every delta is content (the template already closed the block). */
  readonly thinkingEnabled: boolean;
  /** Where the first token goes: `reasoning` when the prompt ends inside an open think block (continuation.ts). */
  readonly startChannel?: Channel;
  readonly stop: readonly string[];
}

export type RouteOutcome = { readonly deltas: RoutedDelta[]; readonly stopped: boolean };

export class TokenRouter {
  private channel: Channel;
  private pending = '';
  private pendingTokens = 0;
  private stopped = false;
  private readonly detokenizer: IncrementalDetokenizer;

  constructor(private readonly options: TokenRouterOptions) {
    this.detokenizer = new IncrementalDetokenizer(options.decode);
    this.channel = options.startChannel ?? 'content';
  }

  /** Feeds one generated token. `stopped` means EOS or a stop string: generation must end. */
  push(id: number): RouteOutcome {
    if (this.stopped) return { deltas: [], stopped: true };
    const { eosTokenIds, thinkStartId, thinkEndId, thinkingEnabled } = this.options;
    this.pendingTokens++;
    if (eosTokenIds.has(id)) {
      this.stopped = true;
      return { deltas: this.flush(), stopped: true };
    }
    if (id === thinkStartId || id === thinkEndId) {
      const deltas = this.flush();
      if (thinkingEnabled) this.channel = id === thinkStartId ? 'reasoning' : 'content';
      return { deltas, stopped: false };
    }
    this.pending += this.detokenizer.push(id);
    return this.release();
  }

  /** Everything still held back, at the end of generation (length, cancel). */
  finish(): RoutedDelta[] {
    return this.stopped ? [] : this.flush();
  }

  private release(): RouteOutcome {
    const { stop } = this.options;
    let cut = -1;
    for (const s of stop) {
      const at = this.pending.indexOf(s);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.stopped = true;
      return { deltas: this.emit(this.pending.slice(0, cut)), stopped: true };
    }
    const hold = heldSuffixLength(this.pending, stop);
    const ready = this.pending.slice(0, this.pending.length - hold);
    if (ready.length === 0) return { deltas: [], stopped: false };
    this.pending = this.pending.slice(ready.length);
    return { deltas: this.emit(ready), stopped: false };
  }

  private flush(): RoutedDelta[] {
    const text = this.pending + this.detokenizer.flush();
    this.pending = '';
    return this.emit(text);
  }

  private emit(text: string): RoutedDelta[] {
    if (text.length === 0) return [];
    const delta = { channel: this.channel, text, tokenCount: this.pendingTokens };
    this.pendingTokens = 0;
    return [delta];
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
export function heldSuffixLength(text: string, stop: readonly string[]): number {
  let held = 0;
  for (const s of stop) {
    for (let n = Math.min(s.length - 1, text.length); n > held; n--) {
      if (text.endsWith(s.slice(0, n))) {
        held = n;
        break;
      }
    }
  }
  return held;
}
