// SQL for auth.user_settings: one jsonb document per user, absent until they first save something.
import type pg from 'pg';
import { userNotFound } from './errors.js';

export class SettingsRepository {
  constructor(private readonly db: pg.Pool) {}

  /** The stored document, or undefined when the user never saved any setting. */
  async find(userId: string): Promise<unknown> {
    const { rows } = await this.db.query<{ settings: unknown }>('SELECT settings FROM auth.user_settings WHERE user_id = $1', [userId]);
    return rows[0]?.settings;
  }

  /**
   * Merges `set` into the document and drops the keys in `remove`, in one statement: concurrent
   * changes of different fields (two tabs) both land. Returns the document as stored.
   * Throws AuthError USER_NOT_FOUND when no such user exists.
   */
  async merge(userId: string, change: { set: Record<string, unknown>; remove: readonly string[] }, now: Date): Promise<unknown> {
    try {
      const { rows } = await this.db.query<{ settings: unknown }>(
        `INSERT INTO auth.user_settings AS s (user_id, settings, updated_at) VALUES ($1, $2::jsonb - $3::text[], $4)
         ON CONFLICT (user_id) DO UPDATE SET settings = (s.settings || EXCLUDED.settings) - $3::text[], updated_at = EXCLUDED.updated_at
         RETURNING settings`,
        [userId, JSON.stringify(change.set), change.remove, now],
      );
      return rows[0]!.settings;
    } catch (error) {
      // The token outlived its user (foreign key user_settings_user_id_fkey).
      if ((error as { code?: string }).code === '23503') throw userNotFound();
      throw error;
    }
  }
}
