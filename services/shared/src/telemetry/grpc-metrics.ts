// gRPC call metrics for every server (createGrpcServer's interceptor) and every client (the channel
// provider), in the labels of go-grpc-prometheus: grpc_service, grpc_method, grpc_type, grpc_code.
// Method paths outside the served/called definitions become `unknown`, so labels stay bounded.
import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';

export const GRPC_LABELS = ['grpc_service', 'grpc_method', 'grpc_type', 'grpc_code'] as const;

/** Streams last as long as an answer does, so the buckets reach minutes. */
export const GRPC_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export type GrpcType = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';

interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

export interface GrpcMetrics {
  readonly serverHandled: Counter<(typeof GRPC_LABELS)[number]>;
  readonly serverHandlingSeconds: Histogram<(typeof GRPC_LABELS)[number]>;
  readonly clientHandled: Counter<(typeof GRPC_LABELS)[number]>;
  readonly clientHandlingSeconds: Histogram<(typeof GRPC_LABELS)[number]>;
  /** Counts and times every call a server handles whose service is in `services` (fully-qualified names). */
  serverInterceptor(services: readonly string[]): grpc.ServerInterceptor;
  /** Call when a client call starts; call the result once with the status it ended with. */
  clientCall(method: MethodShape): (code: grpc.status) => void;
}

export function defineGrpcMetrics(registry: Registry): GrpcMetrics {
  const labelNames = GRPC_LABELS;
  const serverHandled = new Counter({ name: 'freechat_grpc_server_handled_total', help: 'gRPC calls this server finished, by service, method, type and status code.', labelNames, registers: [registry] });
  const serverHandlingSeconds = new Histogram({ name: 'freechat_grpc_server_handling_seconds', help: 'Time from a call arriving to its status being sent (whole stream for streaming calls).', labelNames, buckets: GRPC_SECONDS_BUCKETS, registers: [registry] });
  const clientHandled = new Counter({ name: 'freechat_grpc_client_handled_total', help: 'gRPC calls this process made that finished, by service, method, type and status code.', labelNames, registers: [registry] });
  const clientHandlingSeconds = new Histogram({ name: 'freechat_grpc_client_handling_seconds', help: 'Time from a call starting to its status arriving (whole stream for streaming calls).', labelNames, buckets: GRPC_SECONDS_BUCKETS, registers: [registry] });

  const observe = (counter: Counter<string>, histogram: Histogram<string>, method: MethodShape, known: (service: string) => boolean) => {
    const [service, name] = splitPath(method.path);
    const base = known(service)
      ? { grpc_service: service, grpc_method: name, grpc_type: grpcType(method) }
      : { grpc_service: 'unknown', grpc_method: 'unknown', grpc_type: grpcType(method) };
    const start = performance.now();
    let done = false;
    return (code: grpc.status): void => {
      if (done) return;
      done = true;
      const labels = { ...base, grpc_code: grpc.status[code] ?? 'UNKNOWN' };
      counter.inc(labels);
      histogram.observe(labels, (performance.now() - start) / 1000);
    };
  };

  return {
    serverHandled,
    serverHandlingSeconds,
    clientHandled,
    clientHandlingSeconds,
    serverInterceptor(services) {
      const served = new Set([...services, 'grpc.health.v1.Health']);
      return (descriptor, call) => {
        const finish = observe(serverHandled, serverHandlingSeconds, descriptor, (s) => served.has(s));
        return new grpc.ServerInterceptingCall(call, {
          // A call the client cancels never sends a status: count it as CANCELLED.
          start: (next) => next({ onCancel: () => finish(grpc.status.CANCELLED) }),
          sendStatus: (status, next) => {
            finish(status.code);
            next(status);
          },
        });
      };
    },
    // The channel provider only calls methods of generated clients: every path is a real one.
    clientCall: (method) => observe(clientHandled, clientHandlingSeconds, method, () => true),
  };
}

function splitPath(path: string): [string, string] {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? [match[1]!, match[2]!] : ['unknown', 'unknown'];
}

function grpcType(method: Pick<MethodShape, 'requestStream' | 'responseStream'>): GrpcType {
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}
