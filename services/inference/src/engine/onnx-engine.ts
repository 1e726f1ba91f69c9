// Continuous batching over one ONNX Runtime session. Each step: drop cancelled sequences, admit
// waiting ones (as the KV budget allows), prefill up to prefillChunkTokens prompt tokens over as many
// prompts as they reach, then one decode step for every running sequence. A sequence that finishes
// its prefill joins the batch for the very next decode step. Admission and the order of prefill
// chunks go round-robin across fairness keys (users), see fair-plan.ts. How passes run and where the
// KV cache lives is the decoder's business (decoder.ts). Where finished K/V are kept for prefix
// reuse, an answer that ends queues its conversation's next-turn prefix for warming (next-turn.ts):
// background prefill, admitted only when no request waits and dropped as soon as one arrives.
import { randomInt } from 'node:crypto';
import { loadChatTokenizer, type ChatTokenizer } from './chat-tokenizer.js';
import { ResourceExhaustedError, UnavailableError } from './errors.js';
import { planAdmission, planPrefills } from './fair-plan.js';
import type { Decoder } from './decoder.js';
import { GenericDecoder } from './generic-decoder.js';
import { checkFitsAlone, fitsBeside, worstCaseTokens, type KvBudget } from './kv-budget.js';
import { kvBytesPerToken, type KvDtype, type KvShape } from './kv-batch.js';
import { modelFamily, type ModelFamily } from './model-family.js';
import { nextTurnPrefix } from './next-turn.js';
import { readModelFiles, type ModelFiles } from './model-files.js';
import { startSessionWorker, type SessionRunner } from './session-worker.js';
import { SharedBufferDecoder } from './shared-buffer-decoder.js';
import { Sequence, type Clock } from './sequence.js';
import { planStep } from './step-plan.js';
import { continuationOf } from './continuation.js';
import { checkPromptLength, resolveMaxPromptTokens, resolveSampling } from './validate-request.js';
import type { ChatTurn, Engine, SamplingParams, EngineLimits, EngineObserver, FinishReason, GenerationEvent, GenerationRequest, KvCacheState, LoadedModelInfo, ModelLimits, ModelSourceKind } from './types.js';

export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OnnxEngineOptions {
  readonly modelDir: string;
  readonly id: string;
  readonly source: ModelSourceKind;
  readonly limits: EngineLimits;
  /** `onnx/<variant>.onnx`; default `model`. */
  readonly variant?: string;
  /** 0 or unset: ONNX Runtime's default (one per physical core). */
  readonly intraOpThreads?: number;
  /** Whether idle ONNX Runtime threads spin; `auto` decides from the model's size. */
  readonly threadSpinning?: ThreadSpinning;
  /**
   * Prompt tokens prefilled per step, over one long prompt or several short ones (default 256).
   * Bounds how long one step, hence every running stream's next token, waits on prefill; with no
   * stream running, a step may prefill IDLE_PREFILL_CHUNKS of them (step-plan.ts).
   */
  readonly prefillChunkTokens?: number;
  /**
   * Bytes of K/V that finished sequences may leave behind for a later prompt sharing their prefix
   * (a conversation's next turn); 0 disables prefix reuse. Within a KV budget they only take what
   * running requests leave. Shared-buffer models only. Default 2 GiB.
   */
  readonly prefixCacheBytes?: number;
  /** Used when a request sets no max_new_tokens. */
  readonly defaultMaxNewTokens?: number;
  readonly logger?: EngineLogger;
  readonly clock?: Clock;
  /** Timings and load as the engine works (metrics); the clock must then be milliseconds. */
  readonly observer?: EngineObserver;
}

/** What a request's conversation was, to render its next turn. */
interface ConversationTurn {
  readonly messages: readonly ChatTurn[];
  readonly enableThinking: boolean | undefined;
}

/** An answer whose next turn waits to be warmed. */
interface PendingWarm extends ConversationTurn {
  readonly answer: string;
  readonly requestId: string;
  readonly params: SamplingParams;
  readonly fairnessKey: string;
}

const silentLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export type ThreadSpinning = 'auto' | 'on' | 'off';

/** Above this, a forward pass is long enough that waking sleeping threads per operator costs more than spinning. */
export const SPIN_THRESHOLD_BYTES = 256 * 2 ** 20;

