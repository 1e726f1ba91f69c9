// The title writer's pure parts: what to ask the model, and how to turn its answer into a title.
export const MAX_GENERATED_TITLE_CHARS = 60;
/** Of each message, this much goes into the prompt: a title needs the gist, not the whole answer. */
const EXCERPT_CHARS = 600;

export function titlePrompt(exchange: { user: string; assistant: string }): { system: string; user: string } {
  return {
    system: 'You name conversations. Reply with a title of 3 to 6 words and nothing else: no quotes, no final punctuation.',
    user: `Write a 3-6 word title for this conversation.\n\nUser: ${excerpt(exchange.user)}\n\nAssistant: ${excerpt(exchange.assistant)}`,
  };
}

/**
 * The model's answer → a title, or undefined when nothing usable is left: reasoning (`<think>`, also
 * unclosed) dropped, the first non-empty line, a "Title:" label, Markdown emphasis and headings,
 * surrounding quotes and trailing punctuation removed, whitespace collapsed, at most 60 characters
 * (cut at a word boundary when there is one).
 */
export function cleanTitle(raw: string): string | undefined {
  let text = raw.replace(/<think>[\s\S]*?(<\/think>|$)/gi, '').replace(/<\/?think>/gi, '');
  text = text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? '';
  text = text.replace(/[*_`]+/g, '');
  text = text.replace(/^#+\s*/, '').replace(/^title\s*:\s*/i, '');
  text = text.replace(/^["'“”‘’«»\s]+|["'“”‘’«»\s]+$/g, '');
  text = text.replace(/[\s.,;:!?。…-]+$/u, '');
  text = text.replace(/\s+/g, ' ').trim();
  const chars = [...text];
  if (chars.length > MAX_GENERATED_TITLE_CHARS) {
    const cut = chars.slice(0, MAX_GENERATED_TITLE_CHARS).join('');
    const space = cut.lastIndexOf(' ');
    text = (space >= MAX_GENERATED_TITLE_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, '');
  }
  return text === '' ? undefined : text;
}

function excerpt(text: string): string {
  const chars = [...text.trim()];
  return chars.length <= EXCERPT_CHARS ? chars.join('') : `${chars.slice(0, EXCERPT_CHARS).join('')}…`;
}
