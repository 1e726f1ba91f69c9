// Tokenizer and chat template through @huggingface/transformers, from local files only.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatTurn } from './types.js';

/** Where current transformers/optimum exports keep the template (older ones: tokenizer_config.json). */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

/** The template in chat_template.jinja (which wins, as in transformers), or undefined when there is no such file. */
async function templateFile(modelDir: string): Promise<string | undefined> {
  try {
    return await readFile(path.join(modelDir, CHAT_TEMPLATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface ChatTokenizer {
  /**
   * Renders the model's chat template (with `enable_thinking`) and tokenizes it; `answerPrefix` is
   * text the answer already starts with (see continuation.ts), appended after the generation prompt.
   */
  encodeChat(messages: readonly ChatTurn[], options: { enableThinking?: boolean; answerPrefix?: string }): number[];
  /** Renders the template without tokenizing, for tests and logs. */
  renderChat(messages: readonly ChatTurn[], options: { enableThinking?: boolean }): string;
  decode(ids: readonly number[]): string;
  /** The id of a token spelled exactly so in the vocabulary, if it has one. */
  tokenId(token: string): number | undefined;
}

export async function loadChatTokenizer(modelDir: string): Promise<ChatTokenizer> {
  // A model directory is a path, never a hub id: never let the library reach for the network.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  const tokenizer: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
  // The tokenizer reads only tokenizer_config.json's template: without one, every request would fail.
  const chatTemplate = await templateFile(modelDir);
  if (chatTemplate === undefined && !tokenizer.chat_template) {
    throw new Error(`${modelDir} has no chat template: neither ${CHAT_TEMPLATE_FILE} nor a chat_template in tokenizer_config.json`);
  }
  const templateArgs = (messages: readonly ChatTurn[], enableThinking: boolean | undefined) => ({
    add_generation_prompt: true,
    ...(chatTemplate !== undefined && { chat_template: chatTemplate }),
    // The Qwen3 template tests `enable_thinking is defined and enable_thinking is false`: leave it undefined for the default.
    ...(enableThinking === undefined ? {} : { enable_thinking: enableThinking }),
    conversation: messages.map((m) => ({ role: m.role, content: m.content })),
  });
  return {
    encodeChat(messages, { enableThinking, answerPrefix }) {
      const { conversation, ...kwargs } = templateArgs(messages, enableThinking);
      if (answerPrefix !== undefined) {
        // What apply_chat_template does when it tokenizes: render, then encode without added specials.
        const prompt = tokenizer.apply_chat_template(conversation, { ...kwargs, tokenize: false }) as unknown as string;
        return tokenizer.encode(prompt + answerPrefix, { add_special_tokens: false });
      }
      return tokenizer.apply_chat_template(conversation, {
        ...kwargs,
        tokenize: true,
        return_tensor: false,
        return_dict: false,
      }) as unknown as number[];
    },
    renderChat(messages, { enableThinking }) {
      const { conversation, ...kwargs } = templateArgs(messages, enableThinking);
      return tokenizer.apply_chat_template(conversation, { ...kwargs, tokenize: false }) as unknown as string;
    },
    decode(ids) {
      return tokenizer.decode(ids as number[], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    },
    tokenId(token) {
      const ids = tokenizer.encode(token, { add_special_tokens: false });
      return ids.length === 1 && tokenizer.decode(ids) === token ? ids[0] : undefined;
    },
  };
}
