// Pure parts of the gateway: error registry, gRPC mapping, event ids, SSE frames, JWKS policy, config.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Theme } from '@freechat/proto/freechat/auth/v1/auth';
import { FinishReason, MessageRole, MessageStatus } from '@freechat/proto/freechat/chat/v1/chat';
import { ModelSource } from '@freechat/proto/freechat/inference/v1/inference';
import { ConfigError } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { CachedValue, isFresh } from '../src/cached-value.js';
import { loadGatewayConfig } from '../src/config.js';
import { ApiError, classifyError, ERRORS, fromGrpcStatus } from '../src/errors.js';
import { decideJwks, peekKid } from '@freechat/shared';
import { parseLastEventId, toIsoTime, toMessageJson, toModelJson, toSettingsUpdate, toSseEvent, toUserSettingsJson } from '../src/mapping.js';
import { isUiNavigation } from '../src/plugins/external/web-ui.js';
import { formatSseEvent } from '../src/sse.js';

describe('error registry', () => {
  it('has snake_case codes with 4xx/5xx statuses', () => {
    for (const [code, { status }] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it.each([
    [GrpcStatus.INVALID_ARGUMENT, 400, 'invalid_request'],
    [GrpcStatus.UNAUTHENTICATED, 401, 'unauthenticated'],
    [GrpcStatus.PERMISSION_DENIED, 403, 'permission_denied'],
    [GrpcStatus.NOT_FOUND, 404, 'not_found'],
    [GrpcStatus.ALREADY_EXISTS, 409, 'already_exists'],
    [GrpcStatus.RESOURCE_EXHAUSTED, 429, 'rate_limited'],
    [GrpcStatus.UNAVAILABLE, 503, 'service_unavailable'],
    [GrpcStatus.DEADLINE_EXCEEDED, 504, 'upstream_timeout'],
    [GrpcStatus.INTERNAL, 500, 'internal'],
    [GrpcStatus.UNKNOWN, 500, 'internal'],
    [GrpcStatus.DATA_LOSS, 500, 'internal'],
  ])('maps gRPC status %i to HTTP %i %s', (grpcCode, status, code) => {
    const error = fromGrpcStatus(grpcCode, 'details from upstream');
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
  });

  it('never reports an oversize gRPC message as 429: it is a 502 the caller cannot fix by waiting', () => {
    for (const details of ['Received message larger than max (5242880 vs 4194304)', 'Sent message larger than max (9 vs 4)']) {
      expect(fromGrpcStatus(GrpcStatus.RESOURCE_EXHAUSTED, details)).toMatchObject({ status: 502, code: 'upstream_response_too_large' });
    }
    expect(fromGrpcStatus(GrpcStatus.RESOURCE_EXHAUSTED, 'queue full').code).toBe('rate_limited');
  });

  it('passes client-facing details but never transport or internal ones', () => {
    expect(fromGrpcStatus(GrpcStatus.INVALID_ARGUMENT, 'title: must not be empty').message).toBe('title: must not be empty');
    expect(fromGrpcStatus(GrpcStatus.UNAVAILABLE, 'connect ECONNREFUSED 10.0.0.7:50052').message).not.toContain('10.0.0.7');
    expect(fromGrpcStatus(GrpcStatus.INTERNAL, 'relation "chat.sessions" does not exist').message).toBe('internal error');
  });

  it('turns a FAILED_PRECONDITION with a known code prefix into that 409 code, others stay failed_precondition', () => {
    expect(fromGrpcStatus(GrpcStatus.FAILED_PRECONDITION, 'run_in_progress: an answer is still being generated')).toMatchObject({
      status: 409,
      code: 'run_in_progress',
      message: 'an answer is still being generated',
    });
    expect(fromGrpcStatus(GrpcStatus.FAILED_PRECONDITION, 'nothing_to_regenerate: no message')).toMatchObject({ status: 409, code: 'nothing_to_regenerate' });
    // Only codes meant for this: a prefix naming another registry code is not trusted.
    for (const details of ['internal: boom', 'run in progress', 'something_else: x', 'run_in_progress:']) {
      expect(fromGrpcStatus(GrpcStatus.FAILED_PRECONDITION, details)).toMatchObject({ status: 409, code: 'failed_precondition', message: details });
    }
    // The prefix means something only on FAILED_PRECONDITION.
    expect(fromGrpcStatus(GrpcStatus.INVALID_ARGUMENT, 'run_in_progress: x').code).toBe('invalid_request');
  });

  it('classifies fastify errors and unknown throws', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).apiError.status).toBe(413);
    expect(classifyError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 })).apiError.code).toBe(
      'unsupported_media_type',
    );
    expect(classifyError(Object.assign(new Error('body/x must be string'), { validation: [{}], statusCode: 400 })).apiError).toMatchObject({
      status: 400,
      code: 'invalid_request',
      message: 'body/x must be string',
    });
    const unknown = classifyError(new TypeError('cannot read properties of undefined'));
    expect(unknown).toMatchObject({ unexpected: true, apiError: { status: 500, message: 'internal error' } });
    expect(classifyError(new ApiError('not_found')).unexpected).toBe(false);
  });
});

