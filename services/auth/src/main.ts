// Process entry point of the auth service.
import { runServiceMain } from '@freechat/shared';
import { loadAuthConfig } from './config.js';
import { startAuthServer } from './server.js';

runServiceMain({ service: 'auth', loadConfig: loadAuthConfig, start: (config, logger) => startAuthServer({ config, logger }) });
