// Process entry point: configuration, logging, the server, and an orderly exit on SIGTERM/SIGINT.
import { ConfigError, createLogger, onTerminate } from '@freechat/shared';
import { loadInferenceConfig, type InferenceConfig } from './config.js';
import { startInferenceServer } from './server.js';

async function main(): Promise<void> {
  let config: InferenceConfig;
  try {
    config = loadInferenceConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ service: 'inference', level: config.log.level });
  const server = await startInferenceServer({ config, logger });
  // Registered before the model loads, so a signal during a long download still exits cleanly.
  onTerminate(() => server.close(), { logger });
  try {
    await server.ready;
  } catch (error) {
    logger.fatal({ err: error }, 'could not load the model');
    await server.close();
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`inference failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
