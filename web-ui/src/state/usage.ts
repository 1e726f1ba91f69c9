// The usage line in the settings panel, from GET /api/me/usage. Pure.
import type { UsageReport } from '../api/types';
import { t } from '../i18n';

export function describeUsage(report: UsageReport, days: number, today: string = new Date().toISOString().slice(0, 10)): string {
  const { total } = report;
  if (total.requests === 0) return t('usage.none', days);
  const tokens = total.promptTokens + total.completionTokens;
  const window = t('usage.window', { days, answers: total.requests, tokens, prompt: total.promptTokens, completion: total.completionTokens });
  const todays = report.days.find((d) => d.date === today);
  return todays ? `${window}${t('usage.today', todays.requests)}` : window;
}
