// Continuous batching over one ONNX Runtime session. Each step: drop cancelled sequences, admit
// waiting ones, run one prefill chunk, then one decode step for every running sequence. A sequence
// that finishes its prefill joins the batch for the very next decode step. Admission and the choice
// of prefill chunk go round-robin across fairness keys (users), see fair-plan.ts.
import { randomInt } from 'node:crypto';
import { loadChatTokenizer, type ChatTokenizer } from './chat-tokenizer.js';
import { ResourceExhaustedError, UnavailableError } from './errors.js';
import { pickPrefill, planAdmission } from './fair-plan.js';
import { halfToFloat } from './half-float.js';
import { advance, concatRows, emptyKvBatch, selectRows, stepMask, type KvArray, type KvBatch, type KvDtype, type KvShape } from './kv-batch.js';
import { modelFamily, type ModelFamily } from './model-family.js';
import { readModelFiles, type ModelFiles } from './model-files.js';
import { startSessionWorker, type PlainTensor, type SessionRunner } from './session-worker.js';
import { Sequence, type Clock } from './sequence.js';
import { nextChunk, planStep } from './step-plan.js';
import { checkPromptLength, resolveMaxPromptTokens, resolveSampling } from './validate-request.js';
import type { Engine, EngineLimits, EngineObserver, GenerationEvent, GenerationRequest, LoadedModelInfo, ModelLimits, ModelSourceKind } from './types.js';

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
   * Prompt tokens per prefill chunk (default 256). Bounds both the logits buffer and how long one
   * step, hence every running stream's next token, waits on a long prompt's prefill.
   */
  readonly prefillChunkTokens?: number;
  /** Used when a request sets no max_new_tokens. */
  readonly defaultMaxNewTokens?: number;
  readonly logger?: EngineLogger;
  readonly clock?: Clock;
  /** Timings and load as the engine works (metrics); the clock must then be milliseconds. */
  readonly observer?: EngineObserver;
}

