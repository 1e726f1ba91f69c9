// The "Copy code" buttons live inside rendered Markdown, so one delegated listener serves them all.
import { t } from '../i18n';
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API (plain http on another host): the old way.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

export function copyCodeFromClick(event: MouseEvent): void {
  const button = (event.target as Element | null)?.closest?.('button[data-copy-code]');
  if (!(button instanceof HTMLButtonElement)) return;
  const code = button.closest('.code-block')?.querySelector('code');
  if (!code) return;
  void copyText(code.textContent ?? '').then((ok) => {
    button.textContent = ok ? t('message.copied') : t('message.copyFailed');
    setTimeout(() => {
      button.textContent = t('message.copy');
    }, 1_500);
  });
}
