// Child process of the streaming benchmark: PostgreSQL, inference (the scripted engine), auth and
// chat, started by the test stack (its own gateway stays idle; the benchmark's gateway runs in a
// process of its own, stream-gateway.ts). Telemetry as BENCH_TELEMETRY says.
import { childEnv, metricsAddressFor, send, serveParent, tracingFor } from './stream-child.js';
import { startStack } from '../test/support/stack.js';
import { scriptedEngineFactory } from './scripted-engine.js';

const env = childEnv();
// Before the servers start, as a service's main does; one process, so one service.name for all four.
const tracing = tracingFor(env, 'bench-backend');
const stack = await startStack({ engineFactory: scriptedEngineFactory, generatedTitles: false, metricsAddress: metricsAddressFor(env.mode), logLevel: 'silent' });
serveParent(async () => {
  await stack.close();
  await tracing.shutdown();
});
send({
  type: 'ready',
  info: {
    auth: stack.auth.address,
    chat: stack.chat.address,
    inference: stack.inference.address,
    tracing: tracing.enabled,
    metricsUrls: [stack.auth.metricsUrl, stack.chat.metricsUrl, stack.inference.metricsUrl].filter(Boolean),
  },
});
