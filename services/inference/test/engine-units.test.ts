// The engine's pure parts: sampling, detokenizing, routing, KV batch surgery, step planning, validation.
import { describe, expect, it } from 'vitest';
import { argmax, sampleToken, seededRandom } from '../src/engine/sampling.js';
import { IncrementalDetokenizer } from '../src/engine/incremental-detokenizer.js';
import { TokenRouter, heldSuffixLength } from '../src/engine/token-router.js';
import { concatRows, emptyKvBatch, selectRows, stepMask, type KvBatch } from '../src/engine/kv-batch.js';
import { halfToFloat } from '../src/engine/half-float.js';
import { IDLE_PREFILL_CHUNKS, planStep } from '../src/engine/step-plan.js';
import { resolveSampling, checkPromptLength, resolveMaxPromptTokens } from '../src/engine/validate-request.js';
import { InvalidArgumentError } from '../src/engine/errors.js';

const params = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 };

describe('sampling', () => {
  it('is greedy at temperature 0', () => {
    expect(sampleToken(Float32Array.from([0.1, 3, 2.9]), { ...params, temperature: 0 }, [], Math.random)).toBe(1);
  });

  it('reproduces a draw from the same seed and varies across seeds', () => {
    const logits = () => Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const draw = (seed: number) => {
      const rng = seededRandom(seed);
      return Array.from({ length: 20 }, () => sampleToken(logits(), params, [], rng));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('never draws outside top-k', () => {
    const rng = seededRandom(1);
    const logits = Float32Array.from([5, 4, 3, 2, 1, 0]);
    const drawn = new Set(Array.from({ length: 300 }, () => sampleToken(logits.slice(), { ...params, topK: 2 }, [], rng)));
    expect([...drawn].sort()).toEqual([0, 1]);
  });

  it('keeps only the nucleus with top-p', () => {
    const rng = seededRandom(2);
    // probabilities ~ [0.64, 0.24, 0.09, 0.03]: top_p 0.8 keeps the first two
    const logits = Float32Array.from([3, 2, 1, 0]);
    const drawn = new Set(Array.from({ length: 300 }, () => sampleToken(logits.slice(), { ...params, topP: 0.8 }, [], rng)));
    expect([...drawn].sort()).toEqual([0, 1]);
  });

  it('penalises tokens already seen so greedy moves on', () => {
    const logits = Float32Array.from([2, 1.9, -1]);
    expect(sampleToken(logits, { ...params, temperature: 0, repetitionPenalty: 1.2 }, [0], Math.random)).toBe(1);
    expect(argmax(Float32Array.from([-3, -1, -2]))).toBe(1);
  });
});

// A byte-level stand-in vocabulary: each id is one UTF-8 byte, decoded the way a BPE decoder would.
const bytes = new TextEncoder().encode('héllo 你好 <STOP> tail');
const decodeBytes = (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids.map((i) => bytes[i]!)));

describe('incremental detokenizer', () => {
  it('never ends a piece inside a multi-byte character and loses nothing', () => {
    const d = new IncrementalDetokenizer(decodeBytes);
    const pieces = Array.from(bytes.keys(), (i) => d.push(i));
    pieces.push(d.flush());
    expect(pieces.join('')).toBe('héllo 你好 <STOP> tail');
    for (const p of pieces) expect(p).not.toContain('\uFFFD');
    // '你' is three bytes: the first two tokens yield nothing, the third the whole character.
    const start = new TextEncoder().encode('héllo ').length;
    expect(pieces.slice(start, start + 3)).toEqual(['', '', '你']);
  });

  it('drops NUL, which no answer needs and PostgreSQL cannot store', () => {
    const text = 'a\u0000b\u0000';
    const bytes = new TextEncoder().encode(text);
    const d = new IncrementalDetokenizer((ids) => new TextDecoder().decode(Uint8Array.from(ids, (i) => bytes[i]!)));
    const pieces = Array.from(bytes.keys(), (i) => d.push(i));
    pieces.push(d.flush());
    expect(pieces.join('')).toBe('ab');
  });
});

describe('token router', () => {
  const THINK = 1000;
  const END_THINK = 1001;
  const EOS = 1002;
  const vocab = ['Let', ' me', ' think', 'Answer', ':', ' 42', '<', 'ST', 'OP', '>', '!'];
  const decode = (ids: readonly number[]) => ids.map((i) => vocab[i]).join('');
  const router = (thinkingEnabled: boolean, stop: string[] = []) =>
    new TokenRouter({ decode, eosTokenIds: new Set([EOS]), thinkStartId: THINK, thinkEndId: END_THINK, thinkingEnabled, stop });
  const run = (r: TokenRouter, ids: number[]) => {
    const out = ids.flatMap((id) => r.push(id).deltas);
    return [...out, ...r.finish()];
  };

  it('splits reasoning from content by token id and never sends the tags', () => {
    const deltas = run(router(true), [THINK, 0, 1, 2, END_THINK, 3, 4, 5, EOS]);
    const text = (ch: string) => deltas.filter((d) => d.channel === ch).map((d) => d.text).join('');
    expect(text('reasoning')).toBe('Let me think');
    expect(text('content')).toBe('Answer: 42');
    expect(deltas.every((d) => !d.text.includes('think>'))).toBe(true);
    expect(deltas.reduce((n, d) => n + d.tokenCount, 0)).toBeLessThanOrEqual(9);
  });

  it('sends no reasoning when thinking is off, even if the model emits the tags', () => {
    const deltas = run(router(false), [THINK, 0, END_THINK, 3]);
    expect(deltas.every((d) => d.channel === 'content')).toBe(true);
    expect(deltas.map((d) => d.text).join('')).toBe('LetAnswer');
  });

  it('stops at EOS', () => {
    const r = router(true);
    expect(r.push(3).stopped).toBe(false);
    expect(r.push(EOS).stopped).toBe(true);
  });

  it('holds back a possible stop string and cuts before it', () => {
    const r = router(false, ['<STOP>']);
    const seen: string[] = [];
    let stopped = false;
    for (const id of [3, 6, 7, 8, 9, 10]) {
      const o = r.push(id);
      seen.push(...o.deltas.map((d) => d.text));
      if (o.stopped) {
        stopped = true;
        break;
      }
    }
    expect(stopped).toBe(true);
    expect(seen.join('')).toBe('Answer');
  });

  it('releases held text once it can no longer start a stop string', () => {
    const deltas = run(router(false, ['<STOP>']), [3, 6, 5]);
    expect(deltas.map((d) => d.text).join('')).toBe('Answer< 42');
    expect(heldSuffixLength('abc<ST', ['<STOP>'])).toBe(3);
    expect(heldSuffixLength('abc', ['<STOP>'])).toBe(0);
  });
});

describe('KV batch', () => {
  const shape = { numLayers: 1, numKvHeads: 2, headDim: 1, dtype: 'float32' as const };
  /** A batch of one row whose cache holds `tokens` values, value t at head h = 100*h + t. */
  const row = (tokens: number[]): KvBatch => {
    const keys = [Float32Array.from([...tokens, ...tokens.map((t) => 100 + t)])];
    return { shape, rows: 1, columns: tokens.length, keys, values: keys, mask: new Uint8Array(tokens.length).fill(1) };
  };

  it('left-pads a shorter row when rows join', () => {
    const b = concatRows([row([1, 2, 3]), row([7])]);
    expect(b.rows).toBe(2);
    expect(b.columns).toBe(3);
    expect([...b.mask]).toEqual([1, 1, 1, 0, 0, 1]);
    expect([...b.keys[0]!]).toEqual([1, 2, 3, 101, 102, 103, 0, 0, 7, 0, 0, 107]);
  });

  it('drops rows and the padding only they needed', () => {
    const b = concatRows([row([1, 2, 3]), row([7]), row([8, 9])]);
    const kept = selectRows(b, [2, 1]);
    expect(kept.columns).toBe(2);
    expect([...kept.mask]).toEqual([1, 1, 0, 1]);
    expect([...kept.keys[0]!]).toEqual([8, 9, 108, 109, 0, 7, 0, 107]);
    expect(selectRows(b, []).rows).toBe(0);
  });

  it('extends the mask with real columns for a step', () => {
    const b = concatRows([row([1, 2]), row([5])]);
    expect([...stepMask(b, 1)]).toEqual([1, 1, 1, 0, 1, 1]);
    expect(emptyKvBatch(shape).columns).toBe(0);
  });

  it('keeps float16 caches (raw bits) as float16 through joins and drops', () => {
    const half = { ...shape, dtype: 'float16' as const };
    const row16 = (bits: number[]): KvBatch => {
      const keys = [Uint16Array.from([...bits, ...bits.map((b) => b + 1)])];
      return { shape: half, rows: 1, columns: bits.length, keys, values: keys, mask: new Uint8Array(bits.length).fill(1) };
    };
    const joined = concatRows([row16([0x3c00, 0x4000]), row16([0xc000])]);
    expect(joined.keys[0]).toBeInstanceOf(Uint16Array);
    expect([...joined.keys[0]!]).toEqual([0x3c00, 0x4000, 0x3c01, 0x4001, 0, 0xc000, 0, 0xc001]);
    const kept = selectRows(joined, [1]);
    expect(kept.keys[0]).toBeInstanceOf(Uint16Array);
    expect([...kept.keys[0]!]).toEqual([0xc000, 0xc001]);
    expect(emptyKvBatch(half).keys[0]).toBeInstanceOf(Uint16Array);
  });
});

describe('half floats', () => {
  it('widens float16 bits exactly: normals, subnormals, zeros, infinities, NaN', () => {
    const bits = Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00]);
    const floats = [...halfToFloat(bits)];
    expect(floats.slice(0, 5)).toEqual([1, -2, Math.fround(0.333251953125), 65504, 2 ** -24]);
    expect(Object.is(floats[5], 0)).toBe(true);
    expect(Object.is(floats[6], -0)).toBe(true);
    expect(floats.slice(7, 9)).toEqual([Infinity, -Infinity]);
    expect(floats[9]).toBeNaN();
  });
});

