// A person's settings: generation (thinking, temperature, max tokens) and the theme. The server
// keeps them per user (GET/PATCH /api/me/settings); localStorage keeps a copy for the first paint.
// Everything here is pure: parsing is forgiving (anything invalid falls back to the default for that
// field), and edits not yet saved are tracked as the fields that changed. settings-sync.ts does the I/O.
export type Theme = 'system' | 'light' | 'dark';
export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];

export interface Settings {
  readonly thinking: boolean;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly theme: Theme;
}

/** Fields changed here and not yet confirmed by the server. */
export type SettingsEdits = Partial<Settings>;

export const DEFAULT_SETTINGS: Settings = { thinking: true, temperature: 0.7, maxTokens: 1024, theme: 'system' };
export const LIMITS = { temperature: { min: 0, max: 2 }, maxTokens: { min: 1, max: 32_768 } } as const;

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** Settings from any value (the cache's JSON, the server's answer), field by field. */
export function settingsFrom(value: unknown): Settings {
  const data = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const num = (key: 'temperature' | 'maxTokens'): number => {
    const field = data[key];
    return typeof field === 'number' && Number.isFinite(field) ? clamp(field, LIMITS[key].min, LIMITS[key].max) : DEFAULT_SETTINGS[key];
  };
  return {
    thinking: typeof data['thinking'] === 'boolean' ? data['thinking'] : DEFAULT_SETTINGS.thinking,
    temperature: num('temperature'),
    maxTokens: Math.round(num('maxTokens')),
    theme: THEMES.includes(data['theme'] as Theme) ? (data['theme'] as Theme) : DEFAULT_SETTINGS.theme,
  };
}

/** The cached copy (a JSON string, or null when there is none). */
export function parseSettings(raw: string | null): Settings {
  try {
    return settingsFrom(raw === null ? null : JSON.parse(raw));
  } catch {
    // Corrupt storage: defaults.
    return DEFAULT_SETTINGS;
  }
}

/** The fields whose value differs between two settings. */
export function changedFields(before: Settings, after: Settings): SettingsEdits {
  return Object.fromEntries((Object.keys(after) as (keyof Settings)[]).filter((key) => before[key] !== after[key]).map((key) => [key, after[key]]));
}

/** Edits so far plus the latest change: a field changed twice keeps its last value. */
export const addEdits = (edits: SettingsEdits, before: Settings, after: Settings): SettingsEdits => ({ ...edits, ...changedFields(before, after) });

/** What the person sees once the server answers: the server's settings, except what they changed since. */
export const withEdits = (server: Settings, edits: SettingsEdits): Settings => ({ ...server, ...edits });

/** Edits left after `sent` was saved: a field changed again while it was on its way stays. */
export function editsAfterSave(edits: SettingsEdits, sent: SettingsEdits): SettingsEdits {
  return Object.fromEntries(Object.entries(edits).filter(([key, value]) => sent[key as keyof Settings] !== value));
}

export const hasEdits = (edits: SettingsEdits): boolean => Object.keys(edits).length > 0;

/** The value of <html data-theme>: absent for System, so the CSS follows prefers-color-scheme. */
export const themeAttribute = (theme: Theme): 'light' | 'dark' | undefined => (theme === 'system' ? undefined : theme);

/** The most `maxTokens` can be: the app's bound, or the model's `maxNewTokensLimit` when lower. */
export const maxTokensBound = (modelLimit: number | undefined): number =>
  modelLimit !== undefined && modelLimit >= LIMITS.maxTokens.min ? Math.min(LIMITS.maxTokens.max, modelLimit) : LIMITS.maxTokens.max;

/**
 * The settings as sent: `maxTokens` clamped to the model's limit (the API refuses more with 400).
 * The stored preference is kept as it is, so a model with a higher limit gets it back.
 */
export const withModelLimit = (settings: Settings, modelLimit: number | undefined): Settings => {
  const max = maxTokensBound(modelLimit);
  return settings.maxTokens > max ? { ...settings, maxTokens: max } : settings;
};

/**
 * A change the panel made to the settings it was shown (withModelLimit's) applied to the stored ones:
 * a maxTokens clamped for this model and not touched stays the person's preference.
 */
export const applyChange = (stored: Settings, modelLimit: number | undefined, changed: Settings): Settings => ({
  ...stored,
  ...changedFields(withModelLimit(stored, modelLimit), changed),
});

/** localStorage's copy: read before the first paint (also by theme-boot.ts), written on every change. */
export const SETTINGS_KEY = 'freechat.settings';
export const loadSettings = (storage: Pick<Storage, 'getItem'> = localStorage): Settings => parseSettings(storage.getItem(SETTINGS_KEY));
export const cacheSettings = (settings: Settings, storage: Pick<Storage, 'setItem'> = localStorage): void =>
  storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
