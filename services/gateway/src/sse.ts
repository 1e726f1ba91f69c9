// Server-Sent Events: one typed event union, frames, heartbeats, backpressure, and the relay from a
// gRPC run stream. A client that goes away is a normal case: its gRPC call is cancelled, which
// detaches it from the run without stopping the run.
import type { ServerResponse } from 'node:http';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import type { FastifyBaseLogger } from 'fastify';
import { classifyError } from './errors.js';
import { toSseEvent } from './mapping.js';
import type { FinishReasonJson, UsageJson } from './schemas.js';

export type SseEvent =
  | { id: string; type: 'run'; data: { runId: string; userMessageId: string; assistantMessageId: string } }
  | { id: string; type: 'reasoning'; data: { delta: string } }
  | { id: string; type: 'content'; data: { delta: string } }
  | { id: string; type: 'done'; data: { finishReason: FinishReasonJson | null; usage: UsageJson | null; messageId: string } }
  | { id: string; type: 'error'; data: { code: string; message: string } };

export const HEARTBEAT_FRAME = ': ping\n\n';

/** JSON never contains a raw newline, so every event is exactly one `data:` line. An empty id writes no `id:` line. */
export function formatSseEvent(event: SseEvent): string {
  const id = event.id ? `id: ${event.id}\n` : '';
  return `${id}event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // nginx and similar proxies would otherwise buffer the stream.
  'x-accel-buffering': 'no',
} as const;

/** The first thing a run stream said: an event to start with, an error to answer with, or nothing at all. */
export type StreamStart = { kind: 'event'; event: RunEvent } | { kind: 'error'; error: unknown } | { kind: 'ended' } | { kind: 'quiet' };

/**
 * Waits for the upstream's first word so that errors before any event (not found, bad input)
 * become ordinary JSON answers. After `quietMs` without one, the stream is opened anyway.
 */
export function awaitStreamStart(call: ClientReadableStream<RunEvent>, quietMs: number | undefined): Promise<StreamStart> {
  return new Promise((resolve) => {
    const settle = (start: StreamStart): void => {
      clearTimeout(timer);
      call.off('data', onData);
      call.off('error', onError);
      call.off('end', onEnd);
      resolve(start);
    };
    // Paused before the listener goes, so no event falls between this and the relay.
    const onData = (event: RunEvent): void => {
      call.pause();
      settle({ kind: 'event', event });
    };
    const onError = (error: unknown): void => settle({ kind: 'error', error });
    const onEnd = (): void => settle({ kind: 'ended' });
    const timer =
      quietMs === undefined
        ? undefined
        : setTimeout(() => {
            call.pause();
            settle({ kind: 'quiet' });
          }, quietMs);
    call.on('data', onData);
    call.once('error', onError);
    call.once('end', onEnd);
  });
}

/** Open event streams, so shutdown can end them politely before the server stops. */
export class SseRegistry {
  private readonly streams = new Set<() => void>();

  /** A `: ping` comment this often keeps proxies from closing a quiet stream. */
  constructor(readonly heartbeatMs: number) {}

  add(end: () => void): () => void {
    this.streams.add(end);
    return () => this.streams.delete(end);
  }

  get size(): number {
    return this.streams.size;
  }

  endAll(): void {
    for (const end of [...this.streams]) end();
  }
}

export interface RelayRunOptions {
  readonly raw: ServerResponse;
  readonly call: ClientReadableStream<RunEvent>;
  /** Already read by awaitStreamStart; written first. */
  readonly first: RunEvent | undefined;
  /** The id a client already has (`<runId>:<seq>`), for an error before any new event. */
  readonly resumedFrom?: string;
  readonly registry: SseRegistry;
  /** Headers already set on the reply (CORS), kept when the stream takes over the response. */
  readonly headers?: Readonly<Record<string, number | string | string[] | undefined>>;
  readonly logger: FastifyBaseLogger;
}

/** Writes the response head and relays the run until it ends, the client leaves, or the server shuts down. */
export function relayRun(options: RelayRunOptions): Promise<void> {
  const { raw, call, registry, logger } = options;
  return new Promise((resolve) => {
    let finished = false;
    let lastId = options.resumedFrom ?? '';

    let waitingForDrain = false;
    const write = (frame: string): void => {
      if (finished || raw.destroyed) return;
      // Backpressure: a slow reader pauses the gRPC stream, which in turn slows the upstream.
      if (!raw.write(frame) && !waitingForDrain) {
        waitingForDrain = true;
        call.pause();
        raw.once('drain', () => {
          waitingForDrain = false;
          call.resume();
        });
      }
    };
    const send = (event: RunEvent): void => {
      const sse = toSseEvent(event);
      if (!sse) return;
      lastId = sse.id;
      write(formatSseEvent(sse));
    };
    const finish = (detach: boolean): void => {
      if (finished) return;
      finished = true;
      clearInterval(heartbeat);
      unregister();
      call.off('data', send);
      // Cancelling our call only detaches this reader; the run itself goes on (chat's contract).
      if (detach) call.cancel();
      if (!raw.destroyed && !raw.writableEnded) raw.end();
      resolve();
    };

    raw.writeHead(200, { ...options.headers, ...SSE_HEADERS });
    raw.flushHeaders();
    const unregister = registry.add(() => {
      write(': server shutting down; reconnect with Last-Event-ID\n\n');
      finish(true);
    });
    const heartbeat = setInterval(() => write(HEARTBEAT_FRAME), registry.heartbeatMs);
    raw.on('close', () => finish(true));

    if (options.first) send(options.first);
    call.on('data', send);
    call.once('end', () => finish(false));
    call.once('error', (error: unknown) => {
      if (finished || (error as { code?: number }).code === GrpcStatus.CANCELLED) return finish(false);
      const { apiError, unexpected } = classifyError(error);
      if (unexpected) logger.error({ err: error }, 'run stream failed upstream');
      // Not a run event, so it reuses the last id: a reconnect resumes exactly where the log left off.
      write(formatSseEvent({ id: lastId, type: 'error', data: { code: apiError.code, message: apiError.message } }));
      finish(false);
    });
    call.resume();
  });
}
