// The UI's languages: English and Simplified Chinese. The language is the stored choice (Settings),
// else the first of the browser's languages this app speaks, else English. `t` reads the active
// one; components re-render on a change through useLocale().
import { en, type Dictionary } from './en';
import { zhCN } from './zh-CN';

export type Locale = 'en' | 'zh-CN';
export type MessageKey = keyof Dictionary;
type Args<K extends MessageKey> = Dictionary[K] extends (...args: infer A) => string ? A : [];

/** The choices in Settings, each named in its own language. */
export const LOCALES: readonly { readonly id: Locale; readonly name: string }[] = [
  { id: 'en', name: 'English' },
  { id: 'zh-CN', name: '简体中文' },
];

export const DICTIONARIES: Readonly<Record<Locale, Dictionary>> = { en, 'zh-CN': zhCN };

export const isLocale = (value: unknown): value is Locale => LOCALES.some((l) => l.id === value);

/** The first of the browser's languages (navigator.languages, best first) the UI has; English otherwise. */
export function pickLocale(languages: readonly string[]): Locale {
  for (const language of languages) {
    const tag = language.toLowerCase();
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

export function translate<K extends MessageKey>(locale: Locale, key: K, ...args: Args<K>): string {
  const entry = DICTIONARIES[locale][key] as string | ((...a: Args<K>) => string);
  return typeof entry === 'function' ? entry(...args) : entry;
}

let active: Locale = 'en';
const listeners = new Set<() => void>();

export const activeLocale = (): Locale => active;

/** A string of the UI in the active language. */
export const t = <K extends MessageKey>(key: K, ...args: Args<K>): string => translate(active, key, ...args);

export function setActiveLocale(locale: Locale): void {
  active = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
  for (const listener of listeners) listener();
}

export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const KEY = 'freechat.locale';

/** The stored choice, else the browser's languages. */
export function initialLocale(stored: string | null, languages: readonly string[]): Locale {
  return isLocale(stored) ? stored : pickLocale(languages);
}

export const loadLocale = (): Locale => initialLocale(localStorage.getItem(KEY), navigator.languages ?? [navigator.language]);

/** The user picked a language in Settings: remembered on this browser. */
export function chooseLocale(locale: Locale): void {
  localStorage.setItem(KEY, locale);
  setActiveLocale(locale);
}
