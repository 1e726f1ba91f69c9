// Pure: a conversation (the chat service's whole tree) as the documents a person downloads: JSON
// with every branch, which POST /api/import reads back, and Markdown of the branch it shows, to read.
import type { ConversationTree } from '@freechat/proto/freechat/chat/v1/chat';
import { toMessageJson, toSessionJson } from './mapping.js';
import {
  CONVERSATION_FORMAT,
  DOCUMENT_VERSION,
  EXPORT_FORMAT,
  type ConversationDocumentJson,
  type ExportDocumentJson,
  type ExportedMessageJson,
} from './schemas.js';

export function toConversationDocument(tree: ConversationTree, exportedAt: Date): ConversationDocumentJson {
  const session = toSessionJson(tree.session ?? { id: '', title: '', currentLeafId: '', createdAt: undefined, updatedAt: undefined, pinned: false, tags: [], systemPrompt: '', model: '', answering: false });
  return {
    format: CONVERSATION_FORMAT,
    version: DOCUMENT_VERSION,
    exportedAt: exportedAt.toISOString(),
    title: session.title,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    currentLeafId: session.currentLeafId,
    messages: tree.messages.flatMap((message): ExportedMessageJson[] => {
      const m = toMessageJson(message);
      if (m.role === 'unspecified' || m.status === 'unspecified') return [];
      return [
        {
          id: m.id,
          parentId: m.parentId,
          role: m.role,
          content: m.content,
          thinking: m.reasoning,
          status: m.status,
          finishReason: m.finishReason,
          usage: m.usage,
          timings: m.timings,
          createdAt: m.createdAt,
        },
      ];
    }),
  };
}

export function toExportDocument(username: string, trees: readonly ConversationTree[], exportedAt: Date): ExportDocumentJson {
  return {
    format: EXPORT_FORMAT,
    version: DOCUMENT_VERSION,
    exportedAt: exportedAt.toISOString(),
    user: { username },
    conversations: trees.map((tree) => toConversationDocument(tree, exportedAt)),
  };
}

/** The branch the conversation shows: from its first message down to the current leaf. */
export function currentBranch(document: Pick<ConversationDocumentJson, 'messages' | 'currentLeafId'>): ExportedMessageJson[] {
  const byId = new Map(document.messages.map((m) => [m.id, m]));
  const branch: ExportedMessageJson[] = [];
  const seen = new Set<string>();
  for (let m = document.currentLeafId ? byId.get(document.currentLeafId) : undefined; m && !seen.has(m.id); m = m.parentId ? byId.get(m.parentId) : undefined) {
    seen.add(m.id);
    branch.push(m);
  }
  return branch.reverse();
}

const ENDINGS: Readonly<Record<ExportedMessageJson['status'], string>> = {
  complete: '',
  streaming: '_(still being written when exported)_',
  stopped: '_(stopped)_',
  error: '_(the answer failed)_',
};

/** Every line quoted, so the reasoning reads apart from the answer without any HTML. */
const quoted = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');

/** The current branch as a document to read: the title, then each turn under **You** / **Assistant**. */
export function toConversationMarkdown(document: ConversationDocumentJson): string {
  const parts = [`# ${document.title.replace(/\s+/g, ' ').trim() || 'Conversation'}`];
  const when = document.createdAt ? `Started ${document.createdAt.slice(0, 10)} · ` : '';
  parts.push(`_${when}exported from Free Chat ${document.exportedAt.slice(0, 10)}_`);
  for (const message of currentBranch(document)) {
    parts.push('---', message.role === 'user' ? '**You**' : '**Assistant**');
    if (message.thinking.trim() !== '') parts.push(`> **Thinking**\n>\n${quoted(message.thinking)}`);
    if (message.content.trim() !== '') parts.push(message.content.trimEnd());
    if (ENDINGS[message.status]) parts.push(ENDINGS[message.status]);
  }
  return `${parts.join('\n\n')}\n`;
}

/**
 * `attachment; filename="<title>.<ext>"`: an ASCII name any browser saves as is (letters, digits,
 * dashes), plus the title itself, UTF-8, for those that read `filename*` (RFC 6266).
 */
export function attachmentDisposition(title: string, extension: string): string {
  const ascii =
    title
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80)
      .replace(/-+$/, '') || 'conversation';
  const utf8 = encodeURIComponent(`${title.replace(/[\\/:*?"<>|\u0000-\u001f\s]+/g, ' ').trim().slice(0, 120) || 'conversation'}.${extension}`).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}.${extension}"; filename*=UTF-8''${utf8}`;
}