interface Prefilling {
  readonly seq: Sequence;
  kv: KvBatch;
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
  const family = modelFamily(files.modelType);
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
  (options.logger ?? silentLogger).info({ modelType: files.modelType, variant: options.variant ?? 'model', kvDtype }, 'model graph loaded');
  return new OnnxEngine(options, files, family, tokenizer, session, kvDtype);
}

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
  private readonly shape: KvShape;
  private readonly limits: ModelLimits;
  private readonly clock: Clock;
  private readonly logger: EngineLogger;
  private readonly routerBase;
  private readonly waiting: Sequence[] = [];
  private readonly prefilling: Prefilling[] = [];
  /** Fairness key → the step its last prefill chunk ran in; only keys with a prompt prefilling. */
  private readonly lastPrefill = new Map<string, number>();
  private steps = 0;
  /** Row i of `kv` belongs to running[i]. */
  private running: Sequence[] = [];
  private kv: KvBatch;
  private loop: Promise<void> | undefined;
  private draining = false;

  constructor(
    private readonly options: OnnxEngineOptions,
    private readonly files: ModelFiles,
    private readonly family: ModelFamily,
    private readonly tokenizer: ChatTokenizer,
    private readonly session: SessionRunner,
    kvDtype: KvDtype,
  ) {
    const maxContextTokens = Math.min(options.limits.maxContextTokens, files.maxPositionEmbeddings);
    this.limits = {
      ...options.limits,
      maxContextTokens,
      maxPromptTokens: resolveMaxPromptTokens({ ...options.limits, maxContextTokens }),
    };
    this.model = { id: options.id, source: options.source, path: options.modelDir, limits: this.limits };
    this.shape = { numLayers: files.numLayers, numKvHeads: files.numKvHeads, headDim: files.headDim, dtype: kvDtype };
    this.kv = emptyKvBatch(this.shape);
    this.clock = options.clock ?? (() => performance.now());
    this.logger = options.logger ?? silentLogger;
    this.routerBase = {
      decode: (ids: readonly number[]) => tokenizer.decode(ids),
      eosTokenIds: new Set(files.eosTokenIds.length ? files.eosTokenIds : family.fallbackEos.map((t) => tokenizer.tokenId(t) ?? -1)),
      thinkStartId: family.thinkTokens && tokenizer.tokenId(family.thinkTokens.start),
      thinkEndId: family.thinkTokens && tokenizer.tokenId(family.thinkTokens.end),
    };
  }

  get activeCount(): number {
    return this.waiting.length + this.prefilling.length + this.running.length;
  }

  generate(request: GenerationRequest): AsyncIterable<GenerationEvent> {
    if (this.draining) throw new UnavailableError('the inference service is shutting down');
    const sampling = resolveSampling(
      request,
      { ...this.files.generationDefaults, maxNewTokens: this.options.defaultMaxNewTokens ?? 1024 },
      this.limits,
      () => randomInt(2 ** 31),
    );
    const promptIds = this.tokenizer.encodeChat(request.messages, { enableThinking: request.enableThinking });
    checkPromptLength(promptIds.length, this.limits);
    if (this.waiting.length >= this.limits.maxQueueSize)
      throw new ResourceExhaustedError(
        `the inference queue is full (${this.limits.maxQueueSize} requests waiting); retry later`,
      );
    const seq = new Sequence(
      request.requestId,
      promptIds,
      sampling,
      { ...this.routerBase, thinkingEnabled: request.enableThinking !== false },
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
    this.waiting.push(seq);
    this.loop ??= this.runLoop().finally(() => (this.loop = undefined));
    return seq.events;
  }

  async drain(): Promise<void> {
    this.draining = true;
    await this.loop;
  }

  async close(): Promise<void> {
    await this.drain();
    await this.session.release();
  }

  private async runLoop(): Promise<void> {
    while (this.activeCount > 0) {
      try {
        await this.step();
      } catch (error) {
        // A failed forward pass poisons the batch's cache: fail its sequences, keep serving new ones.
        this.logger.error({ err: error }, 'engine step failed');
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const seq of [...this.running, ...this.prefilling.map((p) => p.seq)]) seq.fail(failure);
        this.running = [];
        this.prefilling.length = 0;
        this.lastPrefill.clear();
        this.kv = emptyKvBatch(this.shape);
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
      maxBatchSize: this.limits.maxBatchSize,
    });
    const admit = planAdmission(
      this.waiting.map((s) => s.fairnessKey),
      [...this.prefilling.map((p) => p.seq.fairnessKey), ...this.running.map((s) => s.fairnessKey)],
      plan.admit,
    );
    for (const seq of admit.map((i) => this.waiting[i]!)) {
      this.waiting.splice(this.waiting.indexOf(seq), 1);
      seq.admittedAt = this.clock();
      this.options.observer?.admitted?.((seq.admittedAt - seq.arrivedAt) / 1000);
      this.prefilling.push({ seq, kv: emptyKvBatch(this.shape, 1) });
    }
    if (plan.prefill) await this.prefillChunk();
    if (plan.decode) await this.decodeStep();
  }

  private reapCancelled(): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const seq = this.waiting[i]!;
      if (seq.isCancelled) {
        this.waiting.splice(i, 1);
        seq.finish('cancelled');
      }
    }
    for (let i = this.prefilling.length - 1; i >= 0; i--) {
      const { seq } = this.prefilling[i]!;
      if (seq.isCancelled) {
        this.prefilling.splice(i, 1);
        seq.finish('cancelled');
      }
    }
    this.forgetIdleKeys();
    this.retainRunning((seq) => {
      if (!seq.isCancelled) return true;
      seq.finish('cancelled');
      return false;
    });
  }

  /** Keeps `lastPrefill` to keys still prefilling, so it never grows with the number of users. */
  private forgetIdleKeys(): void {
    const live = new Set(this.prefilling.map((p) => p.seq.fairnessKey));
    for (const key of this.lastPrefill.keys()) if (!live.has(key)) this.lastPrefill.delete(key);
  }

  /** Keeps running sequences the predicate accepts, and their KV rows. */
  private retainRunning(keep: (seq: Sequence) => boolean): void {
    const rows: number[] = [];
    this.running.forEach((seq, i) => keep(seq) && rows.push(i));
    if (rows.length === this.running.length) return;
    this.running = rows.map((i) => this.running[i]!);
    this.kv = selectRows(this.kv, rows);
  }

  private async prefillChunk(): Promise<void> {
    const index = pickPrefill(
      this.prefilling.map((p) => p.seq.fairnessKey),
      this.lastPrefill,
    );
    const entry = this.prefilling[index]!;
    const { seq } = entry;
    this.lastPrefill.set(seq.fairnessKey, ++this.steps);
    const { start, end } = nextChunk(seq.promptIds.length, seq.position, this.options.prefillChunkTokens ?? 256);
    const ids = seq.promptIds.slice(start, end);
    const positions = ids.map((_, i) => start + i);
    const started = this.clock();
    const { logits, kv } = await this.forward(entry.kv, [ids], [positions]);
    this.options.observer?.prefillStep?.((this.clock() - started) / 1000, ids.length);
    entry.kv = kv;
    seq.position = end;
    if (end < seq.promptIds.length) return;
    // Graphs give logits for every position (exports) or the last one only (the built-in model).
    const vocab = this.files.vocabSize;
    const result = seq.acceptLogits(logits.subarray(logits.length - vocab));
    this.prefilling.splice(this.prefilling.indexOf(entry), 1);
    this.forgetIdleKeys();
    if (result !== 'continue') return seq.finish(result);
    this.running.push(seq);
    this.kv = concatRows([this.kv, entry.kv]);
  }

  private async decodeStep(): Promise<void> {
    const started = this.clock();
    const { logits, kv } = await this.forward(
      this.kv,
      this.running.map((s) => [s.pendingToken]),
      this.running.map((s) => [s.position]),
    );
    this.options.observer?.decodeStep?.((this.clock() - started) / 1000, this.running.length);
    this.kv = kv;
    const vocab = this.files.vocabSize;
    const outcome = this.running.map((seq, row) => {
      seq.position++;
      return seq.acceptLogits(logits.subarray(row * vocab, (row + 1) * vocab));
    });
    this.retainRunning((seq) => {
      const result = outcome[this.running.indexOf(seq)]!;
      if (result === 'continue') return true;
      seq.finish(result);
      return false;
    });
  }

  /** Requests by state and the KV cache's bytes (the batch's and each prefilling prompt's), for the observer. */
  private reportLoad(): void {
    const observer = this.options.observer;
    if (!observer?.load) return;
    const bytes = (kv: KvBatch) => kv.keys.reduce((sum, a) => sum + a.byteLength, 0) + kv.values.reduce((sum, a) => sum + a.byteLength, 0);
    observer.load({
      running: this.running.length + this.prefilling.length,
      waiting: this.waiting.length,
      kvCacheBytes: bytes(this.kv) + this.prefilling.reduce((sum, p) => sum + bytes(p.kv), 0),
    });
  }

  /** One forward pass of `tokens` (same count per row) over `kv`; returns logits [rows, tokens, vocab]. */
  private async forward(
    kv: KvBatch,
    tokens: readonly (readonly number[])[],
    positions: readonly (readonly number[])[],
  ): Promise<{ logits: Float32Array; kv: KvBatch }> {
    const rows = tokens.length;
    const width = tokens[0]!.length;
    const int64 = (values: Iterable<number>) => BigInt64Array.from(values, (v) => BigInt(v));
    const mask = stepMask(kv, width);
    const { numLayers, numKvHeads, headDim, dtype } = this.shape;
    const feeds: Record<string, PlainTensor> = {
      input_ids: { type: 'int64', data: int64(tokens.flat()), dims: [rows, width] },
      attention_mask: { type: 'int64', data: int64(mask), dims: [rows, kv.columns + width] },
      position_ids: { type: 'int64', data: int64(positions.flat()), dims: [rows, width] },
    };
    for (let l = 0; l < numLayers; l++) {
      const dims = [rows, numKvHeads, kv.columns, headDim];
      const names = this.family.kvNames(l);
      // Transferred to the worker: this batch's arrays are spent, the step's present replaces them.
      feeds[names.pastKey] = { type: dtype, data: kv.keys[l]!, dims };
      feeds[names.pastValue] = { type: dtype, data: kv.values[l]!, dims };
    }
    // Feed only what the graph declares: some exports derive position_ids from the mask themselves.
    const declared = this.session.inputNames;
    const out = await this.session.run(Object.fromEntries(Object.entries(feeds).filter(([name]) => declared.includes(name))));
    const present = (name: string) => out[name]!.data as KvArray;
    const keys = Array.from({ length: numLayers }, (_, l) => present(this.family.kvNames(l).presentKey));
    const values = Array.from({ length: numLayers }, (_, l) => present(this.family.kvNames(l).presentValue));
    const logits = out.logits!;
    // fp16 exports answer float16 logits (raw bits): sampling works on float32.
    const floats = logits.type === 'float16' ? halfToFloat(logits.data as Uint16Array) : (logits.data as Float32Array);
    return { logits: floats, kv: advance(kv, keys, values, width) };
  }
}
