// Splits Markdown into top-level blocks so a streaming answer re-parses only its last, still-growing
// block. A boundary is a blank line outside a code fence followed by an unindented line (an indented
// one continues a list item). Text only grows while streaming, so a split resumes at the start of the
// previous last block: the work per frame is proportional to that block, not to the whole answer.

export interface MarkdownBlock {
  /** Stable across re-splits: content hash plus occurrence, so identical blocks stay distinct. */
  readonly key: string;
  readonly text: string;
  /** Offset of the block in the whole text. */
  readonly start: number;
}

export interface BlockSplit {
  readonly text: string;
  readonly blocks: readonly MarkdownBlock[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const isBlank = (line: string): boolean => line.trim() === '';

/** FNV-1a, 32 bits, as base 36. */
export function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

function splitFrom(text: string, offset: number): { text: string; start: number }[] {
  const blocks: { text: string; start: number }[] = [];
  let fence: string | null = null;
  let blockStart = -1;
  let blockEnd = -1;
  let sawBlank = false;
  let pos = offset;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl === -1 ? text.length : nl;
    const line = text.slice(pos, lineEnd);
    if (fence !== null) {
      const m = FENCE.exec(line);
      if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && line.trim() === m[1]) fence = null;
      blockEnd = lineEnd;
    } else if (isBlank(line)) {
      if (blockStart !== -1) sawBlank = true;
    } else {
      const continues = /^[ \t]/.test(line);
      if (blockStart !== -1 && sawBlank && !continues) {
        blocks.push({ text: text.slice(blockStart, blockEnd), start: blockStart });
        blockStart = -1;
      }
      if (blockStart === -1) blockStart = pos;
      sawBlank = false;
      const m = FENCE.exec(line);
      if (m) fence = m[1]!;
      blockEnd = lineEnd;
    }
    pos = nl === -1 ? text.length : nl + 1;
  }
  if (blockStart !== -1) blocks.push({ text: text.slice(blockStart, blockEnd), start: blockStart });
  return blocks;
}

function keyed(raw: readonly { text: string; start: number }[], prior: readonly MarkdownBlock[]): MarkdownBlock[] {
  const seen = new Map<string, number>();
  for (const block of prior) {
    const h = block.key.slice(0, block.key.indexOf('-'));
    seen.set(h, (seen.get(h) ?? 0) + 1);
  }
  const out = prior.slice();
  for (const block of raw) {
    const h = hashText(block.text);
    const n = seen.get(h) ?? 0;
    seen.set(h, n + 1);
    out.push({ key: `${h}-${n}`, text: block.text, start: block.start });
  }
  return out;
}

export function splitBlocks(text: string): BlockSplit {
  return { text, blocks: keyed(splitFrom(text, 0), []) };
}

/** Re-splits `text`, reusing every block of `previous` but its last when `text` extends it. */
export function splitBlocksIncremental(previous: BlockSplit | null, text: string): BlockSplit {
  if (!previous || !text.startsWith(previous.text)) return splitBlocks(text);
  if (text.length === previous.text.length) return previous;
  const kept = previous.blocks.slice(0, -1);
  const from = previous.blocks.at(-1)?.start ?? 0;
  return { text, blocks: keyed(splitFrom(text, from), kept) };
}

const HAS_FENCE = /^ {0,3}(`{3,}|~{3,})/m;

/**
 * Cuts a long, still-growing block into chunks at the first line break after every `size`
 * characters, so each frame re-renders only the last chunk. The cuts never move as text is
 * appended, so earlier chunks stay memoised. Only for display while streaming: a finished block is
 * rendered whole. Blocks with a code fence are left whole (a cut would end the fence).
 */
export function softChunks(text: string, size: number): string[] {
  if (text.length <= size || HAS_FENCE.test(text)) return [text];
  const chunks: string[] = [];
  let from = 0;
  for (;;) {
    const cut = text.indexOf('\n', from + size);
    if (cut === -1 || cut === text.length - 1) break;
    chunks.push(text.slice(from, cut));
    from = cut + 1;
  }
  chunks.push(text.slice(from));
  return chunks;
}
