// A run's event stream, resumable from the last event a client saw, and Stop.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../errors.js';
import { requestSpan } from '../plugins/external/http-tracing.js';
import { formatEventId, parseLastEventId } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { authenticateEveryRoute } from '../plugins/app/authenticate.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, EventStreamResponse, Uuid } from '../schemas.js';
import { awaitStreamStart, relayRun } from '../sse.js';

const closed = { additionalProperties: false } as const;
const RunParams = Type.Object({ runId: Uuid }, closed);
const LastEventId = Type.String({ maxLength: 100 });

const runs: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  authenticateEveryRoute(app);
  app.addHook('onRoute', tagRoutes('Runs'));

  app.get(
    '/api/runs/:runId/events',
    {
      schema: {
        summary: "A run's events, resumed after Last-Event-ID",
        params: RunParams,
        // EventSource sends Last-Event-ID itself on reconnect; the query parameter serves clients that cannot set headers.
        querystring: Type.Object({ lastEventId: Type.Optional(LastEventId) }, closed),
        headers: Type.Object({ 'last-event-id': Type.Optional(LastEventId) }),
        // 204: nothing after the last event seen and the run is over.
        response: { 200: EventStreamResponse, 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      const afterSeq = parseLastEventId(request.headers['last-event-id'] ?? request.query.lastEventId, runId);
      if (afterSeq === null) throw new ApiError('invalid_request', `Last-Event-ID must be ${runId}:<seq> from this run's events`);
      if (afterSeq > 0) requestSpan(request)?.event('sse.resume', { 'freechat.run.id': runId, 'freechat.sse.after_seq': afterSeq });
      const call = clients.chat.attachRun({ runId, afterSeq }, callerMetadata(request));
      // Chat says at once whether the run is live (metadata) or over (it ends the call), after
      // checking the caller's token and the run's owner; the unary deadline is only a safety net
      // should it say neither (a shorter one would stream a refusal that arrives late as an event).
      const start = await awaitStreamStart(call, callTimeoutMs);
      if (start.kind === 'error') throw start.error;
      // Nothing after the client's last event and the run is over: 204 tells EventSource not to reconnect.
      if (start.kind === 'ended') return reply.code(204).send(null);
      reply.hijack();
      await relayRun({
        raw: reply.raw,
        call,
        first: start.kind === 'event' ? start.event : undefined,
        resumedFrom: afterSeq > 0 ? formatEventId(runId, afterSeq) : '',
        reattach: (id, after) => clients.chat.attachRun({ runId: id, afterSeq: after }, callerMetadata(request)),
        registry: app.sseStreams,
        headers: reply.getHeaders(),
        logger: request.log,
      });
    },
  );

  app.post(
    '/api/runs/:runId/stop',
    { schema: { summary: 'Stop a run', params: RunParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      requestSpan(request)?.event('run.stop', { 'freechat.run.id': request.params.runId });
      await unaryCall(clients.chat, 'stopRun', { runId: request.params.runId }, callTimeoutMs, callerMetadata(request));
      return reply.code(204).send(null);
    },
  );
};

export default runs;