describe('event ids', () => {
  const runId = '0b6c2a52-3f0e-4a59-9d59-4f7f5a1f0c11';
  it('parses <runId>:<seq> of the same run', () => {
    expect(parseLastEventId(`${runId}:17`, runId)).toBe(17);
    expect(parseLastEventId(undefined, runId)).toBe(0);
    expect(parseLastEventId('', runId)).toBe(0);
  });
  it('refuses another run, garbage and negative numbers', () => {
    expect(parseLastEventId(`00000000-0000-4000-8000-000000000000:3`, runId)).toBeNull();
    expect(parseLastEventId(`${runId}:x`, runId)).toBeNull();
    expect(parseLastEventId(`${runId}:-1`, runId)).toBeNull();
    expect(parseLastEventId('17', runId)).toBeNull();
  });
});

describe('SSE', () => {
  it('formats one id/event/data frame per event, one data line even with newlines in text', () => {
    const frame = formatSseEvent({ id: 'r:2', type: 'content', data: { delta: 'a\nb' } });
    expect(frame).toBe('id: r:2\nevent: content\ndata: {"delta":"a\\nb"}\n\n');
  });
  it('maps run events to the typed union', () => {
    expect(toSseEvent({ runId: 'r', seq: 1, event: { $case: 'started', started: { runId: 'r', userMessageId: 'u', assistantMessageId: 'a' } } })).toEqual({
      id: 'r:1',
      type: 'run',
      data: { runId: 'r', userMessageId: 'u', assistantMessageId: 'a' },
    });
    expect(
      toSseEvent({
        runId: 'r',
        seq: 9,
        event: { $case: 'done', done: { finishReason: FinishReason.FINISH_REASON_LENGTH, usage: { promptTokens: 3, completionTokens: 4 }, messageId: 'a', timings: undefined } },
      }),
    ).toEqual({ id: 'r:9', type: 'done', data: { finishReason: 'length', usage: { promptTokens: 3, completionTokens: 4 }, messageId: 'a', timings: null } });
    expect(toSseEvent({ runId: 'r', seq: 2, event: { $case: 'reasoning', reasoning: { text: 'hm' } } })?.type).toBe('reasoning');
    expect(toSseEvent({ runId: 'r', seq: 2, event: undefined })).toBeUndefined();
  });
});

describe('mapping', () => {
  it('turns Timestamps into ISO strings', () => {
    expect(toIsoTime({ seconds: 1_700_000_000, nanos: 123_456_789 })).toBe('2023-11-14T22:13:20.123Z');
    expect(toIsoTime(undefined)).toBeNull();
  });
  it('maps messages with lowercase enums and nulls for absent values', () => {
    expect(
      toMessageJson({
        id: 'm',
        sessionId: 's',
        role: MessageRole.MESSAGE_ROLE_ASSISTANT,
        content: 'hi',
        reasoning: '',
        status: MessageStatus.MESSAGE_STATUS_STOPPED,
        finishReason: FinishReason.FINISH_REASON_CANCELLED,
        usage: undefined,
        createdAt: undefined,
        runId: '',
        parentId: '',
        siblingIds: ['m'],
        timings: undefined,
      }),
    ).toEqual({
      id: 'm',
      sessionId: 's',
      parentId: null,
      siblingIds: ['m'],
      role: 'assistant',
      content: 'hi',
      reasoning: '',
      status: 'stopped',
      finishReason: 'cancelled',
      usage: null,
      createdAt: null,
      runId: null,
      timings: null,
    });
  });
});

