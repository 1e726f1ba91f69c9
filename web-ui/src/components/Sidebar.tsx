// Conversations, pinned first then newest: new chat, a search box (titles filtered as you type, then
// a full-text search of the messages), tags as chips that filter the list, pin, rename and tag
// inline, delete with confirmation.
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SearchResult, Session, SessionChanges } from '../api/types';
import { pathForSession } from '../state/route';
import { extraResults, groupSessions, parseTags, SEARCH_DEBOUNCE_MS, snippetParts } from '../state/sidebar-list';
import { ConfirmDialog } from './ConfirmDialog';
import { t } from '../i18n';

export interface SidebarProps {
  readonly sessions: readonly Session[] | null;
  readonly currentId: string | null;
  readonly username: string;
  readonly open: boolean;
  readonly onOpen: (id: string) => void;
  readonly onNew: () => void;
  readonly onUpdate: (id: string, changes: SessionChanges) => void;
  readonly onDelete: (id: string) => void;
  /** Full-text search over titles and messages (GET /api/search). */
  readonly search: (query: string, signal: AbortSignal) => Promise<readonly SearchResult[]>;
  readonly onLogout: () => void;
  /** The account's own actions (export, import), above the signed-in user. */
  readonly account?: preact.ComponentChildren;
  /** Folds the drawer on a phone. */
  readonly onClose: () => void;
}

/** A one-line editor in place of a conversation's row: Enter saves (if changed), Escape or leaving cancels. */
function InlineInput(props: {
  value: string;
  label: string;
  maxLength: number;
  placeholder?: string;
  /** An empty value is a value (no tags), not a cancel. */
  allowEmpty?: boolean;
  onSave: (value: string) => void;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(props.value);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  return (
    <input
      ref={input}
      class="rename"
      aria-label={props.label}
      placeholder={props.placeholder}
      value={value}
      maxLength={props.maxLength}
      onInput={(e) => setValue(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          const next = value.trim();
          if ((next !== '' || props.allowEmpty) && next !== props.value) props.onSave(next);
          else props.onCancel();
        } else if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          props.onCancel();
        }
      }}
      onBlur={props.onCancel}
    />
  );
}

/** Text with its matched parts in <mark>: text nodes only, whatever the snippet contains. */
function Highlighted({ text, highlights }: { text: string; highlights: SearchResult['highlights'] }) {
  return (
    <>
      {snippetParts(text, highlights).map((part, i) => (part.marked ? <mark key={i}>{part.text}</mark> : part.text))}
    </>
  );
}

const PencilIcon = () => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
    <path fill="currentColor" d="M3 17.25V21h3.75L17.8 9.94l-3.75-3.75L3 17.25zm17.7-10.2a1 1 0 0 0 0-1.42l-2.33-2.33a1 1 0 0 0-1.42 0l-1.83 1.83 3.75 3.75 1.83-1.83z" />
  </svg>
);
const TrashIcon = () => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
    <path fill="currentColor" d="M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z" />
  </svg>
);
const PinIcon = ({ filled }: { filled: boolean }) => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
    <path
      fill={filled ? 'currentColor' : 'none'}
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linejoin="round"
      d="M9 3h6l-1 6 4 3.5V14h-5v6l-1 1-1-1v-6H6v-1.5L10 9 9 3z"
    />
  </svg>
);
const TagIcon = () => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
    <path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" d="M3 12V4a1 1 0 0 1 1-1h8l9 9-9 9-9-9z" />
    <circle cx="7.5" cy="7.5" r="1.5" fill="currentColor" />
  </svg>
);

/** Opens a conversation in place (a plain click); other clicks keep the browser's own link behaviour. */
function openOnClick(onOpen: (id: string) => void, id: string) {
  return (e: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    onOpen(id);
  };
}

