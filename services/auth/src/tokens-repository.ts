// SQL for auth.refresh_tokens. Rotation runs in one transaction holding the presented token's row
// lock, so of two concurrent uses one rotates and the other sees it already used.
import type pg from 'pg';
import type { UserRecord } from './users-repository.js';

export interface NewRefreshToken {
  readonly id: string;
  readonly userId: string;
  readonly tokenHash: Buffer;
  readonly familyId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface StoredRefreshToken {
  readonly id: string;
  /** Its owner, read in the same statement: rotation needs the name for the new access token. */
  readonly user: UserRecord;
  readonly familyId: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** The statements available inside a rotation transaction. */
export interface TokensTransaction {
  /** Locks the row until the transaction ends; a concurrent caller waits, then reads the new state. */
  lockByHash(tokenHash: Buffer): Promise<StoredRefreshToken | undefined>;
  insert(token: NewRefreshToken): Promise<void>;
  markUsed(id: string, usedAt: Date, replacedBy: string): Promise<void>;
  revokeFamily(familyId: string, revokedAt: Date): Promise<void>;
}

interface TokenRow {
  id: string;
  user_id: string;
  username: string;
  user_created_at: Date;
  family_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export class TokensRepository {
  constructor(private readonly db: pg.Pool) {}

  insert(token: NewRefreshToken): Promise<void> {
    return insertToken(this.db, token);
  }

  /** Revokes every live token of the family the given hash belongs to; unknown hashes change nothing. */
  async revokeFamilyOf(tokenHash: Buffer, revokedAt: Date): Promise<void> {
    await this.db.query(
      `UPDATE auth.refresh_tokens SET revoked_at = $2
       WHERE family_id = (SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
      [tokenHash, revokedAt],
    );
  }

  /** Runs `work` in a transaction: committed if it returns (even a refusal it decided on), rolled back if it throws. */
  async transaction<T>(work: (tx: TokensTransaction) => Promise<T>): Promise<T> {
    const client = await this.db.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work({
        lockByHash: async (tokenHash) => {
          const { rows } = await client.query<TokenRow>(
            `SELECT t.id, t.user_id, u.username, u.created_at AS user_created_at, t.family_id, t.expires_at, t.used_at, t.revoked_at
             FROM auth.refresh_tokens t JOIN auth.users u ON u.id = t.user_id
             WHERE t.token_hash = $1
             FOR UPDATE OF t`,
            [tokenHash],
          );
          const row = rows[0];
          return (
            row && {
              id: row.id,
              user: { id: row.user_id, username: row.username, createdAt: row.user_created_at },
              familyId: row.family_id,
              expiresAt: row.expires_at,
              usedAt: row.used_at,
              revokedAt: row.revoked_at,
            }
          );
        },
        insert: (token) => insertToken(client, token),
        markUsed: async (id, usedAt, replacedBy) => {
          await client.query('UPDATE auth.refresh_tokens SET used_at = $2, replaced_by = $3 WHERE id = $1', [id, usedAt, replacedBy]);
        },
        revokeFamily: async (familyId, revokedAt) => {
          await client.query('UPDATE auth.refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL', [
            familyId,
            revokedAt,
          ]);
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is discarded rather than returned to the pool.
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

async function insertToken(db: pg.Pool | pg.PoolClient, token: NewRefreshToken): Promise<void> {
  await db.query(
    `INSERT INTO auth.refresh_tokens (id, user_id, token_hash, family_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [token.id, token.userId, token.tokenHash, token.familyId, token.createdAt, token.expiresAt],
  );
}
