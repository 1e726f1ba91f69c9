// The model behind the chat, as the inference service describes it, so the UI can warn about the
// built-in model and bound its settings. Cached briefly: it changes only when inference restarts.
import { checkServiceHealth } from '@freechat/shared';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError, isGrpcError } from '../errors.js';
import { CachedValue } from '../cached-value.js';
import { toModelJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { unaryCall } from '../rpc.js';
import { errorResponses, ModelsSchema, type ModelsJson } from '../schemas.js';

export interface ModelRoutesOptions {
  /** How long an answer is served from memory. */
  readonly cacheMs: number;
  readonly now?: () => number;
}

const models: FastifyPluginAsyncTypebox<ModelRoutesOptions> = async (app, options) => {
  const { clients, discovery, callTimeoutMs } = app.upstreams;
  app.addHook('onRoute', tagRoutes('Models'));

  const listModels = async (): Promise<ModelsJson> => {
    try {
      const response = await unaryCall(clients.inference, 'listModels', {}, callTimeoutMs);
      return { state: 'ready', models: response.models.map(toModelJson) };
    } catch (error) {
      if (!isGrpcError(error)) throw error;
      // Reachable but NOT_SERVING: the model is still loading. Anything else (in Consul mode also a
      // loading instance, which registers only once SERVING): inference is down.
      if ((await checkServiceHealth(discovery.channels, 'inference', { timeoutMs: 2_000 })) === 'NOT_SERVING') {
        return { state: 'loading', models: [] };
      }
      app.log.warn({ err: error }, 'inference ListModels failed');
      throw new ApiError('upstream_unavailable');
    }
  };
  const cache = new CachedValue<ModelsJson>({
    load: listModels,
    ttlMs: options.cacheMs,
    // "Loading" is asked again by the next request, so the UI sees the model as soon as it is there.
    keep: (answer) => answer.state === 'ready',
    ...(options.now && { now: options.now }),
  });

  app.get(
    '/api/models',
    { onRequest: app.authenticate, schema: { summary: 'The model and its limits', response: { 200: ModelsSchema, ...errorResponses } } },
    async () => cache.get(),
  );
};

export default models;
