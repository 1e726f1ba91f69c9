// The gateway's OpenAPI document without a running server: the app is built (nothing listens, no
// upstream is called: gRPC channels connect lazily), made ready, asked for its document, closed.
// For scripts/gen-api-types.ts (docs/openapi.json, the web UI's types) and the test that keeps them current.
import { createLogger } from '@freechat/shared';
import { buildApp } from './app.js';
import { loadGatewayConfig } from './config.js';

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  // The shipped defaults (config/*.yaml) alone: the document must not depend on who runs the script.
  const app = buildApp({ config: loadGatewayConfig({ env: {} }), logger: createLogger({ service: 'gateway-openapi', level: 'silent' }) });
  try {
    await app.ready();
    return structuredClone(app.swagger()) as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
