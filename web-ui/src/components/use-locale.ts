// Re-renders the component when the language changes (Settings); `t` then reads the new one.
import { useEffect, useState } from 'preact/hooks';
import { activeLocale, onLocaleChange, type Locale } from '../i18n';

export function useLocale(): Locale {
  const [, setVersion] = useState(0);
  useEffect(() => onLocaleChange(() => setVersion((v) => v + 1)), []);
  return activeLocale();
}
