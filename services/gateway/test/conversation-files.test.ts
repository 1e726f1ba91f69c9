// Pure conversions of whole conversations: our export documents (JSON with every branch, Markdown of
// the branch shown), reading them back for import, and ChatGPT's conversations.json with a branch.
import { readFileSync } from 'node:fs';
import { FinishReason, MessageRole, MessageStatus, type ConversationTree, type Message } from '@freechat/proto/freechat/chat/v1/chat';
import { describe, expect, it } from 'vitest';
import { fromChatGptExport } from '../src/chatgpt-import.js';
import { attachmentDisposition, currentBranch, toConversationDocument, toConversationMarkdown, toExportDocument } from '../src/conversation-export.js';
import { parseImport } from '../src/conversation-import.js';
import { ApiError } from '../src/errors.js';

const chatGptFile: unknown = JSON.parse(readFileSync(new URL('./fixtures/chatgpt-conversations.json', import.meta.url), 'utf8'));
const at = (s: number) => ({ seconds: 1_700_000_000 + s, nanos: 0 });

function message(id: string, parentId: string, role: 'user' | 'assistant', content: string, extra: Partial<Message> = {}): Message {
  return {
    id,
    sessionId: 's',
    parentId,
    siblingIds: [id],
    role: role === 'user' ? MessageRole.MESSAGE_ROLE_USER : MessageRole.MESSAGE_ROLE_ASSISTANT,
    content,
    reasoning: '',
    status: MessageStatus.MESSAGE_STATUS_COMPLETE,
    finishReason: role === 'user' ? FinishReason.FINISH_REASON_UNSPECIFIED : FinishReason.FINISH_REASON_STOP,
    usage: undefined,
    createdAt: at(Number(id.replace(/\D/g, ''))),
    runId: '',
    timings: undefined,
    ...extra,
  };
}

// A question answered twice (regenerated): the second answer is the one shown.
const tree: ConversationTree = {
  session: { id: 's', title: 'Rust: borrow checker', createdAt: at(0), updatedAt: at(9), currentLeafId: 'a3', pinned: false, tags: [], systemPrompt: '', model: '', answering: false },
  messages: [
    message('u1', '', 'user', 'Why does this not compile?\n\n```rust\nlet r = &mut v;\n```'),
    message('a2', 'u1', 'assistant', 'First answer', { status: MessageStatus.MESSAGE_STATUS_STOPPED }),
    message('a3', 'u1', 'assistant', 'Because `v` is borrowed twice.', { reasoning: 'The user holds two borrows.\n\nExplain simply.', timings: { durationMs: 900, timeToFirstTokenMs: 120 }, usage: { promptTokens: 10, completionTokens: 7 } }),
  ],
};
const exportedAt = new Date('2026-12-01T10:00:00.000Z');

describe('conversation export', () => {
  it('JSON keeps every branch with parents, roles, thinking, statuses and the current leaf', () => {
    const document = toConversationDocument(tree, exportedAt);
    expect(document).toMatchObject({ format: 'freechat.conversation', version: 1, title: 'Rust: borrow checker', currentLeafId: 'a3', exportedAt: '2026-12-01T10:00:00.000Z' });
    expect(document.messages.map((m) => [m.id, m.parentId, m.role, m.status])).toEqual([
      ['u1', null, 'user', 'complete'],
      ['a2', 'u1', 'assistant', 'stopped'],
      ['a3', 'u1', 'assistant', 'complete'],
    ]);
    expect(document.messages[2]).toMatchObject({ thinking: 'The user holds two borrows.\n\nExplain simply.', timings: { durationMs: 900, timeToFirstTokenMs: 120 }, usage: { promptTokens: 10, completionTokens: 7 } });
    expect(currentBranch(document).map((m) => m.id)).toEqual(['u1', 'a3']);
  });

  it('Markdown is the branch shown: title, You / Assistant, the thinking quoted, no HTML, the other answer left out', () => {
    const markdown = toConversationMarkdown(toConversationDocument(tree, exportedAt));
    expect(markdown).toBe(
      [
        '# Rust: borrow checker',
        '_Started 2023-11-14 · exported from Free Chat 2026-12-01_',
        '---',
        '**You**',
        'Why does this not compile?\n\n```rust\nlet r = &mut v;\n```',
        '---',
        '**Assistant**',
        '> **Thinking**\n>\n> The user holds two borrows.\n>\n> Explain simply.',
        'Because `v` is borrowed twice.',
      ].join('\n\n') + '\n',
    );
    expect(markdown).not.toContain('First answer');
    expect(markdown).not.toMatch(/<[a-z]/);
  });

  it('names the download after the title, ASCII and UTF-8', () => {
    expect(attachmentDisposition('Rust: borrow checker', 'md')).toBe(`attachment; filename="Rust-borrow-checker.md"; filename*=UTF-8''Rust%20borrow%20checker.md`);
    expect(attachmentDisposition('日本語 "x"', 'json')).toMatch(/^attachment; filename="x\.json"; filename\*=UTF-8''%E6%97%A5/);
    expect(attachmentDisposition('???', 'json')).toMatch(/^attachment; filename="conversation\.json"/);
  });

  it('an export of everything holds each conversation like a single export', () => {
    const all = toExportDocument('ada', [tree, tree], exportedAt);
    expect(all).toMatchObject({ format: 'freechat.export', version: 1, user: { username: 'ada' } });
    expect(all.conversations).toEqual([toConversationDocument(tree, exportedAt), toConversationDocument(tree, exportedAt)]);
  });
});

