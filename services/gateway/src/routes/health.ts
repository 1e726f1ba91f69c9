// Liveness and readiness, both unauthenticated: /healthz says the process answers, /readyz that
// auth and chat report SERVING on their gRPC health service, asked through the same channels as
// every call (so in Consul mode: a healthy instance exists and answers). Inference is reported too,
// but does not decide readiness: accounts and history work while the model loads or restarts.
import { checkServiceHealth, type HealthState } from '@freechat/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ERRORS, type ErrorCode } from '../errors.js';
import { tagRoutes } from '../openapi-document.js';

const HealthStateSchema = Type.Union([Type.Literal('SERVING'), Type.Literal('NOT_SERVING'), Type.Literal('UNKNOWN'), Type.Literal('UNREACHABLE')]);
const UpstreamsSchema = Type.Object(
  { auth: HealthStateSchema, chat: HealthStateSchema, inference: HealthStateSchema },
  { additionalProperties: false },
);
/** The upstreams readiness depends on; inference is only reported. */
const REQUIRED = ['auth', 'chat'] as const;

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRoute', tagRoutes('Health'));

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness (auth and chat serving)',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), upstreams: UpstreamsSchema }, { additionalProperties: false }),
          // The error shape every 503 has, plus the state of each upstream, so a probe's log says which is missing.
          503: Type.Object(
            {
              error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false }),
              status: Type.Literal('unavailable'),
              upstreams: UpstreamsSchema,
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (_request, reply) => {
      const { channels } = app.upstreams.discovery;
      const [auth, chat, inference] = await Promise.all(
        (['auth', 'chat', 'inference'] as const).map((service) => checkServiceHealth(channels, service, { timeoutMs: 2_000 })),
      );
      const upstreams: Record<'auth' | 'chat' | 'inference', HealthState> = { auth: auth!, chat: chat!, inference: inference! };
      const missing = REQUIRED.filter((name) => upstreams[name] !== 'SERVING');
      if (missing.length === 0) return { status: 'ready' as const, upstreams };
      const code: ErrorCode = 'service_unavailable';
      return reply.code(ERRORS[code].status).send({
        error: { code, message: `not ready: ${missing.map((name) => `${name} ${upstreams[name]}`).join(', ')}` },
        status: 'unavailable' as const,
        upstreams,
      });
    },
  );
};

export default health;
