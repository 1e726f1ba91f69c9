// The OpenAPI document: valid 3.1, complete (every /api route), honest about which operations need
// the bearer token (the gateway refuses exactly those without one), served without login, with the
// browsable reference beside it; and the committed copies (docs/openapi.json, the web UI's generated
// types) equal to what `npm run api:types` would write now. No backend needed: nothing here reaches
// an upstream (refusals happen at the edge).
import { readFileSync } from 'node:fs';
import { validate } from '@readme/openapi-parser';
import { createLogger } from '@freechat/shared';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_DOCUMENT_FILE, API_TYPES_FILE, REGENERATE_COMMAND, renderApiDocument, renderApiTypes } from '../../../scripts/api-types.js';
import { buildApp } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';
import { API_DOCS_PREFIX, describeResponsesByStatus, hoistNamedSchemas, OPENAPI_PATH, requiresAuthentication } from '../src/openapi-document.js';
import { buildOpenApiDocument } from '../src/openapi-snapshot.js';

interface Operation {
  readonly summary?: string;
  readonly tags?: string[];
  readonly security?: Record<string, string[]>[];
  readonly requestBody?: unknown;
  readonly responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

const logger = createLogger({ service: 'gateway-test', level: 'silent' });
let app: FastifyInstance;
let document: Document;
/** Every route the app registered, as fastify saw it. */
const registered: { method: string; url: string }[] = [];

beforeAll(async () => {
  app = buildApp({ config: loadGatewayConfig({ env: {} }), logger });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push({ method, url: route.url });
  });
  await app.ready();
  document = app.swagger() as unknown as Document;
});
afterAll(async () => {
  await app?.close();
});

/** `/api/sessions/:id` as OpenAPI spells it. */
const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const operations = () =>
  Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (and the validator does refuse a broken document)', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    const broken = structuredClone(document) as unknown as { paths: Record<string, unknown> };
    broken.paths['/api/broken'] = { get: { responses: { 200: { content: 'not a media map' } } } };
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('describes every route the app registers under /api, each with a summary and its route group as tag', () => {
    const apiRoutes = registered.filter(({ method, url }) => method !== 'HEAD' && url.startsWith('/api/') && !url.startsWith(API_DOCS_PREFIX));
    expect(apiRoutes.length).toBeGreaterThan(15);
    for (const { method, url } of apiRoutes) {
      const operation = document.paths[openapiPath(url)]?.[method.toLowerCase()];
      expect(operation, `${method} ${url}`).toBeDefined();
      expect(operation?.summary, `${method} ${url} summary`).toBeTruthy();
      expect(operation?.tags, `${method} ${url} tags: app.addHook('onRoute', tagRoutes(…)) in its route plugin`).toHaveLength(1);
    }
    // The reference page's own routes are not part of the API.
    expect(Object.keys(document.paths).filter((path) => path.startsWith(API_DOCS_PREFIX))).toEqual([]);
  });

  it('requires the bearer token on exactly the operations the gateway refuses without one', async () => {
    expect(document.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    const secured: string[] = [];
    for (const { path, method, operation } of operations().filter(({ path }) => path.startsWith('/api/'))) {
      const url = path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      const response = await app.inject({ method: method.toUpperCase() as 'GET', url, ...(operation.requestBody !== undefined && { payload: {} }) });
      const refusedForNoToken = response.statusCode === 401 && /missing bearer access token/.test(response.body);
      // A route plugin authenticating with app.addHook('onRequest', …) hides it from the document: use authenticateEveryRoute(app).
      expect(refusedForNoToken, `${method.toUpperCase()} ${path} (documented ${operation.security ? 'with' : 'without'} bearer): ${response.statusCode} ${response.body}`).toBe(
        operation.security !== undefined,
      );
      if (operation.security) {
        expect(operation.security).toEqual([{ bearer: [] }]);
        secured.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(secured).toContain('GET /api/me');
    expect(secured).toContain('POST /api/sessions/{id}/messages');
    expect(secured).not.toContain('POST /api/auth/login');
  });

  it('names the shared shapes, documents errors by status and event streams as text/event-stream', () => {
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Session', 'Message', 'User', 'Error', 'UsageReport', 'Models', 'RunStartedEvent', 'TextDeltaEvent', 'RunDoneEvent', 'RunErrorEvent']));
    const getSession = document.paths['/api/sessions/{id}']!['get']!;
    expect(getSession.responses['200']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } } });
    expect(getSession.responses['404']).toMatchObject({ description: 'Not Found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    for (const [path, method] of [['/api/sessions/{id}/messages', 'post'], ['/api/sessions/{id}/regenerate', 'post'], ['/api/runs/{runId}/events', 'get']] as const) {
      expect(Object.keys(document.paths[path]![method]!.responses['200']!.content ?? {}), `${method} ${path}`).toEqual(['text/event-stream']);
    }
  });

  it('is served at GET /api/openapi.json without login, cacheable', async () => {
    const response = await app.inject({ method: 'GET', url: OPENAPI_PATH });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toMatch(/max-age=\d+/);
    expect(response.json()).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('has a reference page at /api/docs whose scripts and styles come from this gateway', async () => {
    const page = await app.inject({ method: 'GET', url: API_DOCS_PREFIX });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.filter((asset) => asset.endsWith('.js')).length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset, 'a local path, no CDN').toMatch(/^\/api\/docs\//);
      expect((await app.inject({ method: 'GET', url: asset })).statusCode, asset).toBe(200);
    }
  });
});

