// Process entry point: configuration, logging, the server, and an orderly exit on SIGTERM/SIGINT.
import { ConfigError, createLogger, onTerminate } from '@freechat/shared';
import { loadGatewayConfig, type GatewayConfig } from './config.js';
import { startGatewayServer } from './server.js';

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ service: 'gateway', level: config.log.level });
  const server = await startGatewayServer({ config, logger });
  onTerminate(() => server.close(), { logger });
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
