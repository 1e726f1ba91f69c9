// Process entry point of the gateway: listening means ready (readiness of upstreams is /readyz).
import { runServiceMain } from '@freechat/shared';
import { loadGatewayConfig } from './config.js';
import { startGatewayServer } from './server.js';

runServiceMain({
  service: 'gateway',
  loadConfig: loadGatewayConfig,
  start: async (config, logger) => {
    const server = await startGatewayServer({ config, logger });
    return { ready: Promise.resolve(), close: () => server.close() };
  },
});