/** Debounced full-text search of the query; empty while the query is blank, or when the search failed. */
function useSearch(query: string, search: SidebarProps['search']): { results: readonly SearchResult[]; failed: boolean } {
  const [state, setState] = useState<{ results: readonly SearchResult[]; failed: boolean }>({ results: [], failed: false });
  useEffect(() => {
    if (query.trim() === '') {
      setState({ results: [], failed: false });
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      search(query, controller.signal).then(
        (results) => !controller.signal.aborted && setState({ results, failed: false }),
        () => !controller.signal.aborted && setState({ results: [], failed: true }),
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [query, search]);
  return state;
}

export function Sidebar(props: SidebarProps) {
  const { sessions, currentId } = props;
  const [query, setQuery] = useState('');
  const [tag, setTag] = useState<string | null>(null);
  const [editing, setEditing] = useState<{ id: string; what: 'title' | 'tags' } | null>(null);
  const [deleting, setDeleting] = useState<Session | null>(null);
  const groups = groupSessions(sessions ?? [], query, tag);
  const searched = useSearch(query, props.search);
  const found = tag === null ? extraResults(searched.results, groups) : [];
  const nothingShown = groups.pinned.length + groups.others.length === 0;

  const row = (s: Session) => (
    <li key={s.id} class={s.id === currentId ? 'current' : ''}>
      {editing?.id === s.id ? (
        editing.what === 'title' ? (
          <InlineInput
            value={s.title}
            label={t('sidebar.titleField')}
            maxLength={200}
            onSave={(title) => {
              setEditing(null);
              props.onUpdate(s.id, { title });
            }}
            onCancel={() => setEditing(null)}
          />
        ) : (
          <InlineInput
            value={s.tags.join(', ')}
            label={t('sidebar.tagsField', s.title)}
            placeholder={t('sidebar.tagsPlaceholder')}
            maxLength={500}
            allowEmpty
            onSave={(text) => {
              setEditing(null);
              props.onUpdate(s.id, { tags: parseTags(text) });
            }}
            onCancel={() => setEditing(null)}
          />
        )
      ) : (
        <>
          <div class="entry">
            <a href={pathForSession(s.id)} aria-current={s.id === currentId ? 'page' : undefined} onClick={openOnClick(props.onOpen, s.id)}>
              {s.title}
            </a>
            {s.tags.length > 0 && (
              <div class="tags">
                {s.tags.map((name) => (
                  <button type="button" key={name} class={name === tag ? 'tag-chip active' : 'tag-chip'} title={t('sidebar.showTagged', name)} onClick={() => setTag(name === tag ? null : name)}>
                    {name}
                  </button>
                ))}
              </div>
            )}
          </div>
          {s.answering && <span class="answering-dot" role="img" aria-label={t('sidebar.answering')} title={t('sidebar.answeringTitle')} />}
          <span class="row-actions">
            <button
              type="button"
              class={s.pinned ? 'icon pinned' : 'icon'}
              aria-label={s.pinned ? t('sidebar.unpinNamed', s.title) : t('sidebar.pinNamed', s.title)}
              aria-pressed={s.pinned}
              title={s.pinned ? t('sidebar.unpin') : t('sidebar.pin')}
              onClick={() => props.onUpdate(s.id, { pinned: !s.pinned })}
            >
              <PinIcon filled={s.pinned} />
            </button>
            <button type="button" class="icon" aria-label={t('sidebar.editTagsNamed', s.title)} title={t('sidebar.tags')} onClick={() => setEditing({ id: s.id, what: 'tags' })}>
              <TagIcon />
            </button>
            <button type="button" class="icon" aria-label={t('sidebar.renameNamed', s.title)} title={t('sidebar.rename')} onClick={() => setEditing({ id: s.id, what: 'title' })}>
              <PencilIcon />
            </button>
            <button type="button" class="icon" aria-label={t('sidebar.deleteNamed', s.title)} title={t('sidebar.delete')} onClick={() => setDeleting(s)}>
              <TrashIcon />
            </button>
          </span>
        </>
      )}
    </li>
  );

  return (
    <aside
      class={props.open ? 'sidebar open' : 'sidebar'}
      id="sidebar"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && props.open) props.onClose();
      }}
    >
      <div class="sidebar-head">
        <button type="button" class="button ghost small close-drawer" aria-label={t('sidebar.close')} onClick={props.onClose}>
          ✕
        </button>
        <span class="brand">{t('app.name')}</span>
        <button type="button" class="button primary small" onClick={props.onNew}>
          {t('sidebar.newChat')}
        </button>
      </div>
      <input
        class="filter"
        type="search"
        aria-label={t('sidebar.search')}
        placeholder={t('sidebar.search')}
        maxLength={200}
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
      />
      {tag !== null && (
        <div class="tag-filter">
          <span>
            {t('sidebar.tagged')} <span class="tag-chip active">{tag}</span>
          </span>
          <button type="button" class="button ghost small" aria-label={t('sidebar.clearTagNamed', tag)} onClick={() => setTag(null)}>
            ✕
          </button>
        </div>
      )}
      <div class="sidebar-lists">
        {found.length > 0 && (
          <section class="search-results" aria-label={t('sidebar.searchResults')}>
            <h3 class="group-title">{t('sidebar.inMessages')}</h3>
            <ul>
              {found.map((r) => (
                <li key={r.sessionId} class={r.sessionId === currentId ? 'current' : ''}>
                  <a href={pathForSession(r.sessionId)} onClick={openOnClick(props.onOpen, r.sessionId)}>
                    <span class="hit-title">{r.messageId === null ? <Highlighted text={r.snippet} highlights={r.highlights} /> : r.title}</span>
                    {r.messageId !== null && (
                      <span class="hit-snippet">
                        <Highlighted text={r.snippet} highlights={r.highlights} />
                      </span>
                    )}
                  </a>
                </li>
              ))}
            </ul>
          </section>
        )}
        <nav aria-label={t('sidebar.list')} class="conversations">
          {sessions === null ? (
            <p class="sidebar-empty">{t('sidebar.loading')}</p>
          ) : nothingShown ? (
            <p class="sidebar-empty">
              {query.trim() || tag !== null
                ? found.length > 0
                  ? t('sidebar.noTitleMatch')
                  : searched.failed
                    ? t('sidebar.noTitleMatchSearchFailed')
                    : t('sidebar.noMatch')
                : t('sidebar.empty')}
            </p>
          ) : (
            <>
              {groups.pinned.length > 0 && (
                <>
                  <h3 class="group-title">{t('sidebar.pinned')}</h3>
                  <ul aria-label={t('sidebar.pinned')}>{groups.pinned.map(row)}</ul>
                  {groups.others.length > 0 && <h3 class="group-title">{t('sidebar.recent')}</h3>}
                </>
              )}
              {groups.others.length > 0 && <ul>{groups.others.map(row)}</ul>}
            </>
          )}
        </nav>
      </div>
      {props.account}
      <div class="sidebar-foot">
        <span class="user" title={props.username}>
          {props.username}
        </span>
        <button type="button" class="button ghost small" onClick={props.onLogout}>
          {t('sidebar.logOut')}
        </button>
      </div>
      {deleting && (
        <ConfirmDialog
          title={t('sidebar.deleteTitle')}
          body={t('sidebar.deleteBody', deleting.title)}
          confirmLabel={t('sidebar.delete')}
          onCancel={() => setDeleting(null)}
          onConfirm={() => {
            const id = deleting.id;
            setDeleting(null);
            props.onDelete(id);
          }}
        />
      )}
    </aside>
  );
}
