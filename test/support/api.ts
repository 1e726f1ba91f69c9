// The gateway's JSON API as the end-to-end tests call it: method, path, optional body and token in;
// status and parsed JSON out (never throws on an error status).

export type JsonApi = (method: string, url: string, body?: unknown, token?: string) => Promise<{ status: number; json: any }>;

export function jsonApi(baseUrl: string): JsonApi {
  return async (method, url, body, token) => {
    const response = await fetch(`${baseUrl}${url}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
}
