// Real servers for the chat tests: throwaway PostgreSQL, the inference service on the built-in tiny
// model, the chat server, and a typed client with promise helpers. Calls act for a user the way the
// gateway makes them: an ES256 access token in the metadata, signed here by a test key that chat is
// given as auth's (the gateway tests cover fetching the real keys from a real auth service).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll } from 'vitest';
import {
  ChatServiceClient,
  type CreateSessionRequest,
  type DeleteSessionRequest,
  type DeleteSessionResponse,
  type GetUsageRequest,
  type GetUsageResponse,
  type SelectBranchRequest,
  type GetSessionRequest,
  type ListMessagesRequest,
  type ListMessagesResponse,
  type ListSessionsRequest,
  type ListSessionsResponse,
  type AttachRunRequest,
  type ContinueMessageRequest,
  type ForkSessionRequest,
  type RegenerateMessageRequest,
  type SearchSessionsRequest,
  type SearchSessionsResponse,
  type UpdateSessionRequest,
  type RunEvent,
  type SendMessageRequest,
  type Session,
  type StopRunRequest,
  type StopRunResponse,
} from '@freechat/proto/freechat/chat/v1/chat';
import { callerMetadata, createLogger, type Logger } from '@freechat/shared';
import jwt from 'jsonwebtoken';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { startThrowawayPostgres, type RunningPostgres } from '@freechat/shared/postgres';
import { loadInferenceConfig } from '../../../inference/src/config.js';
import { buildModelDir } from '../../../inference/src/model-builder/index.js';
import { startInferenceServer, type EngineFactory, type InferenceServerHandle } from '../../../inference/src/server.js';
import { loadChatConfig, type ChatConfig } from '../../src/config.js';
import { startChatServer, type ChatServerHandle } from '../../src/server.js';

export const silentLogger: Logger = createLogger({ service: 'chat-test', level: 'silent' });

export { startThrowawayPostgres, type RunningPostgres };

export interface TinyInference {
  readonly server: InferenceServerHandle;
  readonly address: string;
  close(): Promise<void>;
}

/** The inference service in this process, serving the built-in tiny model from a temporary directory. */
export async function startTinyInference(options: { maxContextTokens?: number; engineFactory?: EngineFactory } = {}): Promise<TinyInference> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'freechat-chat-tiny-'));
  const { dir } = await buildModelDir({ preset: 'tiny', outDir: path.join(root, 'tiny') });
  const base = loadInferenceConfig({ env: { FREECHAT_MODEL_DIR: dir, FREECHAT_INFERENCE_ADDRESS: '127.0.0.1:0' } });
  const server = await startInferenceServer({
    config: {
      ...base,
      engine: { ...base.engine, intraOpThreads: 1, maxContextTokens: options.maxContextTokens ?? base.engine.maxContextTokens },
      shutdown: { graceMs: 1_000 },
    },
    logger: silentLogger,
    ...(options.engineFactory && { engineFactory: options.engineFactory }),
  });
  await server.ready;
  return {
    server,
    address: server.address,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export type RunsOverrides = Partial<Omit<ChatConfig['runs'], 'generation'>> & { generation?: ChatConfig['runs']['generation'] };

export function chatConfig(databaseUrl: string, inferenceAddress: string, overrides: { runs?: RunsOverrides; graceMs?: number } = {}): ChatConfig {
  const base = loadChatConfig({
    env: { DATABASE_URL: databaseUrl, FREECHAT_CHAT_ADDRESS: '127.0.0.1:0', FREECHAT_INFERENCE_ADDRESS: inferenceAddress },
  });
  return {
    ...base,
    runs: { ...base.runs, flushIntervalMs: 100, ...overrides.runs },
    shutdown: { graceMs: overrides.graceMs ?? 2_000 },
  };
}

export interface RunningChat {
  readonly server: ChatServerHandle;
  /** The streaming calls, each acting for the request's `userId`. */
  readonly client: ChatStreams;
  readonly api: ChatApi;
  close(): Promise<void>;
}

/** `logger`: silent unless a test wants the service's warnings in its output (to tell slow from lost). */
export async function startChat(config: ChatConfig, logger: Logger = silentLogger): Promise<RunningChat> {
  const server = await startChatServer({ config, logger, accessTokenKeys: async () => testKeys.jwks });
  await server.ready;
  const client = new ChatServiceClient(server.address, grpc.credentials.createInsecure());
  return {
    server,
    client: chatStreams(client),
    api: chatApi(client),
    close: async () => {
      client.close();
      await server.close();
    },
  };
}

/** A signing key standing in for auth's, and access tokens for any user id. */
export const testKeys = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'chat-test-key';
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] };
  return {
    jwks,
    tokenFor: (userId: string, claims: Record<string, unknown> = {}): string => {
      const iat = Math.floor(Date.now() / 1000);
      const payload = { sub: userId, username: `user-${userId.slice(0, 8)}`, typ: 'access', iss: 'freechat-auth', aud: 'freechat', jti: randomUUID(), iat, exp: iat + 900 };
      return jwt.sign({ ...payload, ...claims }, privateKey, { algorithm: 'ES256', keyid: kid });
    },
  };
})();

/** A request as the tests write it: the acting user named next to the fields, sent as its token. */
export type AsUser<Req> = Req & { readonly userId: string };