/**
 * Measured on 2 cores: the 2.4 GB Qwen3-0.6B-shaped model decodes ~1.6x faster with spinning (threads
 * sleep and wake between its ~600 operators otherwise); the 40 MB tiny model decodes ~5x slower with
 * it (spinning threads starve Node's thread, which samples and streams between the short passes).
 */
export function shouldSpinThreads(mode: ThreadSpinning, weightBytes: number): boolean {
  return mode === 'auto' ? weightBytes >= SPIN_THRESHOLD_BYTES : mode === 'on';
}

export async function createOnnxEngine(options: OnnxEngineOptions): Promise<Engine> {
  const files = await readModelFiles(options.modelDir, options.variant);
  const known = modelFamily(files.modelType);
  const family: ModelFamily = files.kvNames ? { ...known, kvNames: files.kvNames } : known;
  const tokenizer = await loadChatTokenizer(options.modelDir);
  const spin = shouldSpinThreads(options.threadSpinning ?? 'auto', files.weightBytes) ? '1' : '0';
  // On a worker thread: a forward pass never blocks this one (session-worker.ts).
  const session = await startSessionWorker(files.onnxPath, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  });
  const kvDtype = graphKvDtype(session, family);
  const shape: KvShape = { numLayers: files.numLayers, numKvHeads: files.numKvHeads, headDim: files.headDim, dtype: kvDtype };
  const maxContextTokens = Math.min(options.limits.maxContextTokens, files.maxPositionEmbeddings);
  const decoder: Decoder =
    files.kvLayout === 'shared-buffer'
      ? await SharedBufferDecoder.create(session, family, shape, files.vocabSize, {
          // Room for a cached conversation per running sequence.
          maxSlots: 2 * options.limits.maxBatchSize,
          maxContextTokens,
          prefixCacheBytes: options.prefixCacheBytes ?? DEFAULT_PREFIX_CACHE_BYTES,
        })
      : new GenericDecoder(session, family, shape, files.vocabSize);
  (options.logger ?? silentLogger).info(
    { modelType: files.modelType, format: files.format, variant: options.variant ?? 'model', kvDtype, kvPath: decoder.path },
    `model graph loaded; KV cache on the ${decoder.path} path (${decoder.detail})`,
  );
  const budget: KvBudget = { bytesPerToken: kvBytesPerToken(shape), budgetBytes: options.limits.kvCacheBudgetBytes };
  return new OnnxEngine(options, files, family, tokenizer, session, decoder, budget);
}

/** A cap on cached prefixes; within a KV budget they also only take what running requests leave. */
export const DEFAULT_PREFIX_CACHE_BYTES = 2 * 2 ** 30;
export const DEFAULT_PREFILL_CHUNK_TOKENS = 256;

/** The KV cache's element type, from the graph's own input declaration (fp16 exports take float16). */
export function graphKvDtype(session: Pick<SessionRunner, 'inputMetadata'>, family: ModelFamily): KvDtype {
  const name = family.kvNames(0).pastKey;
  const past = session.inputMetadata.find((m) => m.name === name);
  if (!past?.isTensor) throw new Error(`the graph has no ${name} tensor input: not a decoder with a KV cache this engine can drive`);
  if (past.type !== 'float32' && past.type !== 'float16') throw new Error(`the graph's KV cache is ${past.type}; the engine supports float32 and float16`);
  return past.type;
}

class OnnxEngine implements Engine {
  readonly model: LoadedModelInfo;
  private readonly limits: ModelLimits;
  private readonly clock: Clock;
  private readonly logger: EngineLogger;
  private readonly routerBase;
  private readonly waiting: Sequence[] = [];
  /** Requests and warmings whose prompt is being prefilled. */
  private readonly prefilling: Sequence[] = [];
  /**
   * Answers whose next turn waits to be warmed, oldest first; admitted only when no request waits.
   * The next turn is rendered at admission, so a busy engine never spends time tokenizing it.
   */
  private warming: PendingWarm[] = [];
  /** Sequences that warm a next turn: prefill only, nobody reads their stream. */
  private readonly warms = new WeakSet<Sequence>();
  /** A request's conversation, kept to render its next turn once it answers. */
  private readonly turns = new WeakMap<Sequence, ConversationTurn>();
  /** Fairness key → the step its last prefill chunk ran in; only keys with a prompt prefilling. */
  private readonly lastPrefill = new Map<string, number>();
  private steps = 0;
  private running: Sequence[] = [];
  private loop: Promise<void> | undefined;
  private draining = false;