describe('step plan', () => {
  const chunkTokens = 256;
  it('admits up to the free batch slots and always decodes running sequences', () => {
    expect(planStep({ running: 6, prefilling: 1, waiting: 5, warming: 0, maxBatchSize: 8, chunkTokens })).toMatchObject({ admit: 1, decode: true });
    expect(planStep({ running: 8, prefilling: 0, waiting: 5, warming: 0, maxBatchSize: 8, chunkTokens })).toEqual({ admit: 0, admitWarm: 0, prefillTokens: 0, decode: true });
    expect(planStep({ running: 0, prefilling: 0, waiting: 2, warming: 0, maxBatchSize: 8, chunkTokens })).toMatchObject({ admit: 2, decode: false });
  });

  it('prefills one chunk beside running streams, and several when no stream waits on the step', () => {
    expect(planStep({ running: 3, prefilling: 0, waiting: 5, warming: 0, maxBatchSize: 8, chunkTokens }).prefillTokens).toBe(chunkTokens);
    // Eight 89-token prompts arriving at an idle engine: one pass, not three with decode steps between.
    const idle = planStep({ running: 0, prefilling: 0, waiting: 8, warming: 0, maxBatchSize: 8, chunkTokens });
    expect(idle.prefillTokens).toBe(chunkTokens * IDLE_PREFILL_CHUNKS);
    expect(idle.prefillTokens).toBeGreaterThanOrEqual(8 * 89);
    expect(planStep({ running: 0, prefilling: 0, waiting: 0, warming: 0, maxBatchSize: 8, chunkTokens }).prefillTokens).toBe(0);
  });

  it('warms next turns only when no request waits, in the slots requests leave', () => {
    expect(planStep({ running: 2, prefilling: 0, waiting: 1, warming: 3, maxBatchSize: 8, chunkTokens })).toMatchObject({ admit: 1, admitWarm: 0 });
    expect(planStep({ running: 6, prefilling: 0, waiting: 0, warming: 3, maxBatchSize: 8, chunkTokens })).toMatchObject({ admit: 0, admitWarm: 2, prefillTokens: chunkTokens });
    expect(planStep({ running: 0, prefilling: 0, waiting: 0, warming: 1, maxBatchSize: 8, chunkTokens })).toMatchObject({ admitWarm: 1, decode: false });
  });
});

