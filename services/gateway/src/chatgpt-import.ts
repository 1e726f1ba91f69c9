// Pure: ChatGPT's data export (`conversations.json`) as conversations to import. Its shape is loose
// and undocumented, so it is checked structurally here and the first problem is reported with where
// it is (`[3].mapping.abc.parent`). Branches are kept: every user or assistant node with text becomes
// a message under its nearest kept ancestor (system, tool and empty nodes are left out and their
// children move up to it), and the conversation shows `current_node`'s branch. Reasoning models'
// "thoughts" nodes become the thinking of the answer that follows them.
import { MessageRole, MessageStatus, type ImportConversationsRequest, type ImportedMessage } from '@freechat/proto/freechat/chat/v1/chat';
import type { Timestamp } from '@freechat/proto/google/protobuf/timestamp';
import { timestampFromMs } from './mapping.js';

export class ChatGptFormatError extends Error {
  override readonly name = 'ChatGptFormatError';
}

interface Node {
  readonly id: string;
  readonly parent: string | null;
  readonly children: readonly string[];
  /** Undefined when the node is not kept. */
  readonly message: Omit<ImportedMessage, 'ref' | 'parentRef'> | undefined;
  /** The text of a reasoning model's thoughts node: the next answer's thinking. */
  readonly thoughts: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a parsed body looks like ChatGPT's export (an array of conversations with a mapping) rather than something else. */
export function looksLikeChatGptExport(body: unknown): body is unknown[] {
  return Array.isArray(body) && (body.length === 0 || (isObject(body[0]) && 'mapping' in body[0]));
}

export function fromChatGptExport(body: unknown): ImportConversationsRequest[] {
  if (!Array.isArray(body)) throw new ChatGptFormatError('a ChatGPT export is an array of conversations');
  return body.map((conversation, index) => fromConversation(conversation, `[${index}]`));
}

function fromConversation(value: unknown, where: string): ImportConversationsRequest {
  if (!isObject(value)) throw new ChatGptFormatError(`${where}: a conversation must be an object`);
  const { title, create_time: createTime, mapping, current_node: currentNode } = value;
  if (title !== undefined && title !== null && typeof title !== 'string') throw new ChatGptFormatError(`${where}.title: must be a string`);
  if (!isObject(mapping)) throw new ChatGptFormatError(`${where}.mapping: must be an object of nodes`);
  if (currentNode !== undefined && currentNode !== null && typeof currentNode !== 'string')
    throw new ChatGptFormatError(`${where}.current_node: must be a node id`);
  const nodes = new Map<string, Node>();
  for (const [key, node] of Object.entries(mapping)) nodes.set(key, readNode(node, `${where}.mapping.${key}`, key));

  // Depth first from the roots (no parent, or one the file lacks), children in the file's order:
  // parents come before children, and each message's parent is its nearest kept ancestor.
  const messages: ImportedMessage[] = [];
  const keptAncestor = new Map<string, string>();
  const visited = new Set<string>();
  const roots = [...nodes.values()].filter((n) => n.parent === null || !nodes.has(n.parent));
  // `thoughts`: thinking seen since the last kept message, waiting for the answer it belongs to.
  const stack: { id: string; keptParent: string; thoughts: string }[] = roots.reverse().map((n) => ({ id: n.id, keptParent: '', thoughts: '' }));
  while (stack.length > 0) {
    const { id, keptParent, thoughts } = stack.pop()!;
    const node = nodes.get(id);
    if (!node || visited.has(id)) continue;
    visited.add(id);
    const pending = [thoughts, node.thoughts].filter((t) => t !== '').join('\n\n');
    if (node.message) {
      const reasoning = node.message.role === MessageRole.MESSAGE_ROLE_ASSISTANT ? pending : '';
      messages.push({ ...node.message, reasoning, ref: id, parentRef: keptParent });
    }
    const kept = node.message ? id : keptParent;
    keptAncestor.set(id, kept);
    for (const child of [...node.children].reverse()) stack.push({ id: child, keptParent: kept, thoughts: node.message ? '' : pending });
  }
  return {
    title: typeof title === 'string' ? title : '',
    createdAt: timestamp(createTime, `${where}.create_time`),
    messages,
    currentLeafRef: typeof currentNode === 'string' ? (keptAncestor.get(currentNode) ?? '') : '',
  };
}

function readNode(value: unknown, where: string, key: string): Node {
  if (!isObject(value)) throw new ChatGptFormatError(`${where}: a node must be an object`);
  const { parent, children, message } = value;
  if (parent !== undefined && parent !== null && typeof parent !== 'string') throw new ChatGptFormatError(`${where}.parent: must be a node id or null`);
  if (children !== undefined && !(Array.isArray(children) && children.every((c) => typeof c === 'string')))
    throw new ChatGptFormatError(`${where}.children: must be an array of node ids`);
  return {
    id: key,
    parent: typeof parent === 'string' ? parent : null,
    children: (children as string[] | undefined) ?? [],
    message: readMessage(message, `${where}.message`),
    thoughts: readThoughts(message),
  };
}

const ROLES: Readonly<Record<string, MessageRole>> = { user: MessageRole.MESSAGE_ROLE_USER, assistant: MessageRole.MESSAGE_ROLE_ASSISTANT };

/** The message a node carries, or undefined for one not kept (none, system, tool, no text). */
function readMessage(value: unknown, where: string): Node['message'] {
  if (value === null || value === undefined) return undefined;
  if (!isObject(value)) throw new ChatGptFormatError(`${where}: must be an object or null`);
  const { author, content, create_time: createTime } = value;
  if (!isObject(author) || typeof author['role'] !== 'string') throw new ChatGptFormatError(`${where}.author.role: must be a string`);
  const role = ROLES[author['role']];
  if (role === undefined) return undefined;
  if (!isObject(content)) throw new ChatGptFormatError(`${where}.content: must be an object`);
  const parts = content['parts'];
  if (parts !== undefined && !Array.isArray(parts)) throw new ChatGptFormatError(`${where}.content.parts: must be an array`);
  // Images, files and other non-text parts are objects: only the text is imported.
  const text = (parts ?? []).filter((p): p is string => typeof p === 'string').join('\n\n');
  if (text.trim() === '') return undefined;
  return { role, content: text, reasoning: '', status: MessageStatus.MESSAGE_STATUS_COMPLETE, createdAt: timestamp(createTime, `${where}.create_time`) };
}

/** A reasoning model's `thoughts` content (`{thoughts: [{summary, content}]}`), as text; '' for any other node. */
function readThoughts(message: unknown): string {
  if (!isObject(message) || !isObject(message['content']) || message['content']['content_type'] !== 'thoughts') return '';
  const thoughts = message['content']['thoughts'];
  if (!Array.isArray(thoughts)) return '';
  return thoughts
    .flatMap((t: unknown) => (isObject(t) ? [[t['summary'], t['content']].filter((x): x is string => typeof x === 'string' && x.trim() !== '').join('\n\n')] : []))
    .filter((t) => t !== '')
    .join('\n\n');
}

/** ChatGPT's times are seconds since the epoch, with a fraction; absent or null is allowed. */
function timestamp(value: unknown, where: string): Timestamp | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ChatGptFormatError(`${where}: must be seconds since 1970`);
  return timestampFromMs(value * 1000);
}
