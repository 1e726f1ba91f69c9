// One ONNX Runtime session on a worker thread. The Node binding runs a forward pass synchronously
// on the thread that calls it, so a 200 ms step would stall cancellations, health checks and every
// stream's gRPC writes for 200 ms. Here the main thread only posts the feeds and gets the outputs
// back, both by transferring their buffers (no copy of the KV cache either way). For graphs that
// can append to their cache in place, the worker keeps the cache itself (a KV store of per-sequence
// slots) and only inputs and logits cross threads.
//
// The worker's code is plain JavaScript run with `eval`: it needs no TypeScript loader, so it
// starts the same under tsx, vitest and the compiled service; it loads the binding the main thread
// resolved, whatever the working directory.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type ort from 'onnxruntime-node';

/** A tensor as it crosses threads: what `ort.Tensor` is made from and read through. */
export interface PlainTensor {
  readonly type: ort.Tensor.Type;
  readonly data: ort.Tensor.DataType;
  readonly dims: readonly number[];
}

/** The shared-buffer KV cache the worker keeps: per layer one key and one value buffer [slots, kvHeads, capacity, headDim]. */
export interface KvStoreSpec {
  /**
   * `appended`: the graph's outputs holding just the new tokens' key and value, [rows, tokens,
   * kvHeads * headDim]. When given, a pass fetches those instead of `present` and the worker writes
   * them into the store: onnxruntime-node copies every fetched output into fresh JavaScript memory,
   * so fetching `present`, even bound to the store, would copy the whole store every pass.
   */
  readonly layers: readonly { readonly past: readonly [string, string]; readonly present: readonly [string, string]; readonly appended?: readonly [string, string] }[];
  readonly kvHeads: number;
  readonly headDim: number;
  readonly dtype: 'float32' | 'float16';
}

/** One forward pass over slots [firstSlot, firstSlot + rows) of the worker's KV store, written in place. */
export interface InPlaceRun {
  readonly feeds: Readonly<Record<string, PlainTensor>>;
  readonly firstSlot: number;
  readonly rows: number;
  /** The store is first resized to exactly this many slots of exactly this many tokens each (keeping what they hold). */
  readonly slots: number;
  readonly capacity: number;
  /** Per row, the position its first new token takes (what the slot held before the pass). */
  readonly starts: readonly number[];
  /** Per store row, the tokens it holds before the pass: what a re-layout keeps. */
  readonly held: readonly number[];
}

