// A promise-returning AuthService client for the gRPC tests.
import * as grpc from '@grpc/grpc-js';
import {
  AuthServiceClient,
  type AuthResponse,
  type GetPublicKeysRequest,
  type GetPublicKeysResponse,
  type GetSettingsRequest,
  type GetUserRequest,
  type LoginRequest,
  type LogoutRequest,
  type LogoutResponse,
  type RefreshRequest,
  type RegisterRequest,
  type UpdateSettingsRequest,
  type User,
  type UserSettings,
} from '@freechat/proto/freechat/auth/v1/auth';
import { callerMetadata } from '@freechat/shared';

export interface AuthApi {
  register(username: string, password: string): Promise<AuthResponse>;
  login(username: string, password: string): Promise<AuthResponse>;
  refresh(refreshToken: string): Promise<AuthResponse>;
  logout(refreshToken: string): Promise<LogoutResponse>;
  /** The user the access token names, sent as call metadata; no token: a call without one. */
  getUser(accessToken?: string): Promise<User>;
  getPublicKeys(): Promise<GetPublicKeysResponse>;
  /** The settings of the user the access token names; no token: a call without one. */
  getSettings(accessToken?: string): Promise<UserSettings>;
  updateSettings(accessToken: string | undefined, settings: UserSettings | undefined): Promise<UserSettings>;
  close(): void;
}

type Unary<Req, Res> = (request: Req, callback: (error: grpc.ServiceError | null, response: Res) => void) => grpc.ClientUnaryCall;

function promisify<Req, Res>(method: Unary<Req, Res>, client: grpc.Client): (request: Req) => Promise<Res> {
  return (request) => new Promise((resolve, reject) => method.call(client, request, (error, response) => (error ? reject(error) : resolve(response))));
}

const metadataOf = (accessToken: string | undefined): grpc.Metadata => (accessToken ? callerMetadata(accessToken) : new grpc.Metadata());

export function authClient(address: string): AuthApi {
  const client = new AuthServiceClient(address, grpc.credentials.createInsecure());
  const call = <Req, Res>(method: Unary<Req, Res>) => promisify(method, client);
  return {
    register: (username, password) => call<RegisterRequest, AuthResponse>(client.register)({ username, password }),
    login: (username, password) => call<LoginRequest, AuthResponse>(client.login)({ username, password }),
    refresh: (refreshToken) => call<RefreshRequest, AuthResponse>(client.refresh)({ refreshToken }),
    logout: (refreshToken) => call<LogoutRequest, LogoutResponse>(client.logout)({ refreshToken }),
    getUser: (accessToken) =>
      new Promise<User>((resolve, reject) =>
        client.getUser({} satisfies GetUserRequest, metadataOf(accessToken), (error, user) =>
          error ? reject(error) : resolve(user),
        ),
      ),
    getSettings: (accessToken) =>
      new Promise<UserSettings>((resolve, reject) =>
        client.getSettings({} satisfies GetSettingsRequest, metadataOf(accessToken), (error, settings) => (error ? reject(error) : resolve(settings))),
      ),
    updateSettings: (accessToken, settings) =>
      new Promise<UserSettings>((resolve, reject) =>
        client.updateSettings({ settings } satisfies UpdateSettingsRequest, metadataOf(accessToken), (error, updated) => (error ? reject(error) : resolve(updated))),
      ),
    getPublicKeys: () => call<GetPublicKeysRequest, GetPublicKeysResponse>(client.getPublicKeys)({}),
    close: () => client.close(),
  };
}

/** The status and message of a refused call; fails the test when the call succeeded. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: grpc.status; details: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('expected the call to be refused');
}
