// A person's preferences: their defaults, the rules a change must follow, and how a stored document
// reads back. Pure; settings-repository.ts stores them, grpc-mapping.ts translates the proto.
import { InvalidArgumentError } from './errors.js';

export const THEMES = ['system', 'light', 'dark'] as const;
export type ThemeName = (typeof THEMES)[number];

/** What a person has: every field set, `language` only once they chose one. */
export interface UserSettingsRecord {
  readonly thinking: boolean;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly theme: ThemeName;
  readonly language?: string;
}

/** A change: only the fields given. `language: null` forgets the chosen language. */
export interface SettingsPatch {
  readonly thinking?: boolean;
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly theme?: ThemeName;
  readonly language?: string | null;
}

export const DEFAULT_USER_SETTINGS: UserSettingsRecord = { thinking: true, temperature: 0.7, maxTokens: 1024, theme: 'system' };
export const SETTINGS_LIMITS = { temperature: { min: 0, max: 2 }, maxTokens: { min: 1, max: 32_768 } } as const;

/**
 * A short BCP 47 tag: a language of 2–3 letters, then optionally a script (4 letters) and a region
 * (2 letters or 3 digits): "en", "zh-CN", "zh-Hans-CN", "es-419". Enough for an interface language.
 */
const LANGUAGE_TAG = /^([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?$/i;

/** The tag in its conventional case ("zh-cn" → "zh-CN"), or undefined when it is not one. */
export function canonicalLanguageTag(tag: string): string | undefined {
  const match = LANGUAGE_TAG.exec(tag);
  if (!match) return undefined;
  const [, language, script, region] = match;
  return [language!.toLowerCase(), script && script[0]!.toUpperCase() + script.slice(1).toLowerCase(), region?.toUpperCase()].filter(Boolean).join('-');
}

/** Throws InvalidArgumentError naming the proto field; returns the patch as it is to be stored. */
export function validateSettingsPatch(patch: SettingsPatch): SettingsPatch {
  const { temperature, maxTokens, language } = patch;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= SETTINGS_LIMITS.temperature.min && temperature <= SETTINGS_LIMITS.temperature.max)) {
    throw new InvalidArgumentError('temperature', `must be between ${SETTINGS_LIMITS.temperature.min} and ${SETTINGS_LIMITS.temperature.max}`);
  }
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens >= SETTINGS_LIMITS.maxTokens.min && maxTokens <= SETTINGS_LIMITS.maxTokens.max)) {
    throw new InvalidArgumentError('max_tokens', `must be an integer from ${SETTINGS_LIMITS.maxTokens.min} to ${SETTINGS_LIMITS.maxTokens.max}`);
  }
  if (patch.theme !== undefined && !THEMES.includes(patch.theme)) throw new InvalidArgumentError('theme', 'must be system, light or dark');
  if (language === undefined || language === null) return patch;
  const canonical = canonicalLanguageTag(language);
  if (!canonical) throw new InvalidArgumentError('language', 'must be a language tag such as "en" or "zh-CN"');
  return { ...patch, language: canonical };
}

/**
 * The stored document with the defaults under it. Forgiving: a value that breaks today's rules (a
 * limit narrowed since it was saved) reads as its default instead of failing every later read.
 */
export function readStoredSettings(stored: unknown): UserSettingsRecord {
  const doc = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  const valid = <T>(value: unknown, accept: (v: unknown) => v is T, fallback: T): T => (accept(value) ? value : fallback);
  const inRange = (limits: { min: number; max: number }, integer: boolean) => (v: unknown): v is number =>
    typeof v === 'number' && (integer ? Number.isInteger(v) : Number.isFinite(v)) && v >= limits.min && v <= limits.max;
  const language = doc['language'];
  return {
    thinking: valid(doc['thinking'], (v): v is boolean => typeof v === 'boolean', DEFAULT_USER_SETTINGS.thinking),
    temperature: valid(doc['temperature'], inRange(SETTINGS_LIMITS.temperature, false), DEFAULT_USER_SETTINGS.temperature),
    maxTokens: valid(doc['maxTokens'], inRange(SETTINGS_LIMITS.maxTokens, true), DEFAULT_USER_SETTINGS.maxTokens),
    theme: valid(doc['theme'], (v): v is ThemeName => THEMES.includes(v as ThemeName), DEFAULT_USER_SETTINGS.theme),
    ...(typeof language === 'string' && canonicalLanguageTag(language) !== undefined && { language }),
  };
}

/** The patch as the repository applies it: keys to set (merged into the document) and keys to remove. */
export function toStoredChange(patch: SettingsPatch): { readonly set: Record<string, unknown>; readonly remove: string[] } {
  const set = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined && value !== null));
  return { set, remove: patch.language === null ? ['language'] : [] };
}
