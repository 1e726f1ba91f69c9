// Generation settings, kept in localStorage. Parsing is pure and forgiving: anything invalid falls
// back to the default for that field.
export interface Settings {
  readonly thinking: boolean;
  readonly temperature: number;
  readonly maxTokens: number;
}

export const DEFAULT_SETTINGS: Settings = { thinking: true, temperature: 0.7, maxTokens: 1024 };
export const LIMITS = { temperature: { min: 0, max: 2 }, maxTokens: { min: 1, max: 32_768 } } as const;

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

export function parseSettings(raw: string | null): Settings {
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw === null ? {} : JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
  } catch {
    // Corrupt storage: defaults.
  }
  const num = (key: 'temperature' | 'maxTokens'): number => {
    const value = data[key];
    return typeof value === 'number' && Number.isFinite(value) ? clamp(value, LIMITS[key].min, LIMITS[key].max) : DEFAULT_SETTINGS[key];
  };
  return {
    thinking: typeof data['thinking'] === 'boolean' ? data['thinking'] : DEFAULT_SETTINGS.thinking,
    temperature: num('temperature'),
    maxTokens: Math.round(num('maxTokens')),
  };
}

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

const KEY = 'freechat.settings';
export const loadSettings = (): Settings => parseSettings(localStorage.getItem(KEY));
export const saveSettings = (settings: Settings): void => localStorage.setItem(KEY, JSON.stringify(settings));
