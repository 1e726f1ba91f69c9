// Leader election over a coordination.k8s.io Lease: one replica reconciles, the others wait and
// take over when the leader stops renewing. Every write is conditional on the resourceVersion
// read, so two candidates never both win.
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '@freechat/shared';
import { decideLease } from './leader-decision.js';
import { describeError, statusOf, type Kube } from './kube.js';

/** The client types MicroTime as a Date but hands back the wire's string: accept both. */
const asDate = (value: Date | string | undefined): Date | undefined => (value === undefined ? undefined : new Date(value));

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly onStartedLeading: () => void;
  /** Called once when leadership is lost (not renewed within renewDeadlineMs) or released. */
  readonly onStoppedLeading: () => void;
  readonly onNewLeader?: (identity: string) => void;
}

export interface LeaderElection {
  readonly isLeader: () => boolean;
  /** Stops campaigning; a leader gives the Lease up so a follower takes over at once. */
  stop(): Promise<void>;
}

export function startLeaderElection(kube: Kube, logger: Logger, options: LeaderElectionOptions): LeaderElection {
  const { namespace, leaseName: name, identity } = options;
  let leading = false;
  let lastRenew = 0;
  let stopped = false;
  let observedLeader = '';
  let timer: NodeJS.Timeout | undefined;

  const spec = (acquireTime: Date | undefined, transitions: number, now: Date): V1Lease['spec'] => ({
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
    renewTime: new V1MicroTime(now.getTime()),
    acquireTime: new V1MicroTime((asDate(acquireTime) ?? now).getTime()),
    leaseTransitions: transitions,
  });

  async function tryOnce(): Promise<boolean> {
    const now = new Date();
    let lease: V1Lease | undefined;
    try {
      lease = await kube.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    const decision = decideLease(lease?.spec && { ...lease.spec, renewTime: asDate(lease.spec.renewTime) }, identity, now);
    switch (decision.action) {
      case 'create':
        await kube.coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: spec(undefined, 0, now) } });
        return true;
      case 'renew':
        await kube.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease!, spec: spec(lease!.spec?.acquireTime, lease!.spec?.leaseTransitions ?? 0, now) } });
        return true;
      case 'acquire':
        await kube.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease!, spec: spec(undefined, (lease!.spec?.leaseTransitions ?? 0) + 1, now) } });
        return true;
      case 'follow':
        if (decision.holder !== observedLeader) {
          observedLeader = decision.holder;
          options.onNewLeader?.(decision.holder);
        }
        return false;
    }
  }

  function loseLeadership(reason: string): void {
    if (!leading) return;
    leading = false;
    logger.warn({ reason }, 'leader election: lost the lease');
    options.onStoppedLeading();
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    try {
      const holding = await tryOnce();
      if (holding) {
        lastRenew = Date.now();
        if (!leading) {
          leading = true;
          logger.info({ lease: `${namespace}/${name}`, identity }, 'leader election: leading');
          options.onStartedLeading();
        }
      } else {
        loseLeadership('another replica holds the lease');
      }
    } catch (error) {
      // A conflict means someone else wrote the Lease between our read and write: not ours.
      const level = statusOf(error) === 409 ? 'debug' : 'warn';
      logger[level]({ error: describeError(error) }, 'leader election: lease update failed');
      if (leading && Date.now() - lastRenew > options.renewDeadlineMs) loseLeadership('could not renew within the deadline');
    }
    if (!stopped) timer = setTimeout(() => void loop(), options.retryPeriodMs);
  }

  void loop();

  return {
    isLeader: () => leading,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!leading) return;
      leading = false;
      try {
        // Released: holder cleared and a one-second lease, so a follower takes over on its next try.
        const lease = await kube.coordination.readNamespacedLease({ name, namespace });
        if (lease.spec?.holderIdentity === identity) {
          await kube.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 } } });
        }
      } catch (error) {
        logger.warn({ error: describeError(error) }, 'leader election: could not release the lease');
      }
    },
  };
}
