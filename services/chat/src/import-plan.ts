// Pure: conversations written elsewhere (an export of ours, ChatGPT's, as the gateway translated
// them) checked and turned into the rows to insert. Every id is new: the ones a file carries only
// link its messages to each other and are never stored. The first problem is an InvalidArgumentError
// naming where it is, so the person can find it in the file.
import { InvalidArgumentError } from './errors.js';
import type { MessageRole, MessageStatus } from './messages-repository.js';
import { parentsFirst } from './tree-order.js';
import { charCount, requireStorableText } from './validation.js';

export const MAX_IMPORT_CONVERSATIONS = 1_000;
export const MAX_IMPORT_MESSAGES = 20_000;
/** Longer than a message one can send (32 000): pasted documents in other apps' histories are kept. */
export const MAX_IMPORT_CONTENT_CHARS = 200_000;
export const IMPORTED_TITLE = 'Imported chat';
const MAX_TITLE_CHARS = 200;

export interface ImportedMessageInput {
  readonly ref: string;
  /** Empty: a first message. */
  readonly parentRef: string;
  readonly role: MessageRole | 'unspecified';
  readonly content: string;
  readonly reasoning: string;
  readonly status: MessageStatus | 'unspecified';
  readonly createdAt: Date | undefined;
}

export interface ImportedConversationInput {
  readonly title: string;
  readonly createdAt: Date | undefined;
  /** In any order; each parent must be among them. */
  readonly messages: readonly ImportedMessageInput[];
  /** Empty: the last message. */
  readonly currentLeafRef: string;
}

export interface PlannedMessage {
  readonly id: string;
  readonly parentId: string | null;
  readonly role: MessageRole;
  readonly content: string;
  readonly reasoning: string;
  readonly status: Exclude<MessageStatus, 'streaming'>;
  readonly createdAt: Date;
}

export interface PlannedSession {
  readonly id: string;
  readonly title: string;
  readonly createdAt: Date;
  /** The newest message's time (or createdAt): where the session sorts among the others. */
  readonly updatedAt: Date;
  readonly currentLeafId: string | null;
  /** Parents before their children: inserted in this order, every parent exists when its child comes. */
  readonly messages: readonly PlannedMessage[];
}

/** Trimmed, on one line's worth of characters; empty becomes "Imported chat". */
export function importedTitle(title: string): string {
  const trimmed = [...title.trim()].slice(0, MAX_TITLE_CHARS).join('').trim();
  return trimmed === '' ? IMPORTED_TITLE : trimmed;
}

/**
 * The sessions to create. `newId` makes every id (randomUUID in the service); `now` stands in for
 * missing times. A message's time is never before its parent's, so siblings and branches keep the
 * order they had in the file.
 */
export function planImport(conversations: readonly ImportedConversationInput[], newId: () => string, now: Date): PlannedSession[] {
  if (conversations.length === 0) throw new InvalidArgumentError('conversations', 'the file holds no conversation');
  if (conversations.length > MAX_IMPORT_CONVERSATIONS)
    throw new InvalidArgumentError('conversations', `at most ${MAX_IMPORT_CONVERSATIONS} conversations per import (this file has ${conversations.length})`);
  const total = conversations.reduce((n, c) => n + c.messages.length, 0);
  if (total > MAX_IMPORT_MESSAGES)
    throw new InvalidArgumentError('messages', `at most ${MAX_IMPORT_MESSAGES} messages per import (this file has ${total})`);
  return conversations.map((conversation, index) => planConversation(conversation, `conversations[${index}]`, newId, now));
}

function planConversation(conversation: ImportedConversationInput, where: string, newId: () => string, now: Date): PlannedSession {
  requireStorableText(`${where}.title`, conversation.title);
  const createdAt = validDate(conversation.createdAt) ?? now;
  const byRef = new Map<string, PlannedMessage>();
  const messages: PlannedMessage[] = [];
  for (const { message, i } of linkedInOrder(conversation.messages, where)) {
    const at = `${where}.messages[${i}]`;
    const parent = message.parentRef === '' ? undefined : byRef.get(message.parentRef);
    if (message.role === 'unspecified') throw new InvalidArgumentError(`${at}.role`, 'must be user or assistant');
    if (message.status === 'streaming') throw new InvalidArgumentError(`${at}.status`, 'must be complete, stopped or error');
    for (const field of ['content', 'reasoning'] as const) {
      requireStorableText(`${at}.${field}`, message[field]);
      if (charCount(message[field]) > MAX_IMPORT_CONTENT_CHARS)
        throw new InvalidArgumentError(`${at}.${field}`, `must be at most ${MAX_IMPORT_CONTENT_CHARS} characters`);
    }
    const floor = parent?.createdAt ?? createdAt;
    const given = validDate(message.createdAt);
    const planned: PlannedMessage = {
      id: newId(),
      parentId: parent?.id ?? null,
      role: message.role,
      content: message.content,
      reasoning: message.reasoning,
      status: message.status === 'unspecified' ? 'complete' : message.status,
      createdAt: given && given >= floor ? given : floor,
    };
    byRef.set(message.ref, planned);
    messages.push(planned);
  }
  const leaf = conversation.currentLeafRef === '' ? messages.at(-1) : byRef.get(conversation.currentLeafRef);
  if (conversation.currentLeafRef !== '' && !leaf)
    throw new InvalidArgumentError(`${where}.current_leaf_ref`, `"${conversation.currentLeafRef}" is not a message of the conversation`);
  const newest = messages.reduce((latest, m) => (m.createdAt > latest ? m.createdAt : latest), createdAt);
  return { id: newId(), title: importedTitle(conversation.title), createdAt, updatedAt: newest, currentLeafId: leaf?.id ?? null, messages };
}

/**
 * The messages with their index in the file, parents before their children (a hand-edited file may
 * list them in any order). Refs must be unique, parents must exist, and the links must form a tree.
 */
function linkedInOrder(messages: readonly ImportedMessageInput[], where: string): { message: ImportedMessageInput; i: number }[] {
  const refs = new Set<string>();
  messages.forEach((message, i) => {
    if (message.ref === '') throw new InvalidArgumentError(`${where}.messages[${i}].ref`, 'must not be empty');
    if (refs.has(message.ref)) throw new InvalidArgumentError(`${where}.messages[${i}].ref`, `"${message.ref}" is used by an earlier message`);
    refs.add(message.ref);
  });
  messages.forEach((message, i) => {
    if (message.parentRef !== '' && !refs.has(message.parentRef))
      throw new InvalidArgumentError(`${where}.messages[${i}].parent_ref`, `"${message.parentRef}" is not a message of the conversation`);
  });
  const ordered = parentsFirst(messages.map((message, i) => ({ id: message.ref, parentId: message.parentRef === '' ? null : message.parentRef, message, i })));
  if (ordered.length < messages.length) throw new InvalidArgumentError(`${where}.messages`, 'the parent links form a cycle');
  return ordered;
}

function validDate(date: Date | undefined): Date | undefined {
  return date && Number.isFinite(date.getTime()) ? date : undefined;
}
