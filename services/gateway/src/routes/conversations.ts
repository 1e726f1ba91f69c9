// Whole conversations in and out: a session exported as JSON (every branch) or Markdown (the branch
// it shows), everything of the caller's as one JSON file, and importing such files or ChatGPT's
// conversations.json as new sessions.
import type { ConversationTree, ImportConversationsRequest, ImportConversationsResponse } from '@freechat/proto/freechat/chat/v1/chat';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Metadata } from '@grpc/grpc-js';
import { Type } from 'typebox';
import { authenticateEveryRoute, requireUser } from '../plugins/app/authenticate.js';
import { tagRoutes } from '../openapi-document.js';
import { attachmentDisposition, toConversationDocument, toConversationMarkdown, toExportDocument } from '../conversation-export.js';
import { parseImport } from '../conversation-import.js';
import { callerMetadata, unaryCall, type GatewayClients } from '../rpc.js';
import { ConversationDocumentSchema, errorResponses, ExportDocumentSchema, ImportResultSchema } from '../schemas.js';
import { SessionParams } from './sessions.js';

const closed = { additionalProperties: false } as const;

/** An import file may be large (ChatGPT's is every conversation ever); every other route keeps the global limit. */
export const IMPORT_BODY_LIMIT_BYTES = 20 * 1024 * 1024;
/** Reading or writing every conversation of a user takes longer than one small call. */
const BULK_CALL_MS = 60_000;

const conversations: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  authenticateEveryRoute(app);
  app.addHook('onRoute', tagRoutes('Export and import'));

  app.get(
    '/api/sessions/:id/export',
    {
      schema: {
        summary: 'Export a conversation (JSON tree or Markdown of the branch shown)',
        params: SessionParams,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('markdown')])) }, closed),
        // JSON: the document; markdown: its text (text/markdown).
        response: { 200: Type.Union([ConversationDocumentSchema, Type.String()]), ...errorResponses },
      },
    },
    async (request, reply) => {
      const tree = await unaryCall(clients.chat, 'exportSession', { sessionId: request.params.id }, callTimeoutMs, callerMetadata(request));
      const document = toConversationDocument(tree, new Date());
      if (request.query.format === 'markdown') {
        reply.header('content-disposition', attachmentDisposition(document.title, 'md'));
        return reply.type('text/markdown; charset=utf-8').send(toConversationMarkdown(document));
      }
      reply.header('content-disposition', attachmentDisposition(document.title, 'json'));
      return document;
    },
  );

  app.get('/api/me/export', { schema: { summary: 'Export all of my conversations (JSON)', response: { 200: ExportDocumentSchema, ...errorResponses } } }, async (request, reply) => {
    const trees = await collect(clients.chat.exportAllSessions({}, callerMetadata(request), { deadline: Date.now() + BULK_CALL_MS }));
    const exportedAt = new Date();
    reply.header('content-disposition', `attachment; filename="freechat-export-${exportedAt.toISOString().slice(0, 10)}.json"`);
    return toExportDocument(requireUser(request).username, trees, exportedAt);
  });

  app.post(
    '/api/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Import conversations (our JSON export, or ChatGPT conversations.json)',
        // An object (our formats) or an array (ChatGPT's): parseImport checks the shape it claims to be
        // (our documents against their schemas) and says where the first problem is.
        body: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Array(Type.Unknown())]),
        response: { 201: ImportResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const parsed = parseImport(request.body);
      const response = await importAll(clients, parsed, callerMetadata(request));
      return reply.code(201).send({ imported: response.imported.map((s) => ({ sessionId: s.sessionId, title: s.title, messages: s.messages })) });
    },
  );
};

async function collect(call: AsyncIterable<ConversationTree>): Promise<ConversationTree[]> {
  const trees: ConversationTree[] = [];
  for await (const tree of call) trees.push(tree);
  return trees;
}

/** One conversation per message of the stream; chat writes them all in one transaction once it ends. */
function importAll(clients: GatewayClients, conversations: readonly ImportConversationsRequest[], metadata: Metadata): Promise<ImportConversationsResponse> {
  return new Promise((resolve, reject) => {
    const call = clients.chat.importConversations(metadata, { deadline: Date.now() + BULK_CALL_MS }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
    for (const conversation of conversations) call.write(conversation);
    call.end();
  });
}

export default conversations;
