import { LIMITS, type Settings } from '../state/settings';

export function SettingsPanel({ settings, onChange }: { settings: Settings; onChange: (settings: Settings) => void }) {
  const number = (value: string, fallback: number): number => {
    const n = Number(value);
    return value.trim() === '' || !Number.isFinite(n) ? fallback : n;
  };
  return (
    <section id="settings-panel" class="settings" aria-label="Generation settings">
      <label class="check">
        <input type="checkbox" checked={settings.thinking} onChange={(e) => onChange({ ...settings, thinking: e.currentTarget.checked })} />
        Thinking
      </label>
      <label>
        Temperature
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
        Max tokens
        <input
          type="number"
          min={LIMITS.maxTokens.min}
          max={LIMITS.maxTokens.max}
          step={1}
          value={settings.maxTokens}
          onChange={(e) => onChange({ ...settings, maxTokens: Math.round(Math.min(LIMITS.maxTokens.max, Math.max(LIMITS.maxTokens.min, number(e.currentTarget.value, settings.maxTokens)))) })}
        />
      </label>
    </section>
  );
}
