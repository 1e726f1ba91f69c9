// What was typed and not sent, per conversation, kept in localStorage across reloads: one draft per
// user and conversation, and one for the new chat. Pure apart from the storage it is given.

/** The part of Storage the drafts use (localStorage in the app, a Map in tests). */
export type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface DraftStore {
  load(sessionId: string | null): string;
  /** Saving an empty (or blank) draft removes it. */
  save(sessionId: string | null, text: string): void;
}

const PREFIX = 'freechat.draft';

/** The storage key: another user on the same browser never sees these drafts. */
export const draftKey = (userId: string, sessionId: string | null): string => `${PREFIX}.${userId}.${sessionId ?? 'new'}`;

export function createDraftStore(storage: DraftStorage, userId: string): DraftStore {
  return {
    load: (sessionId) => {
      try {
        return storage.getItem(draftKey(userId, sessionId)) ?? '';
      } catch {
        return ''; // Storage refused (private mode, disabled): no drafts, nothing breaks.
      }
    },
    save: (sessionId, text) => {
      const key = draftKey(userId, sessionId);
      try {
        if (text.trim() === '') storage.removeItem(key);
        else storage.setItem(key, text);
      } catch {
        // Full or refused: the draft lives on in the box until the page is left.
      }
    },
  };
}
