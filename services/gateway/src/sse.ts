// Server-Sent Events: one typed event union, frames, heartbeats, backpressure, and the relay from a
// gRPC run stream. A client that goes away is a normal case: its gRPC call is cancelled, which
// detaches it from the run without stopping the run.
import type { ServerResponse } from 'node:http';
import { status as GrpcStatus, type ClientReadableStream, type Metadata } from '@grpc/grpc-js';
import { ATTACH_LIVE, ATTACH_STATE_KEY } from '@freechat/shared';
import type { RunEvent } from '@freechat/proto/freechat/chat/v1/chat';
import type { FastifyBaseLogger } from 'fastify';
import type { Static } from 'typebox';
import { classifyError } from './errors.js';
import { toSseEvent } from './mapping.js';
import type { RunDoneEventSchema, RunErrorEventSchema, RunStartedEventSchema, TextDeltaEventSchema } from './schemas.js';
import type { GatewayMetrics } from './metrics.js';
import { requestArrivals } from './plugins/external/http-metrics.js';

// Event data as schemas.ts declares it (and the OpenAPI document names it).
export type SseEvent =
  | { id: string; type: 'run'; data: Static<typeof RunStartedEventSchema> }
  | { id: string; type: 'reasoning'; data: Static<typeof TextDeltaEventSchema> }
  | { id: string; type: 'content'; data: Static<typeof TextDeltaEventSchema> }
  | { id: string; type: 'done'; data: Static<typeof RunDoneEventSchema> }
  | { id: string; type: 'error'; data: Static<typeof RunErrorEventSchema> };

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
 * become ordinary JSON answers. Chat's `freechat-attach: live` metadata (a reader attached to a run
 * that is still going) opens the stream at once; after `quietMs` without any word it is opened anyway.
 */
