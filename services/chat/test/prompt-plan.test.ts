// The prompt plan alone: which turns go to the model, in which order, within the budget.
import { describe, expect, it } from 'vitest';
import { estimateTokensByChars, historyIsEnough, maxUsefulContentBytes, planPrompt, type HistoryMessage } from '../src/prompt-plan.js';

let next = 0;
const user = (content: string): HistoryMessage => ({ id: `m${++next}`, role: 'user', content, status: 'complete' });
const assistant = (content: string, status: HistoryMessage['status'] = 'complete'): HistoryMessage => ({
  id: `m${++next}`,
  role: 'assistant',
  content,
  status,
});
/** One token per character, so budgets in tests read plainly. */
const perChar = (text: string): number => text.length;

describe('planPrompt', () => {
  it('keeps the whole history oldest first and ends with the new user message, once', () => {
    const history = [user('a'), assistant('b'), user('c'), assistant('d'), user('e')];
    const plan = planPrompt({ history, userMessageId: history[4]!.id, systemPrompt: '', maxPromptTokens: 10_000 });
    expect(plan.messages).toEqual([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
      { role: 'assistant', content: 'd' },
      { role: 'user', content: 'e' },
    ]);
    expect(plan.messages.filter((m) => m.content === 'e')).toHaveLength(1);
    expect(plan).toMatchObject({ earlierTurns: 2, droppedTurns: 0 });
  });

  it('puts the system prompt first', () => {
    const history = [user('hi')];
    const plan = planPrompt({ history, userMessageId: history[0]!.id, systemPrompt: 'Be brief.', maxPromptTokens: 10_000 });
    expect(plan.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('drops the oldest turns first, whole turns only, until the estimate fits', () => {
    const history = [user('x'.repeat(100)), assistant('y'.repeat(100)), user('z'.repeat(50)), assistant('w'.repeat(50)), user('now')];
    const all = planPrompt({ history, userMessageId: history[4]!.id, systemPrompt: '', maxPromptTokens: 10_000, estimateTokens: perChar });
    const budget = all.estimatedTokens - 1;
    const plan = planPrompt({ history, userMessageId: history[4]!.id, systemPrompt: '', maxPromptTokens: budget, estimateTokens: perChar });
    expect(plan.messages.map((m) => m.content)).toEqual(['z'.repeat(50), 'w'.repeat(50), 'now']);
    expect(plan).toMatchObject({ earlierTurns: 1, droppedTurns: 1 });
    expect(plan.estimatedTokens).toBeLessThanOrEqual(budget);
  });

  it('never drops the newest user message, even when it alone is over budget', () => {
    const history = [user('old'), assistant('answer'), user('n'.repeat(500))];
    const plan = planPrompt({ history, userMessageId: history[2]!.id, systemPrompt: 'sys', maxPromptTokens: 10, estimateTokens: perChar });
    expect(plan.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'n'.repeat(500) },
    ]);
    expect(plan.droppedTurns).toBe(1);
  });

  it('keeps turns contiguous: a small old turn is not kept once a newer one did not fit', () => {
    const history = [user('s'), assistant('s'), user('L'.repeat(400)), assistant('L'.repeat(400)), user('now')];
    const plan = planPrompt({ history, userMessageId: history[4]!.id, systemPrompt: '', maxPromptTokens: 100, estimateTokens: perChar });
    expect(plan.messages.map((m) => m.content)).toEqual(['now']);
  });

  it('limits earlier turns on request (the retry after "prompt too long")', () => {
    const history = [user('1'), assistant('a'), user('2'), assistant('b'), user('3'), assistant('c'), user('4')];
    const plan = planPrompt({ history, userMessageId: history[6]!.id, systemPrompt: '', maxPromptTokens: 10_000, maxEarlierTurns: 1 });
    expect(plan.messages.map((m) => m.content)).toEqual(['3', 'c', '4']);
  });

  it('skips answers still streaming and failed answers with no text; sends content, never reasoning', () => {
    const history: HistoryMessage[] = [
      user('q1'),
      { ...assistant('partial before the failure', 'error') },
      user('q2'),
      assistant('', 'error'),
      user('q3'),
      { ...assistant('answer'), reasoning: 'secret thoughts' } as HistoryMessage,
      user('q4'),
      assistant('', 'streaming'),
    ];
    const plan = planPrompt({ history, userMessageId: history[6]!.id, systemPrompt: '', maxPromptTokens: 10_000 });
    expect(plan.messages).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'partial before the failure' },
      { role: 'user', content: 'q2' },
      { role: 'user', content: 'q3' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'q4' },
    ]);
  });

  it('ignores messages sent after the one being answered', () => {
    const history = [user('first'), user('second'), assistant('to second')];
    const plan = planPrompt({ history, userMessageId: history[0]!.id, systemPrompt: '', maxPromptTokens: 10_000 });
    expect(plan.messages).toEqual([{ role: 'user', content: 'first' }]);
  });

  it('refuses a history without the message to answer', () => {
    expect(() => planPrompt({ history: [user('x')], userMessageId: 'missing', systemPrompt: '', maxPromptTokens: 100 })).toThrow(/not in the history/);
  });

  it('estimates one token per non-ASCII character (CJK tokenizes densely)', () => {
    expect(estimateTokensByChars('abcdef')).toBe(2);
    expect(estimateTokensByChars('你好世界')).toBe(4);
    expect(estimateTokensByChars('héllo')).toBe(3);
  });

  it('estimates conservatively: characters / 3 plus per-message overhead', () => {
    const history = [user('a'.repeat(300))];
    const plan = planPrompt({ history, userMessageId: history[0]!.id, systemPrompt: '', maxPromptTokens: 10_000 });
    expect(plan.estimatedTokens).toBeGreaterThanOrEqual(100);
    expect(plan.estimatedTokens).toBeLessThan(120);
  });
});

