// The container health probe every image runs (Dockerfile HEALTHCHECK): one check, exit 0 healthy,
// 1 not. `grpc://host:port` asks the standard gRPC health service; `http://…` wants a 2xx.
//
//   node services/shared/dist/healthcheck.js grpc://127.0.0.1:50051
//   node services/shared/dist/healthcheck.js http://127.0.0.1:3000/readyz
import { checkGrpcHealth } from './grpc-health-client.js';

const TIMEOUT_MS = 3_000;

export async function probe(target: string): Promise<{ healthy: boolean; detail: string }> {
  if (target.startsWith('grpc://')) {
    const state = await checkGrpcHealth(target.slice('grpc://'.length), { timeoutMs: TIMEOUT_MS });
    return { healthy: state === 'SERVING', detail: state };
  }
  if (target.startsWith('http://') || target.startsWith('https://')) {
    try {
      const response = await fetch(target, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      return { healthy: response.ok, detail: `HTTP ${response.status}` };
    } catch (error) {
      return { healthy: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }
  throw new Error(`expected grpc://host:port or http(s)://…, got ${JSON.stringify(target)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2] ?? process.env['FREECHAT_HEALTHCHECK'] ?? '';
  probe(target).then(
    ({ healthy, detail }) => {
      process.stdout.write(`${target}: ${detail}\n`);
      process.exit(healthy ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
