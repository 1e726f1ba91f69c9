// Pure: a file given to POST /api/import as the conversations the chat service imports. Our own
// exports (one conversation, or everything) are checked against their schemas; ChatGPT's
// conversations.json is checked by its converter. Anything else, or the first problem found, is a
// 400 that says what was expected and where it went wrong.
import { MessageRole, MessageStatus, type ImportConversationsRequest } from '@freechat/proto/freechat/chat/v1/chat';
import { Compile } from 'typebox/compile';
import { ChatGptFormatError, fromChatGptExport, looksLikeChatGptExport } from './chatgpt-import.js';
import { ApiError } from './errors.js';
import { timestampFromMs } from './mapping.js';
import {
  CONVERSATION_FORMAT,
  ConversationDocumentSchema,
  DOCUMENT_VERSION,
  EXPORT_FORMAT,
  ExportDocumentSchema,
  type ConversationDocumentJson,
} from './schemas.js';

const conversationDocument = Compile(ConversationDocumentSchema);
const exportDocument = Compile(ExportDocumentSchema);

const EXPECTED = `expected a Free Chat export (format "${EXPORT_FORMAT}" or "${CONVERSATION_FORMAT}") or ChatGPT's conversations.json`;

export function parseImport(body: unknown): ImportConversationsRequest[] {
  if (looksLikeChatGptExport(body)) {
    try {
      return fromChatGptExport(body);
    } catch (error) {
      if (error instanceof ChatGptFormatError) throw new ApiError('invalid_request', `not a valid ChatGPT export: ${error.message}`);
      throw error;
    }
  }
  const format = typeof body === 'object' && body !== null ? (body as { format?: unknown }).format : undefined;
  if (format !== EXPORT_FORMAT && format !== CONVERSATION_FORMAT) throw new ApiError('invalid_request', `unknown file format: ${EXPECTED}`);
  const version = (body as { version?: unknown }).version;
  if (version !== DOCUMENT_VERSION) throw new ApiError('invalid_request', `${format} version ${String(version)} is not supported (this server reads version ${DOCUMENT_VERSION})`);
  if (format === EXPORT_FORMAT) {
    if (!exportDocument.Check(body)) throw new ApiError('invalid_request', `not a valid ${format} file: ${firstProblem(exportDocument.Errors(body))}`);
    return body.conversations.map(fromConversationDocument);
  }
  if (!conversationDocument.Check(body)) throw new ApiError('invalid_request', `not a valid ${format} file: ${firstProblem(conversationDocument.Errors(body))}`);
  return [fromConversationDocument(body)];
}

/** The most telling schema error: its place in the file (a JSON pointer) and what is wrong there. */
function firstProblem(errors: Iterable<{ keyword: string; instancePath: string; message: string; params: unknown }>): string {
  const all = [...errors];
  // `additionalProperties: false` also reports each extra property as "schema is false": name the property instead.
  const extra = all.find((e) => e.keyword === 'boolean');
  if (extra) return `${extra.instancePath}: unknown property`;
  const first = all[0];
  return first ? `${first.instancePath || '/'}: ${first.message}` : 'does not match the format';
}

const ROLES = { user: MessageRole.MESSAGE_ROLE_USER, assistant: MessageRole.MESSAGE_ROLE_ASSISTANT } as const;
// An answer still being written when it was exported is imported as stopped: nothing will finish it.
const STATUSES = {
  complete: MessageStatus.MESSAGE_STATUS_COMPLETE,
  streaming: MessageStatus.MESSAGE_STATUS_STOPPED,
  stopped: MessageStatus.MESSAGE_STATUS_STOPPED,
  error: MessageStatus.MESSAGE_STATUS_ERROR,
} as const;

const timeOf = (iso: string | null) => (iso === null ? undefined : timestampFromMs(Date.parse(iso)));

export function fromConversationDocument(document: ConversationDocumentJson): ImportConversationsRequest {
  return {
    title: document.title,
    createdAt: timeOf(document.createdAt),
    currentLeafRef: document.currentLeafId ?? '',
    messages: document.messages.map((m) => ({
      ref: m.id,
      parentRef: m.parentId ?? '',
      role: ROLES[m.role],
      content: m.content,
      reasoning: m.thinking,
      status: STATUSES[m.status],
      createdAt: timeOf(m.createdAt),
    })),
  };
}