describe('settings mapping', () => {
  it('shows the temperature as saved, not as the 32-bit float the proto carries', () => {
    const settings = { thinking: false, temperature: Math.fround(0.7), maxTokens: 300, theme: Theme.THEME_DARK, language: undefined };
    expect(toUserSettingsJson(settings)).toEqual({ thinking: false, temperature: 0.7, maxTokens: 300, theme: 'dark', language: null });
    // A theme from a newer auth service reads as the system's.
    expect(toUserSettingsJson({ ...settings, theme: 9 as Theme, language: 'zh-CN' })).toMatchObject({ theme: 'system', language: 'zh-CN' });
    expect(() => toUserSettingsJson({ theme: Theme.THEME_SYSTEM })).toThrow(/without their defaults/);
  });

  it('sends only the fields given; a null language is the empty string that clears it', () => {
    expect(toSettingsUpdate({ theme: 'light' })).toEqual({ theme: Theme.THEME_LIGHT });
    expect(toSettingsUpdate({ language: null, maxTokens: 5 })).toMatchObject({ theme: Theme.THEME_UNSPECIFIED, language: '', maxTokens: 5, thinking: undefined });
  });
});

describe('JWKS policy', () => {
  const fetched = { kids: new Set(['k1']), fetchedAt: 1_000 };
  it('fetches first, uses known kids, refetches for an unknown kid at most once per interval', () => {
    expect(decideJwks({ kids: new Set(), fetchedAt: undefined }, 'k1', 0, 30_000)).toBe('fetch');
    expect(decideJwks(fetched, 'k1', 2_000, 30_000)).toBe('use');
    expect(decideJwks(fetched, 'k2', 2_000, 30_000)).toBe('unknown-key');
    expect(decideJwks(fetched, 'k2', 31_000, 30_000)).toBe('fetch');
  });
  it('never asks auth for a token without a kid', () => {
    expect(decideJwks({ kids: new Set(), fetchedAt: undefined }, undefined, 0, 0)).toBe('use');
  });
  it('peeks at the kid without trusting or throwing', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'abc' })).toString('base64url');
    expect(peekKid(`${header}.e30.sig`)).toBe('abc');
    expect(peekKid('not a token')).toBeUndefined();
    expect(peekKid('')).toBeUndefined();
  });
});

describe('web UI fallback', () => {
  it('answers page loads outside /api only', () => {
    expect(isUiNavigation('GET', '/sessions/123')).toBe(true);
    expect(isUiNavigation('HEAD', '/')).toBe(true);
    expect(isUiNavigation('GET', '/api/nope')).toBe(false);
    expect(isUiNavigation('GET', '/api')).toBe(false);
    expect(isUiNavigation('POST', '/whatever')).toBe(false);
  });
});

