import { useEffect, useState } from 'preact/hooks';
import type { UsageReport } from '../api/types';
import { LIMITS, maxTokensBound, THEMES, type Settings, type Theme } from '../state/settings';
import { describeUsage } from '../state/usage';
import { LOCALES, activeLocale, chooseLocale, t, type Locale, type MessageKey } from '../i18n';

const USAGE_DAYS = 30;
const THEME_NAMES: Readonly<Record<Theme, MessageKey>> = { system: 'settings.themeSystem', light: 'settings.themeLight', dark: 'settings.themeDark' };

export function SettingsPanel({
  settings,
  onChange,
  loadUsage,
  modelMaxTokens,
}: {
  settings: Settings;
  /** The model's maxNewTokensLimit (GET /api/models); undefined while unknown. */
  modelMaxTokens?: number | undefined;
  onChange: (settings: Settings) => void;
  /** The signed-in user's usage; asked once each time the panel opens. */
  loadUsage?: (days: number) => Promise<UsageReport>;
}) {
  const number = (value: string, fallback: number): number => {
    const n = Number(value);
    return value.trim() === '' || !Number.isFinite(n) ? fallback : n;
  };
  const maxTokens = maxTokensBound(modelMaxTokens);
  return (
    <section id="settings-panel" class="settings" aria-label={t('settings.label')}>
      <label class="check">
        <input type="checkbox" checked={settings.thinking} onChange={(e) => onChange({ ...settings, thinking: e.currentTarget.checked })} />
        {t('settings.thinking')}
      </label>
      <label>
        {t('settings.temperature')}
        <input
          type="number"
          min={LIMITS.temperature.min}
          max={LIMITS.temperature.max}
          step={0.1}
          value={settings.temperature}
          onChange={(e) => onChange({ ...settings, temperature: Math.min(LIMITS.temperature.max, Math.max(LIMITS.temperature.min, number(e.currentTarget.value, settings.temperature))) })}
        />
      </label>
      <label>
        {t('settings.maxTokens')}
        <input
          type="number"
          min={LIMITS.maxTokens.min}
          max={maxTokens}
          step={1}
          value={settings.maxTokens}
          onChange={(e) => onChange({ ...settings, maxTokens: Math.round(Math.min(maxTokens, Math.max(LIMITS.maxTokens.min, number(e.currentTarget.value, settings.maxTokens)))) })}
        />
      </label>
      <fieldset class="segmented">
        <legend>{t('settings.theme')}</legend>
        {THEMES.map((theme) => (
          <label key={theme}>
            <input type="radio" name="theme" value={theme} checked={settings.theme === theme} onChange={() => onChange({ ...settings, theme })} />
            {t(THEME_NAMES[theme])}
          </label>
        ))}
      </fieldset>
      <label>
        {t('settings.language')}
        <select value={activeLocale()} onChange={(e) => chooseLocale(e.currentTarget.value as Locale)}>
          {LOCALES.map((l) => (
            <option key={l.id} value={l.id} lang={l.id}>
              {l.name}
            </option>
          ))}
        </select>
      </label>
      {loadUsage && <UsageLine load={loadUsage} />}
    </section>
  );
}

function UsageLine({ load }: { load: (days: number) => Promise<UsageReport> }) {
  const [text, setText] = useState(() => t('settings.usageLoading'));
  useEffect(() => {
    let current = true;
    load(USAGE_DAYS).then(
      (report) => current && setText(describeUsage(report, USAGE_DAYS)),
      // Usage is a nicety: the panel's settings still work without it.
      () => current && setText(t('settings.usageUnavailable')),
    );
    return () => {
      current = false;
    };
  }, [load]);
  return (
    <p class="usage" role="status">
      {text}
    </p>
  );
}
