// Structured JSON logs shared by every service: one `service` field, secrets never written.
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { activeTraceIds } from './telemetry/tracing.js';

export type { Logger } from 'pino';

const SECRET_KEYS = ['password', 'token', 'authorization', 'secret', 'privateKey', 'accessToken', 'refreshToken'];

// pino redacts by path, not by key name anywhere; three levels deep covers our log shapes.
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export interface CreateLoggerOptions {
  readonly service: string;
  readonly level: LevelWithSilent;
  /** Default: stdout, written synchronously so nothing is lost on exit. Tests pass a stream. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Inside a span, every line carries its trace_id and span_id (nothing outside one).
      mixin: activeTraceIds,
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
