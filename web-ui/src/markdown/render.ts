// Markdown → HTML that is inert: raw HTML in the source is escaped (`html: false`), links pass
// markdown-it's protocol check (no javascript:, vbscript:, file:, data:), images are not loaded
// (a model could otherwise make the browser fetch any URL), links open in a new tab without an
// opener. Code blocks carry a "Copy code" button; highlight.js runs only on finished blocks, and
// so does KaTeX: TeX ($…$, $$…$$, \(…\), \[…\]) becomes MathML, which the browser lays out itself
// (no inline styles for the Content-Security-Policy to refuse, no fonts to load), `trust` off so no
// \href or \htmlClass gets through. GFM task lists (disabled boxes) and ~~strikethrough~~ render too.
import taskLists from 'markdown-it-task-lists';
import katex from 'katex';
import MarkdownIt from 'markdown-it';
import texmath from 'markdown-it-texmath';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { t } from '../i18n';

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

export interface RenderEnv {
  /**
   * The block is complete: highlight its code and typeset its math (the expensive parts, and a
   * half-streamed formula would flicker between errors); a growing block shows both as source.
   */
  readonly finished: boolean;
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
md.disable('image');
md.use(taskLists, { enabled: false });
md.use(texmath, { engine: katex, delimiters: ['dollars', 'brackets'], katexOptions: { output: 'mathml', trust: false, throwOnError: false, strict: 'ignore' } });

const escapeHtml = (text: string): string => md.utils.escapeHtml(text);

for (const rule of ['math_inline', 'math_inline_double', 'math_block', 'math_block_eqno']) {
  const typeset = md.renderer.rules[rule];
  if (!typeset) continue;
  md.renderer.rules[rule] = (tokens, idx, options, env: RenderEnv | undefined, self) =>
    env?.finished ? typeset(tokens, idx, options, env, self) : `<code class="math-source">${escapeHtml(tokens[idx]!.content)}</code>`;
}

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer');
  return self.renderToken(tokens, idx, options);
};

const codeBlock = (code: string, lang: string, env: RenderEnv | undefined): string => {
  const known = lang !== '' && hljs.getLanguage(lang) !== undefined;
  const body = env?.finished && known ? hljs.highlight(code, { language: lang, ignoreIllegals: true }).value : escapeHtml(code);
  const cls = known ? ` class="hljs language-${escapeHtml(lang)}"` : ' class="hljs"';
  return (
    `<div class="code-block"><div class="code-head"><span class="code-lang">${escapeHtml(lang || 'text')}</span>` +
    // A finished diagram can be drawn, on demand (the library loads then): never while it streams.
    (lang === 'mermaid' && env?.finished ? `<button type="button" class="copy-code" data-mermaid>${escapeHtml(t('message.showDiagram'))}</button>` : '') +
    `<button type="button" class="copy-code" aria-label="${escapeHtml(t('message.copyCode'))}" data-copy-code>${escapeHtml(t('message.copy'))}</button></div>` +
    `<pre><code${cls}>${body}</code></pre></div>\n`
  );
};

md.renderer.rules.fence = (tokens, idx, _options, env: RenderEnv | undefined) => {
  const token = tokens[idx]!;
  const lang = token.info.trim().split(/\s+/)[0] ?? '';
  return codeBlock(token.content, lang.toLowerCase(), env);
};
md.renderer.rules.code_block = (tokens, idx, _options, env: RenderEnv | undefined) => codeBlock(tokens[idx]!.content, '', env);

export function renderMarkdown(text: string, env: RenderEnv): string {
  return md.render(text, env);
}

/** Rendered HTML of finished blocks by content: a block renders once, even across conversations. */
const cache = new Map<string, string>();
const CACHE_LIMIT = 5_000;

export function renderFinishedBlock(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const html = renderMarkdown(text, { finished: true });
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, html);
  return html;
}
