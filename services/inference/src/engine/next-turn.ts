// The ids a conversation's next prompt will start with, known as soon as an answer ends. A chat
// template may render an answer differently once it is history (Qwen3's drops the think block that
// opened it), so the K/V computed while answering stop matching a few tokens into the answer, and
// the next turn would prefill the whole answer again. Rendering the conversation with the answer
// and three different next messages gives, as their common prefix, exactly what every next turn
// shares, whatever the template does: the engine prefills that while the person reads and types.
import type { ChatTokenizer } from './chat-tokenizer.js';
import { commonPrefix } from './slot-table.js';
import type { ChatTurn } from './types.js';

export function nextTurnPrefix(
  tokenizer: Pick<ChatTokenizer, 'encodeChat'>,
  messages: readonly ChatTurn[],
  answer: string,
  options: { enableThinking?: boolean },
): number[] {
  const render = (next: string) => tokenizer.encodeChat([...messages, { role: 'assistant', content: answer }, { role: 'user', content: next }], options);
  // Next messages of different kinds of first character: none can merge into the tokens before it
  // in a way all three miss.
  const [first, ...others] = ['A', '1', ' ('].map(render);
  const shared = Math.min(...others.map((ids) => commonPrefix(first!, ids)));
  return first!.slice(0, shared);
}
