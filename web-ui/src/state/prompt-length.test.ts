import { describe, expect, it } from 'vitest';
import { estimateTokens, promptLengthWarning } from './prompt-length';
import { describeRunError } from '../api/errors';

describe('promptLengthWarning', () => {
  it('says nothing for a draft that fits, or when the limit is unknown', () => {
    expect(promptLengthWarning('Hello there', 100)).toBeUndefined();
    expect(promptLengthWarning('x'.repeat(10_000), null)).toBeUndefined();
    expect(promptLengthWarning('x'.repeat(10_000), undefined)).toBeUndefined();
  });

  it('names the estimate and the limit once the draft likely exceeds it', () => {
    expect(promptLengthWarning('word '.repeat(1_000), 1_000)).toBe('Too long for the model: about 1,250 tokens; it accepts at most 1,000.');
  });

  it('counts a CJK character as a token, four ASCII characters as one', () => {
    expect(estimateTokens('abcdefgh')).toBe(2);
    expect(estimateTokens('日本語')).toBe(3);
    expect(promptLengthWarning('日'.repeat(101), 100)).toMatch(/about 101 tokens; it accepts at most 100/);
  });
});

describe('describeRunError prompt_too_long', () => {
  it("shows the model's counts and what to do", () => {
    expect(
      describeRunError('prompt_too_long', 'the conversation is too long for the model: the prompt is 7205 tokens; the model accepts at most 3072 prompt tokens'),
    ).toBe('The conversation is too long for the model: the prompt is 7205 tokens; the model accepts at most 3072 prompt tokens. Shorten the message or start a new chat.');
    expect(describeRunError('prompt_too_long', '')).toBe('The conversation is too long for the model. Shorten the message or start a new chat.');
  });
});
