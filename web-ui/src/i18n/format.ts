// Numbers and plurals through Intl, for the dictionaries' entries that take counts.

/** 12,345 in English, 12,345 in Chinese too; `digits` fixes the decimals (21.4). */
export const formatNumber = (locale: string, n: number, digits?: number): string =>
  new Intl.NumberFormat(locale, digits === undefined ? {} : { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);

/** The form of a counted word the language's plural rules pick: `1 day`, `2 days`. */
export const plural = (locale: string, n: number, forms: { readonly one?: string; readonly other: string }): string =>
  (new Intl.PluralRules(locale).select(n) === 'one' ? forms.one : undefined) ?? forms.other;
