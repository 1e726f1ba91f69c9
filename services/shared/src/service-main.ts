// The one way a Free Chat service process starts: configuration (a bad key stops it with the key's
// name), logs, the server, and an orderly exit on SIGTERM/SIGINT registered before anything slow;
// with FREECHAT_EXIT_WITH_PARENT=1 (`make run` sets it) also when its parent process dies.
import { ConfigError } from './errors.js';
import type { LevelWithSilent } from 'pino';
import { createLogger, type Logger } from './logger.js';
import { exitWithParentFromEnv, onTerminate } from './process-signals.js';
import { setupTracing } from './telemetry/tracing.js';

export interface StartedService {
  /** Resolves when the service is ready (SERVING); rejects when it cannot become ready. */
  readonly ready: Promise<unknown>;
  close(): Promise<void>;
}

export interface ServiceMainOptions<C extends { readonly log: { readonly level: LevelWithSilent } }> {
  readonly service: string;
  readonly loadConfig: () => C;
  readonly start: (config: C, logger: Logger) => Promise<StartedService>;
}

export function runServiceMain<C extends { readonly log: { readonly level: LevelWithSilent } }>(options: ServiceMainOptions<C>): void {
  const fail = (error: unknown): never => {
    process.stderr.write(
      error instanceof ConfigError
        ? `${error.message}\n`
        : `${options.service} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  };
  void (async () => {
    const config = options.loadConfig();
    const logger = createLogger({ service: options.service, level: config.log.level });
    // Before the server starts, so its first calls are traced (OTEL_* variables; off without an endpoint).
    const tracing = setupTracing({ service: options.service });
    if (tracing.enabled) {
      logger.info({ endpoint: tracing.endpoint, zipkinEndpoint: tracing.zipkinEndpoint, serviceName: tracing.serviceName }, 'tracing: export on');
    }
    // Before starting: as a container's PID 1, Node ignores SIGTERM without a handler, so a start
    // that hangs (a dependency that never answers) would otherwise only end in SIGKILL.
    let server: StartedService | undefined;
    const exitWithParent = exitWithParentFromEnv(process.env);
    // Spans of the last calls are flushed once the server has drained.
    onTerminate(async () => {
      try {
        await server?.close();
      } finally {
        await tracing.shutdown();
      }
    }, { logger, ...(exitWithParent ? { exitWithParent } : {}) });
    server = await options.start(config, logger);
    try {
      await server.ready;
    } catch (error) {
      logger.fatal({ err: error }, `${options.service} could not become ready`);
      await server.close();
      process.exit(1);
    }
  })().catch(fail);
}
