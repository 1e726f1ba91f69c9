import { describe, expect, it } from 'vitest';
import { softChunks, splitBlocks, splitBlocksIncremental } from './blocks';

const DOC = [
  '# Title',
  '',
  'A paragraph',
  'on two lines.',
  '',
  '```ts',
  'const a = 1;',
  '',
  '',
  'const b = 2;',
  '```',
  '',
  '- one',
  '',
  '  continued item',
  '- two',
  '',
  '---',
  '',
  '---',
  '',
  'End.',
].join('\n');

describe('splitBlocks', () => {
  it('splits at blank lines outside fences, keeping indented continuations', () => {
    expect(splitBlocks(DOC).blocks.map((b) => b.text)).toEqual([
      '# Title',
      'A paragraph\non two lines.',
      '```ts\nconst a = 1;\n\n\nconst b = 2;\n```',
      '- one\n\n  continued item\n- two',
      '---',
      '---',
      'End.',
    ]);
  });

  it('gives identical blocks distinct, stable keys', () => {
    const keys = splitBlocks(DOC).blocks.map((b) => b.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(splitBlocks(DOC).blocks.map((b) => b.key)).toEqual(keys);
  });

  it('records offsets', () => {
    for (const block of splitBlocks(DOC).blocks) expect(DOC.slice(block.start, block.start + block.text.length)).toBe(block.text);
  });

  it('streams to the same result as a whole split, at every prefix, reusing finished blocks', () => {
    let split = splitBlocksIncremental(null, '');
    for (let i = 1; i <= DOC.length; i++) {
      const next = splitBlocksIncremental(split, DOC.slice(0, i));
      expect(next.blocks).toEqual(splitBlocks(DOC.slice(0, i)).blocks);
      for (const [j, block] of split.blocks.slice(0, -1).entries()) expect(next.blocks[j]).toBe(block);
      split = next;
    }
  });

  it('starts over when the text does not extend the previous one', () => {
    const a = splitBlocks('one\n\ntwo');
    expect(splitBlocksIncremental(a, 'other').blocks.map((b) => b.text)).toEqual(['other']);
  });
});

describe('softChunks', () => {
  const para = Array.from({ length: 40 }, (_, i) => `line ${i} of a long paragraph`).join('\n');

  it('leaves short blocks and fenced blocks whole', () => {
    expect(softChunks('short', 10)).toEqual(['short']);
    const fenced = '```\n' + para + '\n```';
    expect(softChunks(fenced, 50)).toEqual([fenced]);
  });

  it('cuts at line breaks, and earlier cuts never move as text grows', () => {
    const whole = softChunks(para, 100);
    expect(whole.length).toBeGreaterThan(5);
    expect(whole.join('\n')).toBe(para);
    for (let i = 1; i <= para.length; i++) {
      const chunks = softChunks(para.slice(0, i), 100);
      expect(chunks.join('\n')).toBe(para.slice(0, i));
      for (const chunk of chunks.slice(0, -1)) expect(whole).toContain(chunk);
    }
  });
});
