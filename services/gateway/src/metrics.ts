// Every metric the gateway defines, built over a Registry so tests read their shapes. Labels are
// bounded: route templates (never a raw path with ids), methods, status codes, event types.
import { Counter, Gauge, Histogram, defineStreamMetrics, type Registry, type StreamMetrics } from '@freechat/shared';

/** The route label of a request no route matched (a 404 or the web UI's fallback). */
export const UNMATCHED_ROUTE = 'unmatched';

export const SSE_EVENT_TYPES = ['run', 'reasoning', 'content', 'done', 'error', 'ping'] as const;
export type SseEventType = (typeof SSE_EVENT_TYPES)[number];

/** Which limit refused a request: rateLimit.default, .login, .register, .send; the login lockout. */
export const RATE_LIMITS = ['default', 'login', 'register', 'send', 'login_backoff'] as const;
export type RateLimitName = (typeof RATE_LIMITS)[number];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface GatewayMetrics {
  readonly httpRequestDurationSeconds: Histogram<'method' | 'route' | 'status_code'>;
  readonly sseStreamsActive: Gauge<never>;
  readonly sseEventsSent: Counter<'event'>;
  readonly sseResumes: Counter<never>;
  readonly sseClientDisconnects: Counter<never>;
  readonly rateLimited: Counter<'limit'>;
  readonly timeToFirstTokenSeconds: Histogram<never>;
  readonly interTokenGapSeconds: Histogram<never>;
  readonly stream: StreamMetrics;
  /** One finished HTTP request; `route` is the route template, undefined when none matched. */
  httpRequest(method: string, route: string | undefined, statusCode: number, seconds: number): void;
}

export function gatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  const httpRequestDurationSeconds = new Histogram({
    name: 'freechat_http_request_duration_seconds',
    help: `HTTP requests by method, route template (${UNMATCHED_ROUTE} when none matched) and status code; event streams last until they end.`,
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  const sseStreamsActive = new Gauge({ name: 'freechat_gateway_sse_streams_active', help: 'Server-Sent Event streams open now.', registers });
  const sseEventsSent = new Counter({ name: 'freechat_gateway_sse_events_sent_total', help: 'SSE events written to clients, by type (run, reasoning, content, done, error, ping).', labelNames: ['event'], registers });
  const sseResumes = new Counter({ name: 'freechat_gateway_sse_resumes_total', help: 'Event streams opened with Last-Event-ID (a client re-attaching after a drop or reload).', registers });
  const sseClientDisconnects = new Counter({ name: 'freechat_gateway_sse_client_disconnects_total', help: 'Event streams the client closed before the run ended.', registers });
  const rateLimited = new Counter({ name: 'freechat_gateway_rate_limited_total', help: 'Requests refused with 429 rate_limited, by limit (default, login, register, send, login_backoff).', labelNames: ['limit'], registers });
  const timeToFirstTokenSeconds = new Histogram({ name: 'freechat_gateway_time_to_first_token_seconds', help: 'From a send or regenerate request arriving to its first reasoning or content event flushed to the socket.', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80], registers });
  const interTokenGapSeconds = new Histogram({ name: 'freechat_gateway_inter_token_gap_seconds', help: 'Gap between consecutive reasoning/content events flushed on one stream.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5], registers });
  for (const event of SSE_EVENT_TYPES) sseEventsSent.inc({ event }, 0);
  for (const limit of RATE_LIMITS) rateLimited.inc({ limit }, 0);
  const stream = defineStreamMetrics(registry);
  return {
    httpRequestDurationSeconds,
    sseStreamsActive,
    sseEventsSent,
    sseResumes,
    sseClientDisconnects,
    rateLimited,
    timeToFirstTokenSeconds,
    interTokenGapSeconds,
    stream,
    httpRequest(method, route, statusCode, seconds) {
      httpRequestDurationSeconds.observe(
        { method: METHODS.has(method) ? method : 'other', route: route ?? UNMATCHED_ROUTE, status_code: String(statusCode) },
        seconds,
      );
    },
  };
}
