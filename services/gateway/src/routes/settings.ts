// The signed-in user's settings (generation defaults, theme, language). The auth service keeps them,
// so they follow the person to every browser; it fills in the defaults and owns the rules.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { toSettingsUpdate, toUserSettingsJson } from '../mapping.js';
import { tagRoutes } from '../openapi-document.js';
import { callerMetadata, unaryCall } from '../rpc.js';
import { errorResponses, UserSettingsPatchSchema, UserSettingsSchema } from '../schemas.js';

const settings: FastifyPluginAsyncTypebox = async (app) => {
  const { clients, callTimeoutMs } = app.upstreams;
  app.addHook('onRoute', tagRoutes('Settings'));

  app.get(
    '/api/me/settings',
    { onRequest: app.authenticate, schema: { summary: 'My settings (the same in every browser)', response: { 200: UserSettingsSchema, ...errorResponses } } },
    async (request) => toUserSettingsJson(await unaryCall(clients.auth, 'getSettings', {}, callTimeoutMs, callerMetadata(request))),
  );

  // PATCH: only the fields given change; the answer is all of them.
  app.patch(
    '/api/me/settings',
    { onRequest: app.authenticate, schema: { summary: 'Change my settings', body: UserSettingsPatchSchema, response: { 200: UserSettingsSchema, ...errorResponses } } },
    async (request) =>
      toUserSettingsJson(
        await unaryCall(clients.auth, 'updateSettings', { settings: toSettingsUpdate(request.body) }, callTimeoutMs, callerMetadata(request)),
      ),
  );
};

export default settings;
