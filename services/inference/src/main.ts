// Process entry point of the inference service.
import { runServiceMain } from '@freechat/shared';
import { loadInferenceConfig } from './config.js';
import { startInferenceServer } from './server.js';

runServiceMain({ service: 'inference', loadConfig: loadInferenceConfig, start: (config, logger) => startInferenceServer({ config, logger }) });
