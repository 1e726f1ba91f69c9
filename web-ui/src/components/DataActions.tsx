// The account's data: every conversation downloaded as one JSON file, and importing a file (a Free
// Chat export, or ChatGPT's conversations.json) as new conversations.
import { useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';
import { saveFile } from '../state/download';
import { t } from '../i18n';

export function DataActions({ client, onImported }: { client: ApiClient; onImported: () => void }) {
  const picker = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);
  const [working, setWorking] = useState(false);

  const exportAll = () => {
    setStatus(null);
    client.exportAll().then(
      ({ blob, filename }) => saveFile(blob, filename),
      (error: unknown) => setStatus({ text: describeError(error), error: true }),
    );
  };

  const importFile = async (file: File) => {
    setWorking(true);
    setStatus({ text: t('data.importing', file.name), error: false });
    try {
      const { imported } = await client.importFile(await file.text());
      const messages = imported.reduce((n, s) => n + s.messages, 0);
      setStatus({ text: t('data.imported', imported.length, messages), error: false });
      onImported();
    } catch (error) {
      setStatus({ text: t('data.importFailed', describeError(error)), error: true });
    } finally {
      setWorking(false);
    }
  };

  return (
    <div class="data-actions" aria-label={t('data.group')} role="group">
      <div class="data-buttons">
        <button type="button" class="button ghost small" onClick={exportAll}>
          {t('data.exportAll')}
        </button>
        <button type="button" class="button ghost small" disabled={working} onClick={() => picker.current?.click()}>
          {t('data.import')}
        </button>
        <input
          ref={picker}
          type="file"
          accept=".json,application/json"
          aria-label={t('data.importFile')}
          hidden
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) void importFile(file);
          }}
        />
      </div>
      {status && (
        <p class={status.error ? 'data-status error-note' : 'data-status'} role={status.error ? 'alert' : 'status'}>
          {status.text}
        </p>
      )}
    </div>
  );
}
