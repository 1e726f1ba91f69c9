// How long the model thought for an answer is known only while watching it; remembered per message
// id (most recent few hundred) so "Thought for N s" survives a reload.
const KEY = 'freechat.thinkingMs';
const LIMIT = 300;

function read(): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, number>) : {};
  } catch {
    return {};
  }
}

export function thinkingMsOf(messageId: string): number | null {
  const value = read()[messageId];
  return typeof value === 'number' ? value : null;
}

export function rememberThinkingMs(messageId: string, ms: number): void {
  const entries = Object.entries(read()).filter(([id]) => id !== messageId);
  entries.push([messageId, ms]);
  try {
    localStorage.setItem(KEY, JSON.stringify(Object.fromEntries(entries.slice(-LIMIT))));
  } catch {
    // Storage full or disabled: the label falls back.
  }
}
