// The OpenAPI 3.1 document's fixed parts and the pure steps that shape what @fastify/swagger
// collects from the routes' TypeBox schemas: the bearer requirement of authenticated routes, and
// the named shapes (components.schemas) that inline copies are replaced by, so readers and the
// generated client types see `Session`, not the same object spelled out twenty times.
import { STATUS_CODES } from 'node:http';
import { isDeepStrictEqual } from 'node:util';

export const OPENAPI_PATH = '/api/openapi.json';
export const API_DOCS_PREFIX = '/api/docs';
export const BEARER_SCHEME = 'bearer';
const COMPONENT_REF = '#/components/schemas/';

export const OPENAPI_INFO = {
  title: 'Free Chat API',
  version: '1',
  description:
    'The public HTTP API of the Free Chat gateway. Errors are `{"error":{"code","message"}}`. Sign in with ' +
    '`POST /api/auth/login` (or register), then send the `accessToken` as `Authorization: Bearer <token>`; the refresh ' +
    'token travels only in an HttpOnly cookie (`POST /api/auth/refresh`). Answers stream as Server-Sent Events.',
} as const;

export const SECURITY_SCHEMES = {
  [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token from login, register or refresh.' },
} as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Pure: whether a route's own onRequest hooks include `authenticate`. */
export function requiresAuthentication(onRequest: unknown, authenticate: unknown): boolean {
  return ([onRequest ?? []].flat() as unknown[]).includes(authenticate);
}

/**
 * Pure: the document with every subschema equal to one of `components`' (after the same conversion
 * by @fastify/swagger) replaced by a `$ref` to it, inside paths and inside the other components.
 */
export function hoistNamedSchemas<T extends { paths?: unknown; components?: { schemas?: Record<string, unknown> } }>(document: T): T {
  const named = Object.entries(document.components?.schemas ?? {}) as [string, Json][];
  const replace = (value: Json, self?: string): Json => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => replace(item));
    const match = named.find(([name, schema]) => name !== self && isDeepStrictEqual(schema, value));
    if (match) return { $ref: `${COMPONENT_REF}${match[0]}` };
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replace(item)]));
  };
  return {
    ...document,
    paths: replace(document.paths as Json),
    components: {
      ...document.components,
      schemas: Object.fromEntries(named.map(([name, schema]) => [name, replace(schema, name)])),
    },
  };
}

/** @fastify/swagger's description of a response whose schema has none. */
const DEFAULT_DESCRIPTION = 'Default Response';

/**
 * Pure: every response @fastify/swagger described as "Default Response" described by its status
 * instead ("Not Found"); the error responses share one schema, so their status says what they are.
 */
export function describeResponsesByStatus<T extends { paths?: unknown }>(document: T): T {
  const paths = (document.paths ?? {}) as Record<string, Record<string, { responses?: Record<string, { description?: string }> }>>;
  return {
    ...document,
    paths: Object.fromEntries(
      Object.entries(paths).map(([url, operations]) => [
        url,
        Object.fromEntries(
          Object.entries(operations).map(([method, operation]) => [
            method,
            operation.responses === undefined
              ? operation
              : {
                  ...operation,
                  responses: Object.fromEntries(
                    Object.entries(operation.responses).map(([status, response]) => [
                      status,
                      response.description === DEFAULT_DESCRIPTION ? { ...response, description: STATUS_CODES[status] ?? status } : response,
                    ]),
                  ),
                },
          ]),
        ),
      ]),
    ),
  };
}

/** An onRoute hook: the plugin's routes appear under `tag` in the reference (one tag per route group). */
export const tagRoutes =
  (tag: string) =>
  (route: { schema?: object }): void => {
    route.schema = { tags: [tag], ...route.schema };
  };
