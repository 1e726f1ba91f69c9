// Process entry point: configuration, logging, the server, and an orderly exit on SIGTERM/SIGINT.
import { ConfigError, createLogger, onTerminate } from '@freechat/shared';
import { loadAuthConfig } from './config.js';
import { startAuthServer } from './server.js';

function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadAuthConfig();
  } catch (error) {
    exitOnConfigError(error);
  }
  const logger = createLogger({ service: 'auth', level: config.log.level });
  const server = await startAuthServer({ config, logger }).catch(exitOnConfigError);
  // Registered before migrations, so a signal while waiting for the database still exits cleanly.
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
  process.stderr.write(`auth failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
