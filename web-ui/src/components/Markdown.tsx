// An answer's Markdown, block by block: finished blocks are rendered once (memoised by content and
// keyed by content hash), so only the last, still-growing block is re-parsed per frame.
import { memo } from 'preact/compat';
import { useRef } from 'preact/hooks';
import { splitBlocksIncremental, type BlockSplit } from '../markdown/blocks';
import { renderFinishedBlock, renderMarkdown } from '../markdown/render';
import { copyCodeFromClick } from './copy-code';

// The HTML comes from markdown-it with `html: false` and checked links (markdown/render.ts): inert.
const FinishedBlock = memo(({ text }: { text: string }) => <div class="md-block" dangerouslySetInnerHTML={{ __html: renderFinishedBlock(text) }} />);
const LiveBlock = ({ text }: { text: string }) => <div class="md-block" dangerouslySetInnerHTML={{ __html: renderMarkdown(text, { highlight: false }) }} />;

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
