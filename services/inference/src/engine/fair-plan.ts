// Who goes next when several users compete for the engine, decided from fairness keys alone so the
// policy is testable without a model. Round-robin across keys, first come first served within a key:
// one user's three long prompts then cost another user's short one at most one prefill chunk each,
// not their whole prefill.

/**
 * Which waiting requests take `free` batch slots: each slot goes to the oldest waiting request of the
 * key that holds the fewest slots (prefilling or running) so far, ties to the request waiting longest.
 * Returns indices into `waitingKeys` (oldest first), in admission order.
 */
export function planAdmission(waitingKeys: readonly string[], activeKeys: readonly string[], free: number): number[] {
  const held = new Map<string, number>();
  for (const key of activeKeys) held.set(key, (held.get(key) ?? 0) + 1);
  const taken = new Set<number>();
  const admitted: number[] = [];
  while (admitted.length < free && taken.size < waitingKeys.length) {
    let best = -1;
    waitingKeys.forEach((key, i) => {
      if (taken.has(i)) return;
      if (best === -1 || (held.get(key) ?? 0) < (held.get(waitingKeys[best]!) ?? 0)) best = i;
    });
    const key = waitingKeys[best]!;
    held.set(key, (held.get(key) ?? 0) + 1);
    taken.add(best);
    admitted.push(best);
  }
  return admitted;
}

/**
 * Which prefilling sequence runs this step's one prefill chunk: the oldest one of the key whose last
 * chunk is longest ago (a key never served first; among those, the one whose request came first).
 * `prefillingKeys` is oldest first; `lastServed` maps a key to the step of its last chunk.
 * Returns an index into `prefillingKeys`, or -1 when nothing is prefilling.
 */
export function pickPrefill(prefillingKeys: readonly string[], lastServed: ReadonlyMap<string, number>, skip: ReadonlySet<number> = new Set()): number {
  let best = -1;
  let bestServed = Number.POSITIVE_INFINITY;
  prefillingKeys.forEach((key, i) => {
    if (skip.has(i)) return;
    const served = lastServed.get(key) ?? Number.NEGATIVE_INFINITY;
    if (best === -1 || served < bestServed) {
      best = i;
      bestServed = served;
    }
  });
  return best;
}

export interface PrefillPick {
  /** Index into the prefilling list. */
  readonly index: number;
  /** Prompt tokens this step prefills for it. */
  readonly tokens: number;
}

/**
 * The prefill work of one step: prompts in `pickPrefill`'s order, each taking what it has left or
 * what is left of the step's token budget, until the budget is spent. Several short prompts arriving
 * together are then prefilled in one step (and one pass where the KV path allows), not one per step
 * with a decode step between each; a long one still takes at most the budget per step, so running
 * streams keep their pace. `remaining[i]` is prompt i's unprefilled token count.
 */
export function planPrefills(
  prefillingKeys: readonly string[],
  lastServed: ReadonlyMap<string, number>,
  remaining: readonly number[],
  budgetTokens: number,
): PrefillPick[] {
  const served = new Map(lastServed);
  const picked = new Set<number>();
  const picks: PrefillPick[] = [];
  let left = budgetTokens;
  let step = Math.max(0, ...served.values());
  while (left > 0) {
    const index = pickPrefill(prefillingKeys, served, picked);
    if (index < 0) break;
    const tokens = Math.min(remaining[index]!, left);
    picks.push({ index, tokens });
    picked.add(index);
    served.set(prefillingKeys[index]!, ++step);
    left -= tokens;
  }
  return picks;
}
