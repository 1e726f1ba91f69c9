// The `?` overlay: every keyboard shortcut and its keys, on the native modal <dialog> (focus kept
// inside, Esc closes); the focus goes back where it was when it closes.
import { Fragment } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { SHORTCUTS, isMacPlatform, shortcutKeys, type ShortcutAction } from '../state/shortcuts';
import { t } from '../i18n';

const description = (action: ShortcutAction): string => t(`shortcuts.${action}`);

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const before = document.activeElement;
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => {
      el?.close();
      if (before instanceof HTMLElement) before.focus();
    };
  }, []);
  const mac = isMacPlatform(navigator.platform);
  return (
    <dialog
      ref={dialog}
      class="dialog shortcuts"
      aria-labelledby="shortcuts-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the dialog itself.
        if (e.target === dialog.current) onClose();
      }}
    >
      <h2 id="shortcuts-title">{t('shortcuts.title')}</h2>
      <dl class="shortcut-list">
        {SHORTCUTS.map((s) => (
          <div class="shortcut" key={s.action}>
            <dt>{description(s.action)}</dt>
            <dd>
              {shortcutKeys(s, mac).map((k, i) => (
                <Fragment key={k}>
                  {i > 0 && <span class="plus">+</span>}
                  <kbd>{k}</kbd>
                </Fragment>
              ))}
            </dd>
          </div>
        ))}
      </dl>
      <div class="dialog-actions">
        <button type="button" class="button primary" onClick={onClose} autoFocus>
          {t('dialog.close')}
        </button>
      </div>
    </dialog>
  );
}
