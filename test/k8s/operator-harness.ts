// The operator as the tests run it: in this process, against the suite's real API server, with the
// Helm chart's ServiceAccount token (so what it may do is exactly what the chart's RBAC grants).
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@freechat/shared';
import { connect, loadOperatorConfig, startOperator, type RunningOperator } from '@freechat/operator';
import { k8sCluster } from '../infra/endpoints.js';
import { kubectl } from './cluster.js';

export const SYSTEM_NAMESPACE = 'freechat-system';
export const SERVICE_ACCOUNT = 'freechat-operator';

/** A kubeconfig acting as the chart's ServiceAccount. */
export async function serviceAccountKubeConfig(): Promise<KubeConfig> {
  const token = (await kubectl(['create', 'token', SERVICE_ACCOUNT, '-n', SYSTEM_NAMESPACE, '--duration=2h'])).trim();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'suite', server: k8sCluster().server, skipTLSVerify: true }],
    users: [{ name: SERVICE_ACCOUNT, token }],
    contexts: [{ name: 'operator', cluster: 'suite', user: SERVICE_ACCOUNT }],
    currentContext: 'operator',
  });
  return kc;
}

export interface TestOperator extends RunningOperator {
  /** Set when leadership was lost (the real process would exit). */
  readonly lostLeadership: () => boolean;
}

/** Leader election with short timings, so a failover takes seconds. */
export async function startTestOperator(kc: KubeConfig, identity: string): Promise<TestOperator> {
  const config = loadOperatorConfig({
    FREECHAT_OPERATOR_HTTP_ADDRESS: '127.0.0.1:0',
    FREECHAT_OPERATOR_LEADER_ELECTION: 'true',
    FREECHAT_OPERATOR_LEASE_DURATION_MS: '3000',
    FREECHAT_OPERATOR_RENEW_DEADLINE_MS: '2000',
    FREECHAT_OPERATOR_RETRY_PERIOD_MS: '500',
    POD_NAMESPACE: SYSTEM_NAMESPACE,
    POD_NAME: identity,
    FREECHAT_LOG_LEVEL: process.env['FREECHAT_TEST_OPERATOR_LOG'] ?? 'warn',
  });
  let lost = false;
  const running = await startOperator(config, createLogger({ service: `operator-${identity}`, level: config.log.level }), {
    kube: connect(kc),
    onLostLeadership: () => {
      lost = true;
    },
  });
  return { ...running, lostLeadership: () => lost };
}
