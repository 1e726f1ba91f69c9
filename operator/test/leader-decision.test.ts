// Who leads, from the Lease as read: create it, renew our own, take over an expired or released
// one, follow a live holder.
import { describe, expect, it } from 'vitest';
import { decideLease } from '../src/controller/leader-decision.js';

const now = new Date('2026-11-30T10:00:30Z');

describe('decideLease', () => {
  it('creates a missing Lease and renews its own', () => {
    expect(decideLease(undefined, 'a', now)).toEqual({ action: 'create' });
    expect(decideLease({ holderIdentity: 'a', renewTime: new Date('2026-11-30T09:00:00Z'), leaseDurationSeconds: 15 }, 'a', now)).toEqual({ action: 'renew' });
  });

  it('follows a holder whose lease is still running, and takes over once it has expired', () => {
    const lease = { holderIdentity: 'b', renewTime: new Date('2026-11-30T10:00:20Z'), leaseDurationSeconds: 15 };
    expect(decideLease(lease, 'a', now)).toEqual({ action: 'follow', holder: 'b' });
    expect(decideLease(lease, 'a', new Date('2026-11-30T10:00:35Z'))).toEqual({ action: 'acquire' });
  });

  it('takes over a released lease (no holder) at once', () => {
    expect(decideLease({ renewTime: new Date('2026-11-30T10:00:29Z'), leaseDurationSeconds: 1 }, 'a', now)).toEqual({ action: 'acquire' });
  });
});