describe('reading files to import', () => {
  it('our export reads back as the same tree: refs and parents are the exported ids, the leaf is kept', () => {
    const file = JSON.parse(JSON.stringify(toExportDocument('ada', [tree], exportedAt)));
    const [conversation] = parseImport(file);
    expect(conversation!.title).toBe('Rust: borrow checker');
    expect(conversation!.currentLeafRef).toBe('a3');
    expect(conversation!.messages.map((m) => [m.ref, m.parentRef, m.role, m.status])).toEqual([
      ['u1', '', MessageRole.MESSAGE_ROLE_USER, MessageStatus.MESSAGE_STATUS_COMPLETE],
      ['a2', 'u1', MessageRole.MESSAGE_ROLE_ASSISTANT, MessageStatus.MESSAGE_STATUS_STOPPED],
      ['a3', 'u1', MessageRole.MESSAGE_ROLE_ASSISTANT, MessageStatus.MESSAGE_STATUS_COMPLETE],
    ]);
    expect(conversation!.messages[2]!.reasoning).toBe('The user holds two borrows.\n\nExplain simply.');
    expect(conversation!.messages[0]!.createdAt).toEqual(at(1));
    // A single conversation's file reads the same.
    expect(parseImport(JSON.parse(JSON.stringify(toConversationDocument(tree, exportedAt))))).toEqual([conversation]);
  });

  it('refuses other files with a message that says what was expected, or where the first problem is', () => {
    const problem = (body: unknown) => {
      try {
        parseImport(body);
      } catch (error) {
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toBe(400);
        return (error as ApiError).message;
      }
      throw new Error('accepted');
    };
    expect(problem({ hello: 'world' })).toMatch(/^unknown file format: expected a Free Chat export/);
    expect(problem({ format: 'freechat.export', version: 2 })).toBe('freechat.export version 2 is not supported (this server reads version 1)');
    const document = JSON.parse(JSON.stringify(toConversationDocument(tree, exportedAt)));
    document.messages[1].role = 'system';
    expect(problem(document)).toMatch(/^not a valid freechat\.conversation file: \/messages\/1\/role: /);
    document.messages[1].role = 'assistant';
    document.messages[1].extra = 1;
    expect(problem(document)).toBe('not a valid freechat.conversation file: /messages/1/extra: unknown property');
    expect(problem([{ mapping: { x: { parent: 5 } } }])).toBe('not a valid ChatGPT export: [0].mapping.x.parent: must be a node id or null');
  });
});

describe('ChatGPT conversations.json', () => {
  const [sourdough, untitled] = fromChatGptExport(chatGptFile);

  it('keeps the edited question as a branch, skips system and tool nodes, and shows current_node', () => {
    const byRef = new Map(sourdough!.messages.map((m) => [m.ref, m]));
    expect(sourdough!.title).toBe('Sourdough starter help');
    expect(sourdough!.messages.map((m) => [m.ref, m.parentRef])).toEqual([
      ['u-1', ''],
      ['a-1', 'u-1'],
      ['u-2', 'a-1'],
      ['a-2', 'u-2'],
      ['u-2b', 'a-1'],
      // Its parent in the file is the tool node: it moves up to the nearest kept one.
      ['a-2b', 'u-2b'],
    ]);
    expect(byRef.get('u-1')!.role).toBe(MessageRole.MESSAGE_ROLE_USER);
    expect(byRef.get('a-1')!.role).toBe(MessageRole.MESSAGE_ROLE_ASSISTANT);
    // The image part is not text: only the text is kept.
    expect(byRef.get('u-2b')!.content).toBe('What flour is best for a **rye** starter?');
    expect(byRef.get('a-2')!.createdAt).toEqual({ seconds: 1714550504, nanos: 0 });
    expect(sourdough!.createdAt).toEqual({ seconds: 1714550400, nanos: 123_000_000 });
    expect(sourdough!.currentLeafRef).toBe('a-2b');
  });

  it('a conversation without a title, thoughts of a reasoning model, and a current node that is not kept', () => {
    expect(untitled!.title).toBe('');
    expect(untitled!.messages.map((m) => m.content)).toEqual(['Say hi', 'Hi!']);
    // A reasoning model's thoughts node is the answer's thinking; its recap node is left out.
    expect(untitled!.messages.map((m) => [m.ref, m.parentRef, m.reasoning])).toEqual([
      ['q', '', ''],
      ['ans', 'q', 'Greeting\n\nA short, friendly greeting is enough.'],
    ]);
    const pointingAtTool = fromChatGptExport([{ ...(chatGptFile as object[])[0], current_node: 't-1' }]);
    expect(pointingAtTool[0]!.currentLeafRef).toBe('u-2b');
  });

  it('an empty export is no conversation; a cycle in the file does not loop', () => {
    expect(fromChatGptExport([])).toEqual([]);
    const cyclic = { title: 'c', mapping: { a: { id: 'a', parent: 'b', children: ['b'], message: null }, b: { id: 'b', parent: 'a', children: ['a'], message: null } } };
    expect(fromChatGptExport([cyclic])[0]!.messages).toEqual([]);
  });
});
