// An answer's Markdown, block by block: finished blocks are rendered once (memoised by content and
// keyed by content hash), so only the last, still-growing block is re-parsed per frame; a very long
// growing block is itself cut into chunks so that work stays bounded.
import { memo } from 'preact/compat';
import { useRef } from 'preact/hooks';
import { softChunks, splitBlocksIncremental, type BlockSplit } from '../markdown/blocks';
import { renderFinishedBlock, renderMarkdown } from '../markdown/render';
import { copyCodeFromClick } from './copy-code';

const LIVE_CHUNK_CHARS = 2_000;

// The HTML comes from markdown-it with `html: false` and checked links (markdown/render.ts): inert.
const FinishedBlock = memo(({ text }: { text: string }) => <div class="md-block" dangerouslySetInnerHTML={{ __html: renderFinishedBlock(text) }} />);
const LiveChunk = memo(({ text }: { text: string }) => <div dangerouslySetInnerHTML={{ __html: renderMarkdown(text, { finished: false }) }} />);

function LiveBlock({ text }: { text: string }) {
  const chunks = softChunks(text, LIVE_CHUNK_CHARS);
  return (
    <div class="md-block">
      {chunks.map((chunk, i) => (
        <LiveChunk key={i} text={chunk} />
      ))}
    </div>
  );
}

export function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  const split = useRef<BlockSplit | null>(null);
  split.current = splitBlocksIncremental(split.current, text);
  const blocks = split.current.blocks;
  const lastLive = streaming ? blocks.length - 1 : -1;
  return (
    <div class="markdown" onClick={copyCodeFromClick}>
      {blocks.map((block, i) => (i === lastLive ? <LiveBlock key={`live-${block.start}`} text={block.text} /> : <FinishedBlock key={block.key} text={block.text} />))}
    </div>
  );
}
