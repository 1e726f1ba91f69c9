// The operator's settings: defaults from config/operator.yaml, the environment over them, and a
// clear refusal of what cannot work.
import { ConfigError } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../src/config.js';

describe('loadOperatorConfig', () => {
  it('reads the defaults and the environment', () => {
    const config = loadOperatorConfig({ POD_NAMESPACE: 'freechat-system', POD_NAME: 'operator-7d9f', FREECHAT_OPERATOR_CONCURRENCY: '2' });
    expect(config.operator).toMatchObject({ watchNamespace: '', httpAddress: '0.0.0.0:8080', concurrency: 2 });
    expect(config.operator.leaderElection).toMatchObject({ enabled: true, namespace: 'freechat-system', identity: 'operator-7d9f', leaseName: 'freechat-operator' });
  });

  it('refuses leader election without the namespace its Lease lives in, naming the setting', () => {
    expect(() => loadOperatorConfig({})).toThrow(ConfigError);
    expect(() => loadOperatorConfig({})).toThrow(/operator\.leaderElection\.namespace.*POD_NAMESPACE/s);
    expect(loadOperatorConfig({ FREECHAT_OPERATOR_LEADER_ELECTION: 'false' }).operator.leaderElection.enabled).toBe(false);
  });

  it('refuses timings that would let two leaders overlap', () => {
    expect(() => loadOperatorConfig({ POD_NAMESPACE: 'ns', FREECHAT_OPERATOR_RENEW_DEADLINE_MS: '20000' })).toThrow(/retryPeriodMs < renewDeadlineMs < leaseDurationMs/);
  });
});
