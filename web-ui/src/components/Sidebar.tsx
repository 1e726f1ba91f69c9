// Conversations, newest first: new chat, filter, rename inline, delete with confirmation.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../api/types';
import { pathForSession } from '../state/route';
import { ConfirmDialog } from './ConfirmDialog';
import { t } from '../i18n';

export interface SidebarProps {
  readonly sessions: readonly Session[] | null;
  readonly currentId: string | null;
  readonly username: string;
  readonly open: boolean;
  readonly onOpen: (id: string) => void;
  readonly onNew: () => void;
  readonly onRename: (id: string, title: string) => void;
  readonly onDelete: (id: string) => void;
  readonly onLogout: () => void;
  /** Folds the drawer on a phone. */
  readonly onClose: () => void;
}

function RenameInput({ title, onSave, onCancel }: { title: string; onSave: (title: string) => void; onCancel: () => void }) {
  const [value, setValue] = useState(title);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  return (
    <input
      ref={input}
      class="rename"
      aria-label={t('sidebar.titleField')}
      value={value}
      maxLength={200}
      onInput={(e) => setValue(e.currentTarget.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          if (value.trim() !== '' && value.trim() !== title) onSave(value.trim());
          else onCancel();
        } else if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onCancel();
        }
      }}
      onBlur={onCancel}
    />
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

export function Sidebar(props: SidebarProps) {
  const { sessions, currentId } = props;
  const [filter, setFilter] = useState('');
  const [renaming, setRenaming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Session | null>(null);
  const needle = filter.trim().toLowerCase();
  const shown = sessions?.filter((s) => needle === '' || s.title.toLowerCase().includes(needle)) ?? [];

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
      <input class="filter" type="search" aria-label={t('sidebar.filter')} placeholder={t('sidebar.filter')} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      <nav aria-label={t('shell.conversations')} class="conversations">
        {sessions === null ? (
          <p class="sidebar-empty">{t('sidebar.loading')}</p>
        ) : shown.length === 0 ? (
          <p class="sidebar-empty">{needle ? t('sidebar.noMatch') : t('sidebar.empty')}</p>
        ) : (
          <ul>
            {shown.map((s) => (
              <li key={s.id} class={s.id === currentId ? 'current' : ''}>
                {renaming === s.id ? (
                  <RenameInput
                    title={s.title}
                    onSave={(title) => {
                      setRenaming(null);
                      props.onRename(s.id, title);
                    }}
                    onCancel={() => setRenaming(null)}
                  />
                ) : (
                  <>
                    <a
                      href={pathForSession(s.id)}
                      aria-current={s.id === currentId ? 'page' : undefined}
                      onClick={(e) => {
                        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                        e.preventDefault();
                        props.onOpen(s.id);
                      }}
                    >
                      {s.title}
                    </a>
                    <span class="row-actions">
                      <button type="button" class="icon" aria-label={t('sidebar.renameNamed', s.title)} title={t('sidebar.rename')} onClick={() => setRenaming(s.id)}>
                        <PencilIcon />
                      </button>
                      <button type="button" class="icon" aria-label={t('sidebar.deleteNamed', s.title)} title={t('sidebar.delete')} onClick={() => setDeleting(s)}>
                        <TrashIcon />
                      </button>
                    </span>
                  </>
                )}
              </li>
            ))}
          </ul>
        )}
      </nav>
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
