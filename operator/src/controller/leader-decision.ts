// Whether this replica leads, from the Lease it just read (the coordination.k8s.io protocol
// client-go's leaderelection uses). Pure: the loop in leader-election.ts performs the decision.

export interface LeaseState {
  readonly holderIdentity?: string;
  readonly renewTime?: Date;
  readonly leaseDurationSeconds?: number;
}

export type LeaseDecision =
  /** No Lease yet: create it holding it. */
  | { readonly action: 'create' }
  /** Ours: renew it. */
  | { readonly action: 'renew' }
  /** Someone else's, expired (or released): take it over. */
  | { readonly action: 'acquire' }
  /** Someone else's and current: stay a follower. */
  | { readonly action: 'follow'; readonly holder: string };

export function decideLease(lease: LeaseState | undefined, identity: string, now: Date): LeaseDecision {
  if (!lease) return { action: 'create' };
  if (lease.holderIdentity === identity) return { action: 'renew' };
  if (!lease.holderIdentity) return { action: 'acquire' };
  const expiresAt = (lease.renewTime?.getTime() ?? 0) + (lease.leaseDurationSeconds ?? 0) * 1000;
  return now.getTime() >= expiresAt ? { action: 'acquire' } : { action: 'follow', holder: lease.holderIdentity };
}
