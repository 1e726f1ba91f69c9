import { describe, expect, it } from 'vitest';
import { SseParser, type SseFrame } from './sse';

const STREAM =
  ': ping\n\n' +
  'id: r1:1\nevent: run\ndata: {"runId":"r1"}\n\n' +
  'id: r1:2\r\nevent: content\r\ndata: {"delta":"héllo 🌍 wörld"}\r\n\r\n' +
  'id: r1:3\revent: content\rdata: {"delta":"a"}\r\r' +
  'data: line one\ndata:line two\n\n';

const EXPECTED: SseFrame[] = [
  { id: 'r1:1', event: 'run', data: '{"runId":"r1"}' },
  { id: 'r1:2', event: 'content', data: '{"delta":"héllo 🌍 wörld"}' },
  { id: 'r1:3', event: 'content', data: '{"delta":"a"}' },
  { id: 'r1:3', event: 'message', data: 'line one\nline two' },
];

function parseInChunks(bytes: Uint8Array, cuts: number[]): SseFrame[] {
  const parser = new SseParser();
  const frames: SseFrame[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    frames.push(...parser.push(bytes.slice(from, cut)));
    from = cut;
  }
  return frames;
}

describe('SseParser', () => {
  const bytes = new TextEncoder().encode(STREAM);

  it('parses a whole stream', () => {
    expect(parseInChunks(bytes, [])).toEqual(EXPECTED);
  });

  it('gives the same frames when split at every byte boundary', () => {
    for (let cut = 1; cut < bytes.length; cut++) expect(parseInChunks(bytes, [cut])).toEqual(EXPECTED);
  });

  it('gives the same frames when fed one byte at a time', () => {
    expect(parseInChunks(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))).toEqual(EXPECTED);
  });

  it('keeps an unfinished frame until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('id: a:1\nevent: content\ndata: {"delta":"x"}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: 'a:1', event: 'content', data: '{"delta":"x"}' }]);
  });

  it('ignores comments and frames without data', () => {
    expect(new SseParser().push(': ping\n\nevent: nothing\n\n')).toEqual([]);
  });
});
