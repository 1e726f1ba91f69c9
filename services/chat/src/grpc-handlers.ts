// ChatService over the repositories and the run manager: validation first, ownership in every query,
// errors mapped to status codes with internal causes kept in the log.
import { randomUUID } from 'node:crypto';
import { Metadata, type handleClientStreamingCall, type handleUnaryCall, type ServerReadableStream, type ServerWritableStream } from '@grpc/grpc-js';
import type { ChatServiceServer, ConversationTree, ImportConversationsRequest, ImportConversationsResponse, RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import { ATTACH_LIVE, ATTACH_STATE_KEY, drained, toServiceError, UnauthenticatedCallerError, type CallerVerifier, type Logger } from '@freechat/shared';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from './errors.js';
import type { ConversationsRepository } from './conversations-repository.js';
import { fromImportRequest, toMessage, toSearchHit, toSession, toSharedConversation, toShareLink, toStatus } from './grpc-mapping.js';
import { MAX_IMPORT_CONVERSATIONS, MAX_IMPORT_MESSAGES, planImport, type ImportedConversationInput } from './import-plan.js';
import { newShareToken, SHARE_TOKEN_PATTERN, shareSnapshot } from './share-snapshot.js';
import type { SharesRepository } from './shares-repository.js';
import type { SessionRow } from './sessions-repository.js';
import type { MessagesRepository } from './messages-repository.js';
import type { ModelLimits } from './model-limits.js';
import type { RunManager } from './run-manager.js';
import { buildTsQuery, searchLimit, validateQuery } from './search-query.js';
import type { SearchRepository } from './search-repository.js';
import type { SessionsRepository } from './sessions-repository.js';
import {
  isUuid,
  messagePageLimit,
  normaliseTag,
  normaliseTags,
  pageSize,
  requireUuid,
  validateContent,
  validateModel,
  validateParams,
  validateSystemPrompt,
  validateTitle,
} from './validation.js';
import { usageDays, usageReport, windowStart, type UsageStore } from './events/usage.js';

export interface ChatHandlersOptions {
  readonly sessions: SessionsRepository;
  readonly search: SearchRepository;
  readonly messages: MessagesRepository;
  /** Whole trees: export and import. */
  readonly conversations: ConversationsRepository;
  readonly shares: SharesRepository;
  readonly runs: RunManager;
  /** Per-user daily usage, written by the usage consumer. */
  readonly usage: Pick<UsageStore, 'list'>;
  /** The models inference serves: a conversation may only be set to one of them. */
  readonly models: Pick<ModelLimits, 'modelIds'>;
  readonly logger: Logger;
  /** False until migrations have run: calls fail with UNAVAILABLE. */
  readonly isReady: () => boolean;
  /** Who a call acts for: the access token in its metadata, verified; never a request field. */
  readonly callerOf: CallerVerifier;
}

export function createChatHandlers(options: ChatHandlersOptions): ChatServiceServer {
  const { sessions, search, messages, conversations, shares, runs, logger } = options;
  const unary = <Req, Res>(method: string, handle: (request: Req, userId: string) => Promise<Res>): handleUnaryCall<Req, Res> => {
    return (call, callback) => {
      (async () => {
        requireReady(options);
        return handle(call.request, await callerId(options, call.metadata));
      })().then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(reported(logger, method, error)), null),
      );
    };
  };
  const treeOf = async (session: SessionRow): Promise<ConversationTree> => ({
    session: toSession(session),
    messages: (await conversations.tree(session.id)).map(toMessage),
  });
  const ownedSession = async (userId: string, sessionId: string) => {
    const session = await sessions.get(userId, sessionId);
    if (!session) throw new NotFoundError('session');
    return session;
  };

  return {
    createSession: unary('CreateSession', async (request, userId) => {
      const title = validateTitle(request.title, { emptyMeansDefault: true });
      // Named by its owner: the title writer leaves it alone.
      const titleSource = request.title.trim() === '' ? 'auto' : 'user';
      return toSession(await sessions.create({ id: randomUUID(), ownerId: userId, title, titleSource }));
    }),
    listSessions: unary('ListSessions', async (request, userId) => {
      const tag = request.tag === undefined ? undefined : normaliseTag('tag', request.tag);
      const page = await sessions.list(userId, pageSize(request.pageSize), request.pageToken, tag);
      const answering = await messages.answeringSessions(page.sessions.map((s) => s.id));
      return { sessions: page.sessions.map((s) => toSession(s, answering.has(s.id))), nextPageToken: page.nextPageToken };
    }),
    getSession: unary('GetSession', async (request, userId) => {
      return toSession(await ownedSession(userId, requireUuid('session_id', request.sessionId)));
    }),
    updateSession: unary('UpdateSession', async (request, userId) => {
      const sessionId = requireUuid('session_id', request.sessionId);
      const session = await sessions.update(userId, sessionId, {
        title: request.title === undefined ? undefined : validateTitle(request.title, { emptyMeansDefault: false }),
        pinned: request.pinned,
        tags: request.tags === undefined ? undefined : normaliseTags(request.tags.tags),
        systemPrompt: request.systemPrompt === undefined ? undefined : validateSystemPrompt(request.systemPrompt),
        model: request.model === undefined ? undefined : await servedModel(options.models, validateModel(request.model)),
      });
      if (!session) throw new NotFoundError('session');
      return toSession(session);
    }),
    searchSessions: unary('SearchSessions', async (request, userId) => {
      const tsQuery = buildTsQuery(validateQuery(request.query));
      const limit = searchLimit(request.limit);
      if (tsQuery === undefined) return { results: [] };
      return { results: (await search.search(userId, tsQuery, limit)).map(toSearchHit) };
    }),
    deleteSession: unary('DeleteSession', async (request, userId) => {
      const sessionId = requireUuid('session_id', request.sessionId);
      if (!(await sessions.softDelete(userId, sessionId))) throw new NotFoundError('session');
      await runs.stopSession(sessionId);
      return {};
    }),
    listMessages: unary('ListMessages', async (request, userId) => {
      const limit = messagePageLimit(request.limit);
      const session = await ownedSession(userId, requireUuid('session_id', request.sessionId));
      const page = await messages.listPage(session.id, limit, request.before);
      return { messages: page.messages.map(toMessage), ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
    }),
    selectBranch: unary('SelectBranch', async (request, userId) => {
      const session = await ownedSession(userId, requireUuid('session_id', request.sessionId));
      if (!(await messages.selectBranch(session.id, requireUuid('message_id', request.messageId)))) throw new NotFoundError('message');
      return toSession(await ownedSession(userId, session.id));
    }),
    forkSession: unary('ForkSession', async (request, userId) => {
      const forked = await messages.forkBranch({
        ownerId: userId,
        sessionId: requireUuid('session_id', request.sessionId),
        messageId: requireUuid('message_id', request.messageId),
        newSessionId: randomUUID(),
      });
      if (forked.kind === 'not_found') throw new NotFoundError('session');
      if (forked.kind === 'message_not_found') throw new NotFoundError('message');
      if (forked.kind === 'refused') throw new FailedPreconditionError(forked.code);
      return toSession(await ownedSession(userId, forked.sessionId));
    }),
    getUsage: unary('GetUsage', async (request, userId) => {
      const fromDate = windowStart(new Date(), usageDays(request.days));
      return usageReport(await options.usage.list(userId, fromDate), fromDate);
    }),
    exportSession: unary('ExportSession', async (request, userId) => {
      return treeOf(await ownedSession(userId, requireUuid('session_id', request.sessionId)));
    }),
    exportAllSessions: (call) => {
      void streamOut(call, 'ExportAllSessions', options, async function* (userId) {
        for (const session of await conversations.sessions(userId)) yield await treeOf(session);
      });
    },
    importConversations: clientStream('ImportConversations', options, async (call, userId) => {
      const inputs: ImportedConversationInput[] = [];
      let messageCount = 0;
      for await (const conversation of call as AsyncIterable<ImportConversationsRequest>) {
        // Refused while reading: a client cannot make the service hold an unbounded import.
        if (inputs.length === MAX_IMPORT_CONVERSATIONS)
          throw new InvalidArgumentError('conversations', `at most ${MAX_IMPORT_CONVERSATIONS} conversations per import`);
        messageCount += conversation.messages.length;
        if (messageCount > MAX_IMPORT_MESSAGES) throw new InvalidArgumentError('messages', `at most ${MAX_IMPORT_MESSAGES} messages per import`);
        inputs.push(fromImportRequest(conversation));
      }
      const plan = planImport(inputs, randomUUID, new Date());
      await conversations.insertImport(userId, plan);
      return { imported: plan.map((s) => ({ sessionId: s.id, title: s.title, messages: s.messages.length })) };
    }),
    createShareLink: unary('CreateShareLink', async (request, userId) => {
      const session = await ownedSession(userId, requireUuid('session_id', request.sessionId));
      const snapshot = shareSnapshot(session.title, await shares.currentBranch(session.id));
      return toShareLink(await shares.create({ token: newShareToken(), sessionId: session.id, userId, snapshot }));
    }),
    listShareLinks: unary('ListShareLinks', async (request, userId) => {
      const session = await ownedSession(userId, requireUuid('session_id', request.sessionId));
      return { links: (await shares.list(session.id)).map(toShareLink) };
    }),
    revokeShareLinks: unary('RevokeShareLinks', async (request, userId) => {
      const session = await ownedSession(userId, requireUuid('session_id', request.sessionId));
      return { revoked: await shares.revokeAll(session.id) };
    }),
    // No caller: the token is the permission. A token of the wrong shape is unknown, like any other.
    getSharedConversation: (call, callback) => {
      (async () => {
        requireReady(options);
        const found = SHARE_TOKEN_PATTERN.test(call.request.token) ? await shares.snapshot(call.request.token) : undefined;
        if (!found) throw new NotFoundError('share link');
        return toSharedConversation(found.snapshot, found.createdAt);
      })().then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(reported(logger, 'GetSharedConversation', error)), null),
      );
    },
    stopRun: unary('StopRun', async (request, userId) => {
      await runs.stop(userId, requireUuid('run_id', request.runId));
      return {};
    }),
    sendMessage: (call) => {
      void streamRun(call, 'SendMessage', options, async (ownerId, signal) => {
        const { request } = call;
        const sessionId = requireUuid('session_id', request.sessionId);
        const content = validateContent(request.content);
        validateParams(request.params);
        const started = await runs.start({ ownerId, sessionId, content, enableThinking: request.enableThinking, params: request.params });
        return runs.events(started.runId, 0, signal);
      });
    },
    regenerateMessage: (call) => {
      void streamRun(call, 'RegenerateMessage', options, async (ownerId, signal) => {
        const { request } = call;
        const sessionId = requireUuid('session_id', request.sessionId);
        const messageId = request.messageId === undefined ? undefined : requireUuid('message_id', request.messageId);
        const content = request.content === undefined ? undefined : validateContent(request.content);
        validateParams(request.params);
        const started = await runs.regenerate({ ownerId, sessionId, messageId, content, enableThinking: request.enableThinking, params: request.params });
        return runs.events(started.runId, 0, signal);
      });
    },
    continueMessage: (call) => {
      void streamRun(call, 'ContinueMessage', options, async (ownerId, signal) => {
        const { request } = call;
        const sessionId = requireUuid('session_id', request.sessionId);
        const messageId = requireUuid('message_id', request.messageId);
        validateParams(request.params);
        const started = await runs.continueAnswer({ ownerId, sessionId, messageId, enableThinking: request.enableThinking, params: request.params });
        return runs.events(started.runId, 0, signal);
      });
    },
    attachRun: (call) => {
      void streamRun(call, 'AttachRun', options, async (ownerId, signal) => {
        const { request } = call;
        const runId = requireUuid('run_id', request.runId);
        const attached = await runs.attach(ownerId, runId, request.afterSeq, signal);
        if (attached.state === 'streaming') call.sendMetadata(liveMetadata());
        return attached.events;
      });
    },
  };
}

function liveMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set(ATTACH_STATE_KEY, ATTACH_LIVE);
  return metadata;
}

/** The calling user's id, from the verified token (a UUID, as auth issues them). */
async function callerId(options: ChatHandlersOptions, metadata: Metadata): Promise<string> {
  const { userId } = await options.callerOf(metadata);
  if (!isUuid(userId)) throw new UnauthenticatedCallerError('invalid-claims');
  return userId.toLowerCase();
}

function requireReady(options: ChatHandlersOptions): void {
  if (!options.isReady()) throw new UnavailableError('the chat service is starting');
}

function reported(logger: Logger, method: string, error: unknown) {
  const mapped = toStatus(error);
  if (mapped.unexpected) logger.error({ err: error, method }, `${method} failed`);
  return mapped;
}

/** A call whose client streams its request (one item per message) and gets one response. */
function clientStream<Req, Res>(
  method: string,
  options: ChatHandlersOptions,
  handle: (call: ServerReadableStream<Req, Res>, userId: string) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    (async () => {
      requireReady(options);
      return handle(call, await callerId(options, call.metadata));
    })().then(
      (response) => callback(null, response),
      (error: unknown) => callback(toServiceError(reported(options.logger, method, error)), null),
    );
  };
}

/** Streams what `produce` yields to one caller; a caller that leaves ends it. */
async function streamOut<Req, Res>(
  call: ServerWritableStream<Req, Res>,
  method: string,
  options: ChatHandlersOptions,
  produce: (userId: string) => AsyncIterable<Res>,
): Promise<void> {
  try {
    requireReady(options);
    for await (const item of produce(await callerId(options, call.metadata))) {
      if (call.cancelled) return;
      if (!call.write(item)) await drained(call);
    }
    if (!call.cancelled) call.end();
  } catch (error) {
    const mapped = reported(options.logger, method, error);
    if (!call.cancelled) call.emit('error', toServiceError(mapped));
  }
}