  constructor(
    private readonly options: OnnxEngineOptions,
    private readonly files: ModelFiles,
    private readonly family: ModelFamily,
    private readonly tokenizer: ChatTokenizer,
    private readonly session: SessionRunner,
    private readonly decoder: Decoder,
    private readonly budget: KvBudget,
  ) {
    const maxContextTokens = Math.min(options.limits.maxContextTokens, files.maxPositionEmbeddings);
    this.limits = {
      ...options.limits,
      maxContextTokens,
      maxPromptTokens: resolveMaxPromptTokens({ ...options.limits, maxContextTokens }),
    };
    this.model = { id: options.id, source: options.source, path: options.modelDir, limits: this.limits };
    this.clock = options.clock ?? (() => performance.now());
    this.logger = options.logger ?? silentLogger;
    this.routerBase = {
      decode: (ids: readonly number[]) => tokenizer.decode(ids),
      eosTokenIds: new Set(files.eosTokenIds.length ? files.eosTokenIds : family.fallbackEos.map((t) => tokenizer.tokenId(t) ?? -1)),
      thinkStartId: family.thinkTokens && tokenizer.tokenId(family.thinkTokens.start),
      thinkEndId: family.thinkTokens && tokenizer.tokenId(family.thinkTokens.end),
    };
  }

  get kvCache(): KvCacheState {
    return {
      path: this.decoder.path,
      budgetBytes: this.budget.budgetBytes,
      reservedBytes: this.reservedTokens() * this.budget.bytesPerToken,
      allocatedBytes: this.decoder.allocatedBytes,
      prefixCacheBytes: this.decoder.cachedBytes,
    };
  }

  /** Requests prefilling (warmings are background work, not requests). */
  private get prefillingRequests(): number {
    return this.prefilling.filter((s) => !this.warms.has(s)).length;
  }

  private reservedTokens(): number {
    let tokens = 0;
    for (const seq of this.prefilling) tokens += this.worstCase(seq);
    for (const seq of this.running) tokens += this.worstCase(seq);
    return tokens;
  }

  private worstCase(seq: Sequence): number {
    return worstCaseTokens(seq.promptIds.length, seq.params.maxNewTokens, this.limits.maxContextTokens);
  }

  get activeCount(): number {
    return this.waiting.length + this.prefillingRequests + this.running.length;
  }

  generate(request: GenerationRequest): AsyncIterable<GenerationEvent> {
    if (this.draining) throw new UnavailableError('the inference service is shutting down');
    const sampling = resolveSampling(
      request,
      { ...this.files.generationDefaults, maxNewTokens: this.options.defaultMaxNewTokens ?? 1024 },
      this.limits,
      () => randomInt(2 ** 31),
    );
    const thinkingEnabled = request.enableThinking !== false;
    const continuation = request.answerPrefix && continuationOf(request.answerPrefix, thinkingEnabled);
    const promptIds = this.tokenizer.encodeChat(request.messages, {
      enableThinking: request.enableThinking,
      ...(continuation && { answerPrefix: continuation.text }),
    });
    checkPromptLength(promptIds.length, this.limits);
    checkFitsAlone(this.budget, promptIds.length, sampling.maxNewTokens, this.limits.maxContextTokens);
    if (this.waiting.length >= this.limits.maxQueueSize)
      throw new ResourceExhaustedError(
        `the inference queue is full (${this.limits.maxQueueSize} requests waiting); retry later`,
      );
    const seq = new Sequence(
      request.requestId,
      promptIds,
      sampling,
      { ...this.routerBase, thinkingEnabled, ...(continuation && { startChannel: continuation.channel }) },
      this.limits.maxContextTokens,
      this.clock,
      this.clock(),
      request.fairnessKey ?? '',
      this.options.observer,
    );
    if (request.signal) {
      if (request.signal.aborted) seq.cancel();
      else request.signal.addEventListener('abort', () => seq.cancel(), { once: true });
    }
    // A continued answer's next turn is not rendered from its request's messages: it is not warmed.
    if (this.decoder.reusesPrefixes && !continuation) this.turns.set(seq, { messages: request.messages, enableThinking: request.enableThinking });
    // A person is waiting now: warming stops (what it prefilled so far stays cached).
    this.stopWarming();
    this.waiting.push(seq);
    this.loop ??= this.runLoop();
    return seq.events;
  }

