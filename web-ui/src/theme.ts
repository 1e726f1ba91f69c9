// The theme on the page: <html data-theme="light|dark"> pins the colour scheme (styles.css); without
// it the page follows the system's.
import { themeAttribute, type Theme } from './state/settings';

export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  const value = themeAttribute(theme);
  if (value) root.dataset['theme'] = value;
  else delete root.dataset['theme'];
}