/**
 * Streams a run's events to one caller. The caller leaving ends only this stream: the run, owned by
 * the run manager, goes on.
 */
async function streamRun<Req>(
  call: ServerWritableStream<Req, RunEvent>,
  method: string,
  options: ChatHandlersOptions,
  open: (userId: string, signal: AbortSignal) => Promise<AsyncIterable<RunEvent>>,
): Promise<void> {
  const controller = new AbortController();
  const onCancelled = (): void => controller.abort();
  call.once('cancelled', onCancelled);
  try {
    requireReady(options);
    for await (const event of await open(await callerId(options, call.metadata), controller.signal)) {
      if (call.cancelled) break;
      if (!call.write(event)) await drained(call);
    }
    if (!call.cancelled) call.end();
  } catch (error) {
    const mapped = reported(options.logger, method, error);
    if (!call.cancelled) call.emit('error', toServiceError(mapped));
  } finally {
    call.off('cancelled', onCancelled);
    controller.abort();
  }
}

/** `model` when inference serves it (or cannot say which it serves: the run then says so); empty means the default. */
async function servedModel(models: Pick<ModelLimits, 'modelIds'>, model: string): Promise<string> {
  if (model === '') return model;
  const ids = await models.modelIds();
  if (ids && !ids.includes(model)) throw new InvalidArgumentError('model', `"${model}" is not served; served: ${ids.map((id) => `"${id}"`).join(', ')}`);
  return model;
}