describe('config', () => {
  it('reads the defaults and the environment', () => {
    const config = loadGatewayConfig({
      env: {
        PORT: '8080',
        FREECHAT_GATEWAY_HOST: '0.0.0.0',
        FREECHAT_AUTH_ADDRESS: 'auth:50051',
        FREECHAT_CHAT_ADDRESS: 'chat:50052',
        FREECHAT_CORS_ORIGINS: 'https://a.example, https://b.example',
      },
    });
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8080, bodyLimitBytes: 65536, corsOrigins: ['https://a.example', 'https://b.example'] });
    expect(config.upstreams).toMatchObject({ auth: 'auth:50051', chat: 'chat:50052', inference: '127.0.0.1:50053' });
    expect(loadGatewayConfig({ env: { FREECHAT_INFERENCE_ADDRESS: 'inference:50053' } }).upstreams.inference).toBe('inference:50053');
    expect(config.models.cacheMs).toBe(30_000);
    expect(config.sse.heartbeatMs).toBe(15_000);
    expect(path.isAbsolute(config.webUi.dir)).toBe(true);
    expect(config.shutdown.graceMs).toBeGreaterThan(0);
  });
  it('names the key that is wrong', () => {
    expect(() => loadGatewayConfig({ env: { PORT: 'eighty' } })).toThrow(/http\.port.*\(from PORT\)/);
    expect(() => loadGatewayConfig({ env: { FREECHAT_CORS_ORIGINS: 'https://a.example/path' } })).toThrow(ConfigError);
    const dir = mkdtempSync(path.join(tmpdir(), 'gateway-config-'));
    writeFileSync(path.join(dir, 'default.yaml'), 'log: {level: info}\nshutdown: {graceMs: 1}\n');
    writeFileSync(path.join(dir, 'gateway.yaml'), 'http: {host: x, port: 1, bodyLimitBytes: 1, corsOrigins: [], typo: 1}\n');
    expect(() => loadGatewayConfig({ configDir: dir, env: {} })).toThrow(/http\.typo: unknown key/);
  });
});

describe('models', () => {
  it('maps ModelInfo to the public shape without server paths', () => {
    const base = { id: 'qwen3', path: '/srv/models/qwen3', maxContextTokens: 4096, maxNewTokensLimit: 2048, maxBatchSize: 8, maxPromptTokens: 3072, kvCachePath: 'shared-buffer', kvCacheBudgetBytes: 2 ** 31, kvCacheReservedBytes: 0, kvCacheAllocatedBytes: 0 };
    expect(toModelJson({ ...base, source: ModelSource.MODEL_SOURCE_BUILT_IN })).toEqual({
      id: 'qwen3',
      source: 'built-in',
      builtIn: true,
      maxContextTokens: 4096,
      maxNewTokensLimit: 2048,
      maxPromptTokens: 3072,
    });
    // An inference service older than the field sends 0: unknown, not a limit of nothing.
    expect(toModelJson({ ...base, maxPromptTokens: 0, source: ModelSource.MODEL_SOURCE_HUB })).toMatchObject({ maxPromptTokens: null });
    expect(toModelJson({ ...base, source: ModelSource.MODEL_SOURCE_HUB })).toMatchObject({ source: 'hub', builtIn: false });
    expect(toModelJson({ ...base, source: ModelSource.MODEL_SOURCE_DIRECTORY })).toMatchObject({ source: 'directory', builtIn: false });
    expect(toModelJson({ ...base, source: ModelSource.MODEL_SOURCE_UNSPECIFIED })).toMatchObject({ source: 'unknown', builtIn: false });
  });

  it('caches an answer for ttlMs, shares one load between concurrent callers, and keeps no failure or unkept answer', async () => {
    expect([isFresh(1_000, 1_999, 1_000), isFresh(1_000, 2_000, 1_000)]).toEqual([true, false]);
    let now = 0;
    let loads = 0;
    let answer: string | Error = 'ready';
    const cache = new CachedValue<string>({
      load: async () => {
        loads++;
        if (answer instanceof Error) throw answer;
        return `${answer}#${loads}`;
      },
      ttlMs: 1_000,
      keep: (value) => value.startsWith('ready'),
      now: () => now,
    });
    expect(await Promise.all([cache.get(), cache.get()])).toEqual(['ready#1', 'ready#1']);
    now = 999;
    expect(await cache.get()).toBe('ready#1');
    now = 1_000;
    answer = new Error('down');
    await expect(cache.get()).rejects.toThrow('down');
    answer = 'loading';
    expect(await cache.get()).toBe('loading#3');
    expect(await cache.get()).toBe('loading#4');
    answer = 'ready';
    expect(await cache.get()).toBe('ready#5');
    expect(await cache.get()).toBe('ready#5');
  });
});