function split<Req>(request: AsUser<Req>): [Req, grpc.Metadata] {
  const { userId, ...rest } = request;
  return [rest as unknown as Req, callerMetadata(testKeys.tokenFor(userId))];
}

export function chatStreams(client: ChatServiceClient) {
  return {
    sendMessage: (request: AsUser<SendMessageRequest>) => client.sendMessage(...split(request)),
    regenerateMessage: (request: AsUser<RegenerateMessageRequest>) => client.regenerateMessage(...split(request)),
    continueMessage: (request: AsUser<ContinueMessageRequest>) => client.continueMessage(...split(request)),
    attachRun: (request: AsUser<AttachRunRequest>) => client.attachRun(...split(request)),
  };
}

export type ChatStreams = ReturnType<typeof chatStreams>;

type Callback<Res> = (error: grpc.ServiceError | null, response: Res) => void;

/** The unary methods as promises; a non-OK status rejects with the ServiceError. */
export function chatApi(client: ChatServiceClient) {
  const wrap =
    <Req, Res>(method: (request: Req, metadata: grpc.Metadata, callback: Callback<Res>) => grpc.ClientUnaryCall) =>
    (request: AsUser<Req>): Promise<Res> =>
      new Promise((resolve, reject) => {
        method.call(client, ...split(request), (error: grpc.ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)));
      });
  return {
    createSession: wrap<CreateSessionRequest, Session>(client.createSession),
    listSessions: wrap<ListSessionsRequest, ListSessionsResponse>(client.listSessions),
    getSession: wrap<GetSessionRequest, Session>(client.getSession),
    // `tags` may be left out like the optional fields (ts-proto types a message field as required).
    updateSession: (request: AsUser<Omit<UpdateSessionRequest, 'tags'> & Partial<Pick<UpdateSessionRequest, 'tags'>>>) =>
      wrap<UpdateSessionRequest, Session>(client.updateSession)({ tags: undefined, ...request }),
    searchSessions: wrap<SearchSessionsRequest, SearchSessionsResponse>(client.searchSessions),
    deleteSession: wrap<DeleteSessionRequest, DeleteSessionResponse>(client.deleteSession),
    listMessages: wrap<ListMessagesRequest, ListMessagesResponse>(client.listMessages),
    stopRun: wrap<StopRunRequest, StopRunResponse>(client.stopRun),
    getUsage: wrap<GetUsageRequest, GetUsageResponse>(client.getUsage),
    selectBranch: wrap<SelectBranchRequest, Session>(client.selectBranch),
    forkSession: wrap<ForkSessionRequest, Session>(client.forkSession),
  };
}

export type ChatApi = ReturnType<typeof chatApi>;

/** The status a call fails with (throws if it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

export interface RunOutcome {
  readonly events: RunEvent[];
  readonly error?: grpc.ServiceError;
}

/** Reads a run stream to its end; a non-OK status lands in `error`. `onEvent` sees each event as it comes. */
export function collect(stream: grpc.ClientReadableStream<RunEvent>, onEvent?: (event: RunEvent) => void): Promise<RunOutcome> {
  const events: RunEvent[] = [];
  return new Promise((resolve) => {
    stream.on('data', (event: RunEvent) => {
      events.push(event);
      onEvent?.(event);
    });
    stream.on('error', (error: grpc.ServiceError) => resolve({ events, error }));
    stream.on('end', () => resolve({ events }));
  });
}

/** Resolves once the stream has delivered an event with seq >= `seq`. */
export function untilSeq(stream: grpc.ClientReadableStream<RunEvent>, seq: number): Promise<RunEvent> {
  return new Promise((resolve, reject) => {
    const onData = (event: RunEvent): void => {
      if (event.seq >= seq) {
        stream.off('data', onData);
        resolve(event);
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
    stream.once('end', () => reject(new Error(`stream ended before seq ${seq}`)));
  });
}

export function textOf(events: readonly RunEvent[], channel: 'content' | 'reasoning'): string {
  return events
    .map(({ event }) => {
      if (event?.$case === 'content' && channel === 'content') return event.content.text;
      if (event?.$case === 'reasoning' && channel === 'reasoning') return event.reasoning.text;
      return '';
    })
    .join('');
}

export async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An address where nothing listens. */
export const DEAD_ADDRESS = '127.0.0.1:1';

/** What `useChatStack` hands a test file once its servers are up. */
export interface ChatStack {
  readonly postgres: RunningPostgres;
  readonly chat: RunningChat;
  readonly api: ChatApi;
}

/**
 * A throwaway PostgreSQL, the tiny inference service and one chat server for a test file: started
 * before its tests, stopped after them. Read the fields inside tests (they are set by beforeAll).
 */
export function useChatStack(): ChatStack {
  let postgres: RunningPostgres | undefined;
  let inference: TinyInference | undefined;
  let chat: RunningChat | undefined;
  beforeAll(async () => {
    postgres = await startThrowawayPostgres();
    inference = await startTinyInference();
    chat = await startChat(chatConfig(postgres.url, inference.address));
  });
  afterAll(async () => {
    await chat?.close();
    await inference?.close();
    await postgres?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the chat stack is not started: read it inside a test');
    return value;
  };
  return {
    get postgres() {
      return started(postgres);
    },
    get chat() {
      return started(chat);
    },
    get api() {
      return started(chat).api;
    },
  };
}
