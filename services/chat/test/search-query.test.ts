// The pure pieces of search: the tsquery built from typed words (never raw input) and the
// highlights cut out of a headline.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { buildTsQuery, HIGHLIGHT_START as S, HIGHLIGHT_STOP as E, searchLimit, splitHighlights, validateQuery } from '../src/search-query.js';

describe('buildTsQuery', () => {
  it('requires every word and matches the last one as a prefix while it is being typed', () => {
    expect(buildTsQuery('Sourdough bre')).toBe(`'sourdough' & 'bre':*`);
    expect(buildTsQuery('bread')).toBe(`'bread':*`);
  });

  it('matches whole words once the query ends with a space', () => {
    expect(buildTsQuery('sourdough bread ')).toBe(`'sourdough' & 'bread'`);
  });

  it('keeps only letters and digits: tsquery operators and quotes never get through', () => {
    expect(buildTsQuery(`it's a & b | !c <-> (d):* 'e'`)).toBe(`'it' & 's' & 'a' & 'b' & 'c' & 'd' & 'e':*`);
    expect(buildTsQuery("x\\' | y")).toBe(`'x' & 'y':*`);
  });

  it('has no query for input without a word', () => {
    expect(buildTsQuery('!!! ?? -- ')).toBeUndefined();
    expect(buildTsQuery('   ')).toBeUndefined();
  });

  it('keeps words of any script, with their combining marks', () => {
    expect(buildTsQuery('你好 世界')).toBe(`'你好' & '世界':*`);
    expect(buildTsQuery('Café NAÏVE')).toBe(`'café' & 'naïve':*`);
    expect(buildTsQuery('हिन्दी')).toBe(`'हिन्दी':*`);
  });

  it('uses at most 16 words', () => {
    const query = buildTsQuery(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
    expect(query?.split(' & ')).toHaveLength(16);
  });
});

describe('validateQuery and searchLimit', () => {
  it('refuses blank, overlong and unstorable queries by field name', () => {
    for (const bad of ['  ', 'x'.repeat(201), 'a\u0000b']) {
      expect(() => validateQuery(bad)).toThrow(InvalidArgumentError);
      expect(() => validateQuery(bad)).toThrow(/^query:/);
    }
    expect(validateQuery('😀'.repeat(200))).toHaveLength(400);
  });

  it('defaults to 20 results and refuses more than 50', () => {
    expect(searchLimit(0)).toBe(20);
    expect(searchLimit(50)).toBe(50);
    expect(() => searchLimit(51)).toThrow(/^limit:/);
  });
});

describe('splitHighlights', () => {
  it('returns plain text and the [start, end) of each marked part', () => {
    expect(splitHighlights(`a ${S}bread${E} and ${S}butter${E}!`)).toEqual({
      text: 'a bread and butter!',
      highlights: [
        [2, 7],
        [12, 18],
      ],
    });
  });

  it('counts in UTF-16 code units, as the browser slices strings', () => {
    const { text, highlights } = splitHighlights(`😀 ${S}你好${E}`);
    expect(highlights).toEqual([[3, 5]]);
    expect(text.slice(3, 5)).toBe('你好');
  });

  it('drops empty or unbalanced markers', () => {
    expect(splitHighlights(`${S}${E}x${E}y${S}z`)).toEqual({ text: 'xyz', highlights: [] });
    expect(splitHighlights('no match')).toEqual({ text: 'no match', highlights: [] });
  });
});
