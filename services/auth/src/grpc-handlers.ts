// AuthService over gRPC: each method calls one use case and maps its result or error.
import type { AuthServiceServer } from '@freechat/proto/freechat/auth/v1/auth';
import { createCallerVerifier, toServiceError, type Logger } from '@freechat/shared';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { AuthService } from './auth-service.js';
import { notReady } from './errors.js';
import { toAuthResponse, toSettingsPatch, toStatus, toUser, toUserSettings } from './grpc-mapping.js';

export interface AuthHandlersOptions {
  /** Undefined until migrations have run: calls then fail with UNAVAILABLE. */
  readonly service: () => AuthService | undefined;
  /** The JWKS document; needs no database, so it is served from the start. */
  readonly jwksJson: string;
  readonly logger: Logger;
}

export function createAuthHandlers(options: AuthHandlersOptions): AuthServiceServer {
  const { logger } = options;
  const requireService = (): AuthService => {
    const service = options.service();
    if (!service) throw notReady();
    return service;
  };
  // Auth verifies its own tokens with its own keys: no fetch, and no trust in the request.
  const callerOf = createCallerVerifier({ keysFor: async () => options.jwksJson });
  const unary =
    <Req, Res>(method: string, run: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      run(call.request, call).then(
        (response) => callback(null, response),
        (error: unknown) => {
          const mapped = toStatus(error);
          if (mapped.unexpected) logger.error({ err: error, method }, 'call failed');
          else logger.debug({ method, code: mapped.code, details: mapped.details }, 'call refused');
          callback(toServiceError(mapped), null);
        },
      );
    };
  return {
    register: unary('Register', async (r) => toAuthResponse(await requireService().register(r.username, r.password))),
    login: unary('Login', async (r) => toAuthResponse(await requireService().login(r.username, r.password))),
    refresh: unary('Refresh', async (r) => toAuthResponse(await requireService().refresh(r.refreshToken))),
    logout: unary('Logout', async (r) => {
      await requireService().logout(r.refreshToken);
      return {};
    }),
    getUser: unary('GetUser', async (_r, call) => toUser(await requireService().getUser((await callerOf(call.metadata)).userId))),
    getPublicKeys: unary('GetPublicKeys', async () => ({ jwksJson: options.jwksJson })),
    getSettings: unary('GetSettings', async (_r, call) => toUserSettings(await requireService().getSettings((await callerOf(call.metadata)).userId))),
    updateSettings: unary('UpdateSettings', async (r, call) => {
      const { userId } = await callerOf(call.metadata);
      return toUserSettings(await requireService().updateSettings(userId, toSettingsPatch(r.settings)));
    }),
  };
}
