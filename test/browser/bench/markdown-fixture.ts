// Deterministic, realistic Markdown for the UI benchmark: headings, prose with inline code and
// emphasis, lists, tables and fenced code blocks, cut into model-sized tokens (about four
// characters, split at word boundaries the way BPE pieces usually fall).

const WORDS = (
  'the service keeps every answer in a run log so a browser that reloads can replay it from the first event ' +
  'while the database stores the text as it grows and a reaper closes runs whose worker died before the end ' +
  'streaming tokens arrive in small pieces and the interface renders them once per frame without blocking input'
).split(' ');

const CODE_BLOCKS = [
  ['ts', 'export async function retry<T>(task: () => Promise<T>, attempts = 3): Promise<T> {\n  let last: unknown;\n  for (let i = 0; i < attempts; i++) {\n    try {\n      return await task();\n    } catch (error) {\n      last = error;\n      await new Promise((r) => setTimeout(r, 2 ** i * 100));\n    }\n  }\n  throw last;\n}'],
  ['python', 'def chunks(items, size):\n    """Yield successive slices of at most size items."""\n    for start in range(0, len(items), size):\n        yield items[start:start + size]\n\nprint(list(chunks(list(range(10)), 3)))'],
  ['sql', 'SELECT s.id, s.title, count(m.id) AS messages\nFROM chat.sessions s\nJOIN chat.messages m ON m.session_id = s.id\nWHERE s.owner_id = $1 AND s.deleted_at IS NULL\nGROUP BY s.id\nORDER BY s.updated_at DESC\nLIMIT 20;'],
  ['bash', 'curl -N localhost:3000/api/sessions/$SESSION/messages \\\n  -H "authorization: Bearer $TOKEN" \\\n  -H "content-type: application/json" \\\n  -d \'{"content":"Hello"}\''],
] as const;

/** A pseudo-random but reproducible number generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sentence(next: () => number): string {
  const length = 8 + Math.floor(next() * 14);
  const words = Array.from({ length }, () => WORDS[Math.floor(next() * WORDS.length)]!);
  if (next() < 0.3) words[Math.floor(next() * length)] = `\`${words[0]}()\``;
  if (next() < 0.2) words[Math.floor(next() * length)] = `**${words[1]}**`;
  const text = words.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** One section of an answer: a heading, prose, and one of a list, a table or a code block. */
function section(index: number, next: () => number): string {
  const parts = [`## Part ${index + 1}\n\n`, `${sentence(next)} ${sentence(next)} ${sentence(next)}\n\n`];
  const kind = index % 3;
  if (kind === 0) {
    const [language, code] = CODE_BLOCKS[Math.floor(next() * CODE_BLOCKS.length)]!;
    parts.push(`\`\`\`${language}\n${code}\n\`\`\`\n\n`);
  } else if (kind === 1) {
    parts.push(Array.from({ length: 4 }, () => `- ${sentence(next)}\n`).join(''), '\n');
  } else {
    parts.push('| step | what happens | time |\n|---|---|---|\n');
    for (let row = 1; row <= 4; row++) parts.push(`| ${row} | ${sentence(next).slice(0, 40)} | ${Math.floor(next() * 90) + 10} ms |\n`);
    parts.push('\n');
  }
  parts.push(`${sentence(next)} ${sentence(next)}\n\n`);
  return parts.join('');
}

/** Pieces of about four characters: whitespace stays with the piece that follows it. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.match(/\s*\S+|\s+/g) ?? []) {
    for (let i = 0; i < word.length; i += 4) tokens.push(word.slice(i, i + 4));
  }
  return tokens;
}

/** Exactly `count` tokens of Markdown (the last section is cut where the count ends). */
export function markdownTokens(count: number, seed = 7): string[] {
  const next = random(seed);
  const tokens: string[] = [];
  for (let index = 0; tokens.length < count; index++) tokens.push(...tokenize(section(index, next)));
  return tokens.slice(0, count);
}

/** A message of a long conversation: questions are short, answers have Markdown and now and then code. */
export function conversationMessage(index: number): { role: 'user' | 'assistant'; content: string } {
  const next = random(1_000 + index);
  if (index % 2 === 0) return { role: 'user', content: `Question ${index / 2 + 1}: ${sentence(next)}` };
  return { role: 'assistant', content: section(index, next) + sentence(next) };
}