describe('request validation', () => {
  const limits = { maxBatchSize: 8, maxQueueSize: 8, maxContextTokens: 100, maxNewTokensLimit: 50 };
  const defaults = { temperature: 0.6, topP: 0.95, topK: 20, repetitionPenalty: 1, maxNewTokens: 1000 };
  const base = { requestId: 'r', messages: [{ role: 'user' as const, content: 'hi' }], sampling: {} };
  const field = (sampling: object, messages: unknown[] = base.messages) => {
    try {
      resolveSampling({ ...base, messages: messages as never, sampling }, defaults, limits, () => 1);
      return 'ok';
    } catch (e) {
      return e instanceof InvalidArgumentError ? e.field : String(e);
    }
  };

  it('fills defaults, capping max_new_tokens at the limit', () => {
    expect(resolveSampling(base, defaults, limits, () => 5)).toEqual({
      temperature: 0.6, topP: 0.95, topK: 20, repetitionPenalty: 1, maxNewTokens: 50, seed: 5, stop: [],
    });
  });

  it('names the offending field', () => {
    expect(field({}, [])).toBe('messages');
    expect(field({}, [{ role: 'wizard', content: 'x' }])).toBe('messages[0].role');
    expect(field({ temperature: -0.1 })).toBe('sampling.temperature');
    expect(field({ topP: 0 })).toBe('sampling.top_p');
    expect(field({ topP: 1.01 })).toBe('sampling.top_p');
    expect(field({ topK: -1 })).toBe('sampling.top_k');
    expect(field({ repetitionPenalty: 0 })).toBe('sampling.repetition_penalty');
    expect(field({ maxNewTokens: 51 })).toBe('sampling.max_new_tokens');
    expect(field({ maxNewTokens: 0 })).toBe('sampling.max_new_tokens');
    expect(field({ stop: [''] })).toBe('sampling.stop[0]');
    expect(field({ temperature: 0, topP: 1, maxNewTokens: 50 })).toBe('ok');
    const model = { ...limits, maxPromptTokens: resolveMaxPromptTokens(limits) };
    expect(() => checkPromptLength(100, model)).toThrow('messages: the prompt is 100 tokens; the model accepts at most 99 prompt tokens');
    expect(() => checkPromptLength(99, model)).not.toThrow();
  });

  it('bounds prompts by the configured token limit, never beyond the context less one answer token', () => {
    expect(resolveMaxPromptTokens({ ...limits, maxPromptTokens: 60 })).toBe(60);
    expect(resolveMaxPromptTokens({ ...limits, maxPromptTokens: 500 })).toBe(99);
    expect(resolveMaxPromptTokens(limits)).toBe(99);
    const model = { ...limits, maxPromptTokens: 60 };
    expect(() => checkPromptLength(61, model)).toThrow(/61 tokens; the model accepts at most 60/);
    expect(() => checkPromptLength(60, model)).not.toThrow();
  });
});
