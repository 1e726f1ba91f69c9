// The usage line in the settings panel, from GET /api/me/usage. Pure.
import type { UsageReport } from '../api/types';

const count = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, word: string): string => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

export function describeUsage(report: UsageReport, days: number, today: string = new Date().toISOString().slice(0, 10)): string {
  const { total } = report;
  if (total.requests === 0) return `No answers in the last ${plural(days, 'day')}.`;
  const tokens = total.promptTokens + total.completionTokens;
  const window = `Last ${plural(days, 'day')}: ${plural(total.requests, 'answer')}, ${plural(tokens, 'token')} (${count(total.promptTokens)} prompt + ${count(total.completionTokens)} completion).`;
  const todays = report.days.find((d) => d.date === today);
  return todays ? `${window} Today: ${plural(todays.requests, 'answer')}.` : window;
}
