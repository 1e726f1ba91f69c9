// Which instance gets the next call: a pure function of the instances' load, so the policy is tested
// without channels, Consul or time.

export type BalancingPolicy = 'round-robin' | 'least-outstanding';

export interface InstanceLoad {
  readonly id: string;
  /** Calls sent to it and not finished yet. */
  readonly outstanding: number;
  /** Its connection is failing (grpc-js TRANSIENT_FAILURE): avoid it while any other is usable. */
  readonly failing: boolean;
}

/**
 * The index (in `instances`) of the instance for the next call, or undefined when there is none.
 * `turn` counts the caller's picks: round robin takes turns with it, and least-outstanding uses it
 * to rotate among equally loaded instances instead of always favouring the first.
 */
export function pickInstance(policy: BalancingPolicy, instances: readonly InstanceLoad[], turn: number): number | undefined {
  const usable = instances.map((instance, index) => ({ instance, index })).filter(({ instance }) => !instance.failing);
  // Every instance failing: still try one, so the caller gets grpc-js's own error (and a reconnect).
  const candidates = usable.length > 0 ? usable : instances.map((instance, index) => ({ instance, index }));
  if (candidates.length === 0) return undefined;
  const start = ((turn % candidates.length) + candidates.length) % candidates.length;
  if (policy === 'round-robin') return candidates[start]!.index;
  let best = candidates[start]!;
  for (let offset = 1; offset < candidates.length; offset++) {
    const candidate = candidates[(start + offset) % candidates.length]!;
    if (candidate.instance.outstanding < best.instance.outstanding) best = candidate;
  }
  return best.index;
}
