import { describe, expect, it } from 'vitest';
import { filenameFromDisposition } from './download';

describe('filenameFromDisposition', () => {
  it('prefers the UTF-8 name, falls back to the quoted one, then to the default', () => {
    expect(filenameFromDisposition(`attachment; filename="Rust-borrow.md"; filename*=UTF-8''Rust%20borrow%20%E2%9C%93.md`, 'x')).toBe('Rust borrow ✓.md');
    expect(filenameFromDisposition('attachment; filename="freechat-export-2026-12-01.json"', 'x')).toBe('freechat-export-2026-12-01.json');
    expect(filenameFromDisposition('attachment; filename=plain.json', 'x')).toBe('plain.json');
    expect(filenameFromDisposition(null, 'conversation.json')).toBe('conversation.json');
    expect(filenameFromDisposition(`attachment; filename*=UTF-8''%E0%A4%A`, 'fallback.md')).toBe('fallback.md');
  });

  it('never yields a path', () => {
    expect(filenameFromDisposition('attachment; filename="../../etc/passwd"', 'x')).toBe('passwd');
  });
});