export interface SessionRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  /** One forward pass. The feeds' buffers are transferred: they are unusable afterwards. */
  run(feeds: Readonly<Record<string, PlainTensor>>): Promise<Record<string, PlainTensor>>;
  /** Creates the worker's KV store (empty); `runInPlace` then uses it. */
  createKvStore(spec: KvStoreSpec): Promise<void>;
  /** A pass whose past and present are the same slots of the store: only `logits` comes back. */
  runInPlace(run: InPlaceRun): Promise<Record<string, PlainTensor>>;
  release(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const message = (error) => String((error && error.message) || error);
(async () => {
  let session;
  try {
    session = await ort.InferenceSession.create(workerData.modelPath, workerData.options);
  } catch (error) {
    parentPort.postMessage({ type: 'failed', message: message(error) });
    return;
  }
  parentPort.postMessage({
    type: 'ready',
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputMetadata: session.inputMetadata.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false })),
  });
  // The shared-buffer KV store: it never leaves this thread; passes read and write it in place.
  let kv;
  const allocate = (n) => (kv.spec.dtype === 'float16' ? new Uint16Array(n) : new Float32Array(n));
  // Re-lays the store out as SLOTS rows of CAPACITY tokens (growing or shrinking), copying only what
  // each row holds (HELD[row] tokens; empty rows and evicted prefixes cost nothing). Rare: capacity
  // doubles or quarters, and rows shrink only to half or less.
  const resize = (slots, capacity, held) => {
    if (slots === kv.slots && capacity === kv.capacity) return;
    const { kvHeads, headDim } = kv.spec;
    const kept = Math.min(slots, kv.slots);
    const from = kv.capacity * headDim;
    const to = capacity * headDim;
    const relayout = (old) => {
      const out = allocate(slots * kvHeads * capacity * headDim);
      // Rows added or dropped at the end: the rows kept lie as they were, one block.
      if (capacity === kv.capacity) {
        out.set(old.subarray(0, kept * kvHeads * to));
        return out;
      }
      for (let row = 0; row < kept; row++) {
        const length = Math.min(held[row] ?? 0, kv.capacity, capacity) * headDim;
        if (length === 0) continue;
        for (let h = 0; h < kvHeads; h++) {
          const r = row * kvHeads + h;
          out.set(old.subarray(r * from, r * from + length), r * to);
        }
      }
      return out;
    };
    kv.keys = kv.keys.map(relayout);
    kv.values = kv.values.map(relayout);
    kv.slots = slots;
    kv.capacity = capacity;
  };
  const runInPlace = async (request) => {
    resize(request.slots, request.capacity, request.held);
    const { kvHeads, headDim, dtype, layers } = kv.spec;
    const stride = kvHeads * kv.capacity * headDim;
    const from = request.firstSlot * stride;
    const to = from + request.rows * stride;
    const feeds = {};
    for (const [name, t] of Object.entries(request.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const fetches = { logits: null };
    layers.forEach((layer, l) => {
      const dims = [request.rows, kvHeads, kv.capacity, headDim];
      const key = new ort.Tensor(dtype, kv.keys[l].subarray(from, to), dims);
      const value = new ort.Tensor(dtype, kv.values[l].subarray(from, to), dims);
      feeds[layer.past[0]] = key;
      feeds[layer.past[1]] = value;
      if (layer.appended) {
        fetches[layer.appended[0]] = null;
        fetches[layer.appended[1]] = null;
      } else {
        // The same memory as past and present: GroupQueryAttention then appends in place.
        fetches[layer.present[0]] = key;
        fetches[layer.present[1]] = value;
      }
    });
    const out = await session.run(feeds, fetches);
    layers.forEach((layer, l) => {
      if (!layer.appended) return;
      append(kv.keys[l], out[layer.appended[0]], request);
      append(kv.values[l], out[layer.appended[1]], request);
    });
    return { logits: out.logits };
  };
  // Writes a pass's new tokens into the store, each row from its first position on (padding past a
  // row's real tokens lands beyond its content, where nothing reads). Heads first [rows, kvHeads,
  // tokens, headDim] (the built-in graph): one block per row and head; tokens first [rows, tokens,
  // kvHeads * headDim]: one copy per token and head (a 12-prompt prefill of the 0.6B shape, 380 ms).
  const append = (store, fresh, request) => {
    const { kvHeads, headDim } = kv.spec;
    if (fresh.dims.length === 4) {
      const [rows, , tokens] = fresh.dims;
      for (let r = 0; r < rows; r++) {
        const start = request.starts[r];
        const kept = Math.min(tokens, kv.capacity - start) * headDim;
        if (kept <= 0) continue;
        for (let h = 0; h < kvHeads; h++) {
          const src = (r * kvHeads + h) * tokens * headDim;
          store.set(fresh.data.subarray(src, src + kept), (((request.firstSlot + r) * kvHeads + h) * kv.capacity + start) * headDim);
        }
      }
      return;
    }
    const [rows, tokens] = fresh.dims;
    for (let r = 0; r < rows; r++) {
      const start = request.starts[r];
      const slotBase = (request.firstSlot + r) * kvHeads * kv.capacity;
      for (let t = 0; t < tokens && start + t < kv.capacity; t++) {
        for (let h = 0; h < kvHeads; h++) {
          const src = ((r * tokens + t) * kvHeads + h) * headDim;
          store.set(fresh.data.subarray(src, src + headDim), ((slotBase + h * kv.capacity) + start + t) * headDim);
        }
      }
    }
  };
  parentPort.on('message', async (request) => {
    if (request.type === 'release') {
      await session.release();
      parentPort.postMessage({ type: 'released' });
      return;
    }
    if (request.type === 'kv-store') {
      kv = { spec: request.spec, slots: 0, capacity: 0 };
      kv.keys = request.spec.layers.map(() => allocate(0));
      kv.values = request.spec.layers.map(() => allocate(0));
      parentPort.postMessage({ type: 'result', id: request.id, result: {} });
      return;
    }
    try {
      let out;
      if (request.type === 'run-in-place') out = await runInPlace(request.run);
      else {
        const feeds = {};
        for (const [name, t] of Object.entries(request.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
        out = await session.run(feeds);
      }
      const result = {};
      const buffers = new Set();
      for (const [name, t] of Object.entries(out)) {
        result[name] = { type: t.type, data: t.data, dims: [...t.dims] };
        buffers.add(t.data.buffer);
      }
      parentPort.postMessage({ type: 'result', id: request.id, result }, [...buffers]);
    } catch (error) {
      parentPort.postMessage({ type: 'result', id: request.id, error: message(error) });
    }
  });
})();
`;

type FromWorker =
  | { readonly type: 'ready'; readonly inputNames: string[]; readonly outputNames: string[]; readonly inputMetadata: ort.InferenceSession.ValueMetadata[] }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly result?: Record<string, PlainTensor>; readonly error?: string }
  | { readonly type: 'released' };

/** Starts the worker and creates the session in it; rejects with ONNX Runtime's own message. */
export async function startSessionWorker(modelPath: string, options: ort.InferenceSession.SessionOptions): Promise<SessionRunner> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, modelPath, options } });
  const pending = new Map<number, { resolve: (out: Record<string, PlainTensor>) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let released: (() => void) | undefined;
  let dead: Error | undefined;

  const ready = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'failed') reject(new Error(message.message));
      else if (message.type === 'released') released?.();
      else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result!);
      }
    });
    // A worker that dies (out of memory, a native crash) fails whatever waits on it, and every later call.
    const fail = (error: Error) => {
      dead ??= error;
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
      released?.();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the inference worker thread exited (code ${code})`)));
  });

  const call = (message: object, feeds: Readonly<Record<string, PlainTensor>>): Promise<Record<string, PlainTensor>> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    const buffers = new Set<ArrayBufferLike>();
    for (const tensor of Object.values(feeds)) if (ArrayBuffer.isView(tensor.data)) buffers.add(tensor.data.buffer);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, [...buffers] as ArrayBuffer[]);
    });
  };

  return {
    inputNames: ready.inputNames,
    outputNames: ready.outputNames,
    inputMetadata: ready.inputMetadata,
    run: (feeds) => call({ type: 'run', feeds }, feeds),
    createKvStore: async (spec) => void (await call({ type: 'kv-store', spec }, {})),
    runInPlace: (run) => call({ type: 'run-in-place', run }, run.feeds),
    async release() {
      if (!dead) {
        await new Promise<void>((resolve) => {
          released = resolve;
          worker.postMessage({ type: 'release' });
        });
      }
      await worker.terminate();
    },
  };
}