export function awaitStreamStart(call: ClientReadableStream<RunEvent>, quietMs: number | undefined): Promise<StreamStart> {
  return new Promise((resolve) => {
    const settle = (start: StreamStart): void => {
      clearTimeout(timer);
      call.off('data', onData);
      call.off('error', onError);
      call.off('end', onEnd);
      call.off('metadata', onMetadata);
      resolve(start);
    };
    const onMetadata = (metadata: Metadata): void => {
      if (metadata.get(ATTACH_STATE_KEY)[0] !== ATTACH_LIVE) return;
      call.pause();
      settle({ kind: 'quiet' });
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
    call.on('metadata', onMetadata);
  });
}

/** Open event streams, so shutdown can end them politely before the server stops. */
export class SseRegistry {
  private readonly streams = new Set<() => void>();

  /** A `: ping` comment this often keeps proxies from closing a quiet stream. */
  constructor(
    readonly heartbeatMs: number,
    /** Stream, event, hop and token-timing metrics of every relayed stream. */
    readonly metrics?: GatewayMetrics,
  ) {}

  add(end: () => void): () => void {
    this.streams.add(end);
    this.metrics?.sseStreamsActive.inc();
    return () => {
      if (this.streams.delete(end)) this.metrics?.sseStreamsActive.dec();
    };
  }

  get size(): number {
    return this.streams.size;
  }

  endAll(): void {
    for (const end of [...this.streams]) end();
  }
}

/**
 * When the chat replica serving a stream goes away mid-run, the gateway attaches again (another
 * replica serves the same run from the shared log) instead of failing the client: retried with
 * backoff for this long, then the client gets the `error` event.
 */
export const REATTACH_WINDOW_MS = 15_000;
const REATTACH_BACKOFF_MS = [100, 250, 500, 1_000, 2_000];

export interface RelayRunOptions {
  readonly raw: ServerResponse;
  readonly call: ClientReadableStream<RunEvent>;
  /** Attaches to the run again after `afterSeq`; without it an upstream failure ends the stream. */
  readonly reattach?: (runId: string, afterSeq: number) => ClientReadableStream<RunEvent>;
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
  const { raw, registry, logger } = options;
  const metrics = registry.metrics;
  let call = options.call;
  // A resume replays events appended long ago: their run-log → gateway hop is not a latency.
  const resumed = Boolean(options.resumedFrom);
  if (resumed) metrics?.sseResumes.inc();
  // Time to first token counts from a send or regenerate arriving (POST); a GET attaches to a run already going.
  const arrivedAt = raw.req?.method === 'POST' ? requestArrivals.get(raw.req) : undefined;
  let lastTokenAt: number | undefined;
  return new Promise((resolve) => {
    let finished = false;
    let lastId = options.resumedFrom ?? '';
    // Where a re-attach continues from: the last event this client was sent.
    let position: { runId: string; seq: number } | undefined = parseId(lastId);
    let lostAt: number | undefined;
    let attempt = 0;
    let retryTimer: NodeJS.Timeout | undefined;

    let waitingForDrain = false;
    const write = (frame: string, type: SseEvent['type'] | 'ping' | undefined, receivedAt?: number): void => {
      if (finished || raw.destroyed) return;
      if (type) metrics?.sseEventsSent.inc({ event: type });
      // The callback runs once the frame is handed to the socket: the gateway → socket hop's end.
      const flushed = metrics && receivedAt !== undefined ? () => written(receivedAt) : undefined;
      // Backpressure: a slow reader pauses the gRPC stream, which in turn slows the upstream.
      if (!raw.write(frame, flushed) && !waitingForDrain) {
        waitingForDrain = true;
        call.pause();
        raw.once('drain', () => {
          waitingForDrain = false;
          call.resume();
        });
      }
    };
    /** A token-carrying frame reached the socket: hop, residence, time to first token, gap since the last one. */
    const written = (receivedAt: number): void => {
      if (!metrics) return;
      const now = performance.now();
      const residence = (now - receivedAt) / 1000;
      metrics.stream.hopSeconds.observe({ hop: 'gateway_to_socket' }, residence);
      metrics.stream.residenceSeconds.observe(residence);
      if (lastTokenAt === undefined) {
        if (arrivedAt !== undefined) metrics.timeToFirstTokenSeconds.observe((now - arrivedAt) / 1000);
      } else metrics.interTokenGapSeconds.observe((now - lastTokenAt) / 1000);
      lastTokenAt = now;
    };
    const send = (event: RunEvent): void => {
      const sse = toSseEvent(event);
      if (!sse) return;
      lastId = sse.id;
      position = { runId: event.runId, seq: event.seq };
      lostAt = undefined;
      attempt = 0;
      const delta = event.event?.$case === 'content' ? event.event.content : event.event?.$case === 'reasoning' ? event.event.reasoning : undefined;
      if (delta && metrics && !resumed && delta.appendedAt) {
        metrics.stream.observeHop('run_log_to_gateway', delta.appendedAt.seconds * 1000 + delta.appendedAt.nanos / 1e6, Date.now());
      }
      write(formatSseEvent(sse), sse.type, delta ? performance.now() : undefined);
    };
    const finish = (detach: boolean): void => {
      if (finished) return;
      finished = true;
      clearInterval(heartbeat);
      clearTimeout(retryTimer);
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
      write(': server shutting down; reconnect with Last-Event-ID\n\n', undefined);
      finish(true);
    });
    const heartbeat = setInterval(() => write(HEARTBEAT_FRAME, 'ping'), registry.heartbeatMs);
    raw.on('close', () => {
      // Closed before the run's end reached it: the client went away mid-stream.
      if (!finished) metrics?.sseClientDisconnects.inc();
      finish(true);
    });

    const fail = (error: unknown): void => {
      const { apiError, unexpected } = classifyError(error);
      if (unexpected) logger.error({ err: error }, 'run stream failed upstream');
      // Not a run event, so it reuses the last id: a reconnect resumes exactly where the log left off.
      write(formatSseEvent({ id: lastId, type: 'error', data: { code: apiError.code, message: apiError.message } }), 'error');
      finish(false);
    };
    const bind = (current: ClientReadableStream<RunEvent>): void => {
      // A failed call may still emit 'end' after its 'error': only a live call's end ends the relay.
      let failed = false;
      current.on('data', send);
      current.once('end', () => {
        if (current === call && !failed) finish(false);
      });
      current.once('error', (error: unknown) => {
        failed = true;
        if (current !== call || finished) return;
        if ((error as { code?: number }).code === GrpcStatus.CANCELLED) return finish(false);
        current.off('data', send);
        const now = Date.now();
        lostAt ??= now;
        const retryable = (error as { code?: number }).code === GrpcStatus.UNAVAILABLE && options.reattach && position;
        if (!retryable || now - lostAt > REATTACH_WINDOW_MS) return fail(error);
        const delay = REATTACH_BACKOFF_MS[Math.min(attempt++, REATTACH_BACKOFF_MS.length - 1)]!;
        if (attempt === 1) logger.warn({ runId: position!.runId, afterSeq: position!.seq }, 'run stream lost upstream; attaching again');
        retryTimer = setTimeout(() => {
          if (finished) return;
          call = options.reattach!(position!.runId, position!.seq);
          bind(call);
          if (waitingForDrain) call.pause();
        }, delay);
      });
    };

    if (options.first) send(options.first);
    bind(call);
    call.resume();
  });
}

/** `<runId>:<seq>` back into its parts; undefined for an empty or foreign id. */
function parseId(id: string): { runId: string; seq: number } | undefined {
  const colon = id.lastIndexOf(':');
  const seq = Number(id.slice(colon + 1));
  return colon > 0 && Number.isInteger(seq) ? { runId: id.slice(0, colon), seq } : undefined;
}
