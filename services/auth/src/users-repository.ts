// SQL for auth.users. Usernames are unique and looked up without regard to case.
import type pg from 'pg';
import { usernameTaken } from './errors.js';

export interface UserRecord {
  readonly id: string;
  readonly username: string;
  readonly createdAt: Date;
}

export interface UserWithPasswordHash extends UserRecord {
  readonly passwordHash: string;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UsersRepository {
  constructor(private readonly db: pg.Pool) {}

  /** Throws AuthError USERNAME_TAKEN when the name exists in any case. */
  async create(user: { username: string; passwordHash: string; createdAt: Date }): Promise<UserRecord> {
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO auth.users (username, password_hash, created_at) VALUES ($1, $2, $3)
         RETURNING id, username, password_hash, created_at`,
        [user.username, user.passwordHash, user.createdAt],
      );
      return toRecord(rows[0]!);
    } catch (error) {
      const e = error as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'users_username_lower_key') throw usernameTaken();
      throw error;
    }
  }

  async findByUsername(username: string): Promise<UserWithPasswordHash | undefined> {
    const { rows } = await this.db.query<UserRow>(
      'SELECT id, username, password_hash, created_at FROM auth.users WHERE lower(username) = lower($1)',
      [username],
    );
    return rows[0] && { ...toRecord(rows[0]), passwordHash: rows[0].password_hash };
  }

  /** Anything that is not a UUID is simply not found (PostgreSQL would reject it with an error). */
  async findById(id: string): Promise<UserRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await this.db.query<UserRow>('SELECT id, username, password_hash, created_at FROM auth.users WHERE id = $1', [id]);
    return rows[0] && toRecord(rows[0]);
  }
}

function toRecord(row: UserRow): UserRecord {
  return { id: row.id, username: row.username, createdAt: row.created_at };
}