describe('the committed copies', () => {
  it(`docs/openapi.json and web-ui/src/api/openapi.gen.ts are what the routes say now (else: run ${REGENERATE_COMMAND})`, async () => {
    const fresh = await buildOpenApiDocument();
    expect(readFileSync(API_DOCUMENT_FILE, 'utf8'), `docs/openapi.json is stale: run ${REGENERATE_COMMAND}`).toBe(renderApiDocument(fresh));
    expect(readFileSync(API_TYPES_FILE, 'utf8'), `web-ui/src/api/openapi.gen.ts is stale: run ${REGENERATE_COMMAND}`).toBe(await renderApiTypes(fresh));
  });
});

describe('pure steps', () => {
  it('requiresAuthentication finds the hook among a route’s own onRequest hooks', () => {
    const authenticate = async () => {};
    expect(requiresAuthentication(authenticate, authenticate)).toBe(true);
    expect(requiresAuthentication([async () => {}, authenticate], authenticate)).toBe(true);
    expect(requiresAuthentication(undefined, authenticate)).toBe(false);
    expect(requiresAuthentication([async () => {}], authenticate)).toBe(false);
  });

  it('hoistNamedSchemas replaces inline copies of a named schema, also inside other named schemas, but not the schema itself', () => {
    const usage = { type: 'object', properties: { tokens: { type: 'integer' } } };
    const hoisted = hoistNamedSchemas({
      paths: { '/a': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'array', items: usage } } } } } } } },
      components: { schemas: { Usage: usage, Report: { type: 'object', properties: { usage, other: { type: 'object', properties: { tokens: { type: 'string' } } } } } } },
    });
    expect(hoisted.paths).toEqual({
      '/a': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Usage' } } } } } } } },
    });
    expect(hoisted.components.schemas).toEqual({
      Usage: usage,
      Report: { type: 'object', properties: { usage: { $ref: '#/components/schemas/Usage' }, other: { type: 'object', properties: { tokens: { type: 'string' } } } } },
    });
  });

  it('describeResponsesByStatus names responses @fastify/swagger left as "Default Response"', () => {
    const described = describeResponsesByStatus({
      paths: { '/a': { get: { responses: { 404: { description: 'Default Response' }, 200: { description: 'The thing' } } } } },
    });
    expect(described.paths).toEqual({ '/a': { get: { responses: { 404: { description: 'Not Found' }, 200: { description: 'The thing' } } } } });
  });
});
