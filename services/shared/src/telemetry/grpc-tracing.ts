// A server span for every handled gRPC call, child of the caller's W3C trace context (metadata).
// The handler runs inside the span, so its database calls, outgoing calls and log lines join it.
import type { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { extractTraceContext, SpanKind, startSpan, tracingEnabled, withContext } from './tracing.js';

type Handler = (this: unknown, call: EventEmitter & { metadata: grpc.Metadata }, callback?: (...args: unknown[]) => unknown) => unknown;

/** `implementation` with every method traced; unchanged when tracing is off. */
export function traceGrpcImplementation(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
): grpc.UntypedServiceImplementation {
  if (!tracingEnabled()) return implementation;
  const traced: grpc.UntypedServiceImplementation = {};
  for (const [key, handler] of Object.entries(implementation)) {
    const method = definition[key];
    traced[key] = method ? (traceHandler(method.path, handler as unknown as Handler) as unknown as grpc.UntypedHandleCall) : handler;
  }
  return traced;
}

function traceHandler(path: string, handler: Handler): Handler {
  // `/freechat.chat.v1.ChatService/SendMessage` → span `freechat.chat.v1.ChatService/SendMessage`
  const name = path.replace(/^\//, '');
  const [service, method] = name.split('/');
  return function (this: unknown, call, callback) {
    const handle = startSpan(name, {
      kind: SpanKind.SERVER,
      parent: extractTraceContext(call.metadata),
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service!, 'rpc.method': method! },
    });
    // The first word ends the span: a cancelled stream still emits `finish` or `error` afterwards.
    let ended = false;
    const end = (code: number, details?: string): void => {
      if (ended) return;
      ended = true;
      handle.span.setAttribute('rpc.grpc.status_code', code);
      handle.end(code === grpc.status.OK ? undefined : `${grpc.status[code] ?? code}${details ? `: ${details}` : ''}`);
    };
    const codeOf = (error: unknown): number => {
      const code = (error as { code?: unknown } | null)?.code;
      return typeof code === 'number' ? code : grpc.status.UNKNOWN;
    };
    call.once('cancelled', () => end(grpc.status.CANCELLED));
    if (typeof callback === 'function') {
      const done = (error: unknown, ...rest: unknown[]): unknown => {
        end(error ? codeOf(error) : grpc.status.OK, (error as { details?: string } | null)?.details);
        return callback(error, ...rest);
      };
      return withContext(handle.context, () => handler.call(this, call, done));
    }
    // Streams: an error (emitted or destroyed) precedes `finish`.
    call.once('error', (error: unknown) => end(codeOf(error), (error as { details?: string }).details));
    call.once('finish', () => end(grpc.status.OK));
    return withContext(handle.context, () => handler.call(this, call));
  };
}