  async drain(): Promise<void> {
    this.draining = true;
    this.stopWarming();
    await this.loop;
  }

  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.session.release();
  }

  private async runLoop(): Promise<void> {
    try {
      await this.runSteps();
    } finally {
      // In the same turn as the last look at the queues: a `.finally()` on the promise would run a
      // microtask later, and a request arriving in between would find a loop that has ended.
      this.loop = undefined;
    }
  }

  private async runSteps(): Promise<void> {
    // Requests arriving in the same turn of the event loop start together (one prefill pass).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.waiting.length + this.prefilling.length + this.running.length + this.warming.length > 0) {
      try {
        await this.step();
      } catch (error) {
        // A failed forward pass poisons the batch's cache: fail its sequences, keep serving new ones.
        this.logger.error({ err: error }, 'engine step failed');
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const seq of [...this.running, ...this.prefilling]) seq.fail(failure);
        this.running = [];
        this.prefilling.length = 0;
        this.warming = [];
        this.lastPrefill.clear();
        this.decoder.reset();
      }
      this.reportLoad();
      // Let gRPC writes and new arrivals in between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async step(): Promise<void> {
    this.reapCancelled();
    const plan = planStep({
      running: this.running.length,
      prefilling: this.prefilling.length,
      waiting: this.waiting.length,
      warming: this.warming.length,
      maxBatchSize: this.limits.maxBatchSize,
      chunkTokens: this.options.prefillChunkTokens ?? DEFAULT_PREFILL_CHUNK_TOKENS,
    });
    const admit = planAdmission(
      this.waiting.map((s) => s.fairnessKey),
      [...this.prefilling.map((s) => s.fairnessKey), ...this.running.map((s) => s.fairnessKey)],
      plan.admit,
    );
    let reserved = this.reservedTokens();
    for (const seq of admit.map((i) => this.waiting[i]!)) {
      // Over budget: it waits for running requests to finish (checkFitsAlone made sure it can run alone).
      const admitted = this.startPrefill(seq, reserved);
      if (admitted === undefined) break;
      reserved = admitted;
      this.waiting.splice(this.waiting.indexOf(seq), 1);
      seq.admittedAt = this.clock();
      this.options.observer?.admitted?.((seq.admittedAt - seq.arrivedAt) / 1000);
    }
    for (let n = 0; n < plan.admitWarm && this.warming.length > 0; n++) {
      const warm = this.warmSequence(this.warming[0]!);
      if (warm) {
        const admitted = this.startPrefill(warm, reserved);
        if (admitted === undefined) break;
        reserved = admitted;
      }
      this.warming.shift();
    }
    if (plan.prefillTokens > 0 && this.prefilling.length > 0) await this.prefillStep(plan.prefillTokens);
    if (plan.decode) await this.decodeStep();
  }

  /**
   * Moves a sequence into prefill if its worst case fits the KV budget beside `reserved` and the
   * decoder has room; returns the tokens reserved with it, or undefined (it stays where it was).
   */
  private startPrefill(seq: Sequence, reserved: number): number | undefined {
    if (!fitsBeside(this.budget, reserved, this.worstCase(seq))) return undefined;
    const reused = this.decoder.open(seq);
    if (reused === undefined) return undefined;
    const total = reserved + this.worstCase(seq);
    // Cached prefixes live in the room the budget leaves; a running request's worst case comes first.
    if (this.budget.budgetBytes !== undefined) this.decoder.limitCachedBytes(this.budget.budgetBytes - total * this.budget.bytesPerToken);
    seq.position = reused;
    seq.cachedPromptTokens = reused;
    this.prefilling.push(seq);
    return total;
  }

  private reapCancelled(): void {
    for (const queue of [this.waiting, this.prefilling]) {
      for (let i = queue.length - 1; i >= 0; i--) {
        const seq = queue[i]!;
        if (!seq.isCancelled) continue;
        queue.splice(i, 1);
        this.end(seq, 'cancelled');
      }
    }
    this.forgetIdleKeys();
    this.running = this.running.filter((seq) => !seq.isCancelled || (this.end(seq, 'cancelled'), false));
  }

  /** A sequence leaves the engine: its stream ends and its K/V is freed or kept for prefix reuse. */
  private end(seq: Sequence, reason: FinishReason): void {
    seq.finish(reason);
    this.decoder.close(seq, true);
    if (reason !== 'cancelled') this.queueWarming(seq);
  }

  /**
   * Queues the conversation's next turn for warming, so it prefills only its new message. Only
   * requests have a turn (warmings do not): a warming never queues another.
   */
  private queueWarming(seq: Sequence): void {
    const turn = this.turns.get(seq);
    if (!turn || this.draining) return;
    // The newest conversations first out of a long queue: a burst of endings warms a batch's worth.
    this.warming.push({ ...turn, answer: seq.answer, requestId: seq.requestId, params: seq.params, fairnessKey: seq.fairnessKey });
    if (this.warming.length > this.limits.maxBatchSize) this.warming.shift();
  }

  /**
   * The sequence that prefills the prefix the next prompt will start with (the history, this answer
   * included, rendered as the next turn will render it); the slot the answer left holds most of it.
   * Undefined when it cannot be rendered or a next turn could not fit after it.
   */
  private warmSequence(pending: PendingWarm): Sequence | undefined {
    let ids: number[];
    try {
      ids = nextTurnPrefix(this.tokenizer, pending.messages, pending.answer, { enableThinking: pending.enableThinking });
    } catch (error) {
      this.logger.warn({ err: error }, 'could not render the next turn to warm it');
      return undefined;
    }
    if (ids.length + 1 >= this.limits.maxPromptTokens) return undefined;
    const warm = new Sequence(`${pending.requestId}:next-turn`, ids, { ...pending.params, maxNewTokens: 0 }, { ...this.routerBase, thinkingEnabled: false }, this.limits.maxContextTokens, this.clock, this.clock(), pending.fairnessKey);
    this.warms.add(warm);
    return warm;
  }

  /** Drops queued warmings and cancels those prefilling (reaped at the next step, their K/V kept). */
  private stopWarming(): void {
    this.warming = [];
    for (const seq of this.prefilling) if (this.warms.has(seq)) seq.cancel();
  }

  /** Keeps `lastPrefill` to keys still prefilling, so it never grows with the number of users. */
  private forgetIdleKeys(): void {
    const live = new Set(this.prefilling.map((s) => s.fairnessKey));
    for (const key of this.lastPrefill.keys()) if (!live.has(key)) this.lastPrefill.delete(key);
  }

  /** Prefills up to `budgetTokens` prompt tokens, over as many waiting prompts as they reach. */
  private async prefillStep(budgetTokens: number): Promise<void> {
    const picks = planPrefills(
      this.prefilling.map((s) => s.fairnessKey),
      this.lastPrefill,
      this.prefilling.map((s) => s.promptIds.length - s.position),
      budgetTokens,
    );
    const chunks = picks.map(({ index, tokens }) => {
      const seq = this.prefilling[index]!;
      this.lastPrefill.set(seq.fairnessKey, ++this.steps);
      return { seq, end: seq.position + tokens };
    });
    const started = this.clock();
    const logits = await this.decoder.prefill(chunks);
    this.options.observer?.prefillStep?.((this.clock() - started) / 1000, picks.reduce((n, p) => n + p.tokens, 0));
    chunks.forEach(({ seq, end }, i) => {
      seq.position = end;
      if (end < seq.promptIds.length) return;
      this.prefilling.splice(this.prefilling.indexOf(seq), 1);
      // A warmed prefix is done once its K/V are in: kept as a cached prefix, no token sampled.
      if (this.warms.has(seq)) return this.end(seq, 'stop');
      const result = seq.acceptLogits(logits[i]!);
      if (result !== 'continue') return this.end(seq, result);
      this.running.push(seq);
    });
    this.forgetIdleKeys();
  }

  private async decodeStep(): Promise<void> {
    const started = this.clock();
    const rows = await this.decoder.decode(this.running);
    this.options.observer?.decodeStep?.((this.clock() - started) / 1000, this.running.length);
    const outcome = this.running.map((seq, row) => {
      seq.position++;
      return seq.acceptLogits(rows[row]!);
    });
    this.running = this.running.filter((seq, row) => {
      const result = outcome[row]!;
      if (result === 'continue') return true;
      this.end(seq, result);
      return false;
    });
  }

  /** Requests by state and the KV cache's bytes, for the observer. */
  private reportLoad(): void {
    this.options.observer?.load?.({
      running: this.running.length + this.prefillingRequests,
      waiting: this.waiting.length,
      kvCache: this.kvCache,
    });
  }
}
