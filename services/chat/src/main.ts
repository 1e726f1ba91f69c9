// Process entry point of the chat service.
import { runServiceMain } from '@freechat/shared';
import { loadChatConfig } from './config.js';
import { startChatServer } from './server.js';

runServiceMain({ service: 'chat', loadConfig: loadChatConfig, start: (config, logger) => startChatServer({ config, logger }) });
