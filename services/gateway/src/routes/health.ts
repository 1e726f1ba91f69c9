// Liveness and readiness, both unauthenticated: /healthz says the process answers, /readyz that
// auth and chat report SERVING on their gRPC health service, asked through the same channels as
// every call (so in Consul mode: a healthy instance exists and answers).
import { checkServiceHealth, type HealthState } from '@freechat/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../errors.js';
import { ErrorSchema } from '../schemas.js';

const HealthStateSchema = Type.Union([Type.Literal('SERVING'), Type.Literal('NOT_SERVING'), Type.Literal('UNKNOWN'), Type.Literal('UNREACHABLE')]);

const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        response: {
          200: Type.Object(
            { status: Type.Literal('ready'), upstreams: Type.Object({ auth: HealthStateSchema, chat: HealthStateSchema }) },
            { additionalProperties: false },
          ),
          503: ErrorSchema,
        },
      },
    },
    async () => {
      const { channels } = app.upstreams.discovery;
      const [auth, chat] = await Promise.all([
        checkServiceHealth(channels, 'auth', { timeoutMs: 2_000 }),
        checkServiceHealth(channels, 'chat', { timeoutMs: 2_000 }),
      ]);
      const states: Record<'auth' | 'chat', HealthState> = { auth, chat };
      const notServing = Object.entries(states).filter(([, state]) => state !== 'SERVING');
      if (notServing.length > 0) {
        throw new ApiError('service_unavailable', `not ready: ${notServing.map(([name, state]) => `${name} ${state}`).join(', ')}`);
      }
      return { status: 'ready' as const, upstreams: states };
    },
  );
};

export default health;
