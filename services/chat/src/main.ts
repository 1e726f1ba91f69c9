// Process entry point: configuration, logging, the server, and an orderly exit on SIGTERM/SIGINT.
import { ConfigError, createLogger, onTerminate } from '@freechat/shared';
import { loadChatConfig, type ChatConfig } from './config.js';
import { startChatServer } from './server.js';

async function main(): Promise<void> {
  let config: ChatConfig;
  try {
    config = loadChatConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ service: 'chat', level: config.log.level });
  const server = await startChatServer({ config, logger });
  onTerminate(() => server.close(), { logger });
  try {
    await server.ready;
  } catch (error) {
    logger.fatal({ err: error }, 'could not prepare the database');
    await server.close();
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`chat failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
