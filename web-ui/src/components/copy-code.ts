// The "Copy code" buttons live inside rendered Markdown, so one delegated listener serves them all.
import { t } from '../i18n';
import { mermaidImage } from '../markdown/mermaid-diagram';
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

/** "Show diagram" on a finished mermaid block: the drawing goes under the code, which stays. */
function showDiagram(button: HTMLButtonElement): void {
  const block = button.closest('.code-block');
  const source = block?.querySelector('code')?.textContent;
  if (!block || !source) return;
  button.disabled = true;
  // The page's scheme: pinned by data-theme (theme.ts), else the system's.
  const pinned = document.documentElement.dataset['theme'];
  const dark = pinned ? pinned === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  void mermaidImage(source, dark).then(
    (src) => {
      const image = document.createElement('img');
      image.className = 'mermaid-diagram';
      image.alt = t('message.diagram');
      image.src = src;
      block.append(image);
      button.remove();
    },
    (error: unknown) => {
      const note = document.createElement('p');
      note.className = 'note error-note';
      note.textContent = t('message.diagramFailed', error instanceof Error ? error.message : String(error));
      block.append(note);
      button.remove();
    },
  );
}

export function copyCodeFromClick(event: MouseEvent): void {
  const diagram = (event.target as Element | null)?.closest?.('button[data-mermaid]');
  if (diagram instanceof HTMLButtonElement) return showDiagram(diagram);
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