describe('reading only as much history as the budget reaches', () => {
  /** A deterministic pseudo-random history: turns of varied length, some answers empty or streaming. */
  function randomHistory(seed: number, turns: number): HistoryMessage[] {
    let state = seed;
    const random = (n: number): number => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    const history: HistoryMessage[] = [];
    for (let t = 0; t < turns; t++) {
      history.push(user('u'.repeat(1 + random(40))));
      const answers = random(3);
      for (let a = 0; a < answers; a++) history.push(random(5) === 0 ? assistant('', random(2) ? 'streaming' : 'error') : assistant('é'.repeat(random(60))));
    }
    history.push(user('the new one'));
    return history;
  }
  const samePrompt = (plan: ReturnType<typeof planPrompt>) => [plan.messages, plan.estimatedTokens, plan.earlierTurns];

  it('stops only where planning over what was read gives the prompt planning over everything gives', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const history = randomHistory(seed, 25);
      const userMessageId = history.at(-1)!.id;
      for (const maxPromptTokens of [10, 80, 200, 500, 5_000]) {
        const budget = { systemPrompt: seed % 2 ? 'sys' : '', maxPromptTokens };
        const full = planPrompt({ ...budget, history, userMessageId });
        const newestFirst = [...history].reverse();
        const stop = newestFirst.findIndex((_, i) => historyIsEnough(newestFirst.slice(0, i + 1), budget));
        const read = stop === -1 ? history : newestFirst.slice(0, stop + 1).reverse();
        expect(samePrompt(planPrompt({ ...budget, history: read, userMessageId }))).toEqual(samePrompt(full));
        expect(samePrompt(planPrompt({ ...budget, history: read, userMessageId, maxEarlierTurns: 1 }))).toEqual(
          samePrompt(planPrompt({ ...budget, history, userMessageId, maxEarlierTurns: 1 })),
        );
        // Everything fits: all of it is needed, nothing says stop early.
        if (full.droppedTurns === 0) expect(stop).toBe(-1);
      }
    }
  });

  it('stops at once when the new message alone is over budget', () => {
    const history = [user('old'), user('n'.repeat(100))];
    expect(historyIsEnough([history[1]!], { systemPrompt: '', maxPromptTokens: 10 })).toBe(true);
    expect(historyIsEnough([history[1]!], { systemPrompt: '', maxPromptTokens: 10_000 })).toBe(false);
  });

  it('never leaves out content that could fit: anything over maxUsefulContentBytes costs more than the budget', () => {
    for (const text of ['a'.repeat(400), 'é'.repeat(400), '中'.repeat(400), '😀'.repeat(400), 'ab中😀'.repeat(100)]) {
      const bytes = Buffer.byteLength(text);
      const maxPromptTokens = Math.floor(bytes / 4) - 1;
      expect(bytes).toBeGreaterThan(maxUsefulContentBytes(maxPromptTokens));
      expect(estimateTokensByChars(text)).toBeGreaterThan(maxPromptTokens);
    }
  });

  it('ends the plan at a message too long to have been read', () => {
    const history: HistoryMessage[] = [user('first'), { ...assistant(''), oversized: true }, user('second'), assistant('ok'), user('now')];
    const plan = planPrompt({ history, userMessageId: history[4]!.id, systemPrompt: '', maxPromptTokens: 10_000 });
    expect(plan.messages.map((m) => m.content)).toEqual(['second', 'ok', 'now']);
    expect(plan).toMatchObject({ earlierTurns: 1, droppedTurns: 1 });
  });
});
