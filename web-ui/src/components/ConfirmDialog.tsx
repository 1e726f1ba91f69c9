// A modal confirmation on the native <dialog>: focus trap, Escape and the backdrop for free.
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';

export interface ConfirmDialogProps {
  readonly title: string;
  readonly body: preact.ComponentChildren;
  readonly confirmLabel: string;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

export function ConfirmDialog({ title, body, confirmLabel, onConfirm, onCancel }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      <p>{body}</p>
      <div class="dialog-actions">
        <button type="button" class="button ghost" onClick={onCancel}>
          {t('dialog.cancel')}
        </button>
        <button type="button" class="button danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
