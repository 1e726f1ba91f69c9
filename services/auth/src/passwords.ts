// argon2id hashing, and a verification that costs the same whether or not the user exists.
import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

export interface Argon2Cost {
  readonly memoryCostKib: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=...`) carrying its own salt and cost. */
  hash(password: string): Promise<string>;
  /** Against a stored hash, or — for an unknown user — against a dummy of the same cost; false then. */
  verify(storedHash: string | undefined, password: string): Promise<boolean>;
}

// Algorithm is a const enum, which isolated modules cannot read from a .d.ts: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export async function createPasswordHasher(cost: Argon2Cost): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, memoryCost: cost.memoryCostKib, timeCost: cost.timeCost, parallelism: cost.parallelism };
  // A hash of a random secret nobody knows: verifying against it spends a real verification's time.
  const dummyHash = await hash(randomBytes(32).toString('base64url'), options);
  return {
    hash: (password) => hash(password, options),
    verify: async (storedHash, password) => {
      const matched = await verify(storedHash ?? dummyHash, password).catch(() => false);
      return storedHash !== undefined && matched;
    },
  };
}
