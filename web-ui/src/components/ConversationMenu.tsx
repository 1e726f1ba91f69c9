// The open conversation's "⋯" menu: download it (Markdown of the branch shown, or JSON with every
// branch) and share it (a read-only link to the branch as it is now, with Copy and Revoke).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';
import type { ShareLink } from '../api/types';
import { saveFile } from '../state/download';
import { copyText } from './copy-code';
import { t } from '../i18n';

export function ConversationMenu({ client, sessionId, onError }: { client: ApiClient; sessionId: string; onError: (message: string | null) => void }) {
  const menu = useRef<HTMLDetailsElement>(null);
  const [sharing, setSharing] = useState(false);
  const close = () => menu.current?.removeAttribute('open');

  const download = (format: 'json' | 'markdown') => {
    close();
    client.exportSession(sessionId, format).then(
      ({ blob, filename }) => saveFile(blob, filename),
      (error: unknown) => onError(describeError(error)),
    );
  };

  return (
    <>
      <details class="menu-popover" ref={menu}>
        <summary class="icon" aria-label={t('menu.actions')} title={t('menu.actions')}>
          ⋯
        </summary>
        <div class="menu-items" role="menu">
          <button type="button" role="menuitem" onClick={() => download('markdown')}>
            {t('menu.exportMarkdown')}
          </button>
          <button type="button" role="menuitem" onClick={() => download('json')}>
            {t('menu.exportJson')}
          </button>
          <button
            type="button"
            role="menuitem"
            onClick={() => {
              close();
              setSharing(true);
            }}
          >
            {t('menu.share')}
          </button>
        </div>
      </details>
      {sharing && <ShareDialog client={client} sessionId={sessionId} onClose={() => setSharing(false)} />}
    </>
  );
}

type ShareState = { kind: 'creating' } | { kind: 'shared'; link: ShareLink } | { kind: 'revoked' } | { kind: 'failed'; message: string };

/** Creates a link when it opens; the link can be copied, or every link of the conversation revoked. */
function ShareDialog({ client, sessionId, onClose }: { client: ApiClient; sessionId: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [state, setState] = useState<ShareState>({ kind: 'creating' });
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.close();
  }, []);
  useEffect(() => {
    client.share(sessionId).then(
      (link) => setState({ kind: 'shared', link }),
      (error: unknown) => setState({ kind: 'failed', message: describeError(error) }),
    );
  }, [client, sessionId]);
  const url = state.kind === 'shared' ? new URL(state.link.url, location.origin).href : '';

  const revoke = () =>
    client.revokeShares(sessionId).then(
      () => setState({ kind: 'revoked' }),
      (error: unknown) => setState({ kind: 'failed', message: describeError(error) }),
    );

  return (
    <dialog
      ref={dialog}
      class="dialog share-dialog"
      aria-labelledby="share-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id="share-title">{t('share.title')}</h2>
      {state.kind === 'creating' && <p>{t('share.creating')}</p>}
      {state.kind === 'shared' && (
        <>
          <p>{t('share.explain')}</p>
          <div class="share-link">
            <input type="text" readOnly aria-label={t('share.link')} value={url} onFocus={(e) => e.currentTarget.select()} />
            <button type="button" class="button primary" onClick={() => void copyText(url).then((ok) => setCopied(ok ? 'copied' : 'failed'))}>
              {copied === 'copied' ? t('message.copied') : copied === 'failed' ? t('message.copyFailed') : t('message.copy')}
            </button>
          </div>
        </>
      )}
      {state.kind === 'revoked' && <p role="status">{t('share.revoked')}</p>}
      {state.kind === 'failed' && <p role="alert">{state.message}</p>}
      <div class="dialog-actions">
        {state.kind === 'shared' && (
          <button type="button" class="button ghost" onClick={() => void revoke()}>
            {t('share.revoke')}
          </button>
        )}
        <button type="button" class="button ghost" onClick={onClose}>
          {t('share.done')}
        </button>
      </div>
    </dialog>
  );
}
