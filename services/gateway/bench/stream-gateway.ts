// Child process of the streaming benchmark: the gateway alone, so its RSS is its own. Same settings
// as the test stack's gateway (testGatewayConfig), pointed at a stream-backend.ts process.
import { createLogger } from '@freechat/shared';
import { loadGatewayConfig, startGatewayServer } from '../src/index.js';
import { testGatewayConfig } from '../test/support/gateway-config.js';
import { childEnv, metricsAddressFor, send, serveParent, tracingFor } from './stream-child.js';

const env = childEnv();
const tracing = tracingFor(env, 'gateway');
const base = loadGatewayConfig({
  env: {
    PORT: '0',
    FREECHAT_GATEWAY_HOST: '127.0.0.1',
    FREECHAT_AUTH_ADDRESS: process.env['BENCH_AUTH_ADDRESS']!,
    FREECHAT_CHAT_ADDRESS: process.env['BENCH_CHAT_ADDRESS']!,
    FREECHAT_INFERENCE_ADDRESS: process.env['BENCH_INFERENCE_ADDRESS']!,
  },
});
// On the config itself: loadConfig skips an empty FREECHAT_GATEWAY_METRICS_ADDRESS.
const config = { ...testGatewayConfig(base), metrics: { address: metricsAddressFor(env.mode) } };
const gateway = await startGatewayServer({ config, logger: createLogger({ service: 'gateway', level: 'silent' }) });
serveParent(async () => {
  await gateway.close();
  await tracing.shutdown();
});
send({ type: 'ready', info: { url: gateway.url, metricsUrl: gateway.metricsUrl, tracing: tracing.enabled } });
