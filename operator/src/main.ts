// The operator's entry point (the image's command): config, logs, SIGTERM → release the lease, stop.
import { runServiceMain } from '@freechat/shared';
import { loadOperatorConfig } from './config.js';
import { startOperator } from './operator.js';

runServiceMain({ service: 'operator', loadConfig: () => loadOperatorConfig(), start: (config, logger) => startOperator(config, logger) });
