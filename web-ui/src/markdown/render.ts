// Markdown → HTML that is inert: raw HTML in the source is escaped (`html: false`), links pass
// markdown-it's protocol check (no javascript:, vbscript:, file:, data:), images are not loaded
// (a model could otherwise make the browser fetch any URL), links open in a new tab without an
// opener. Code blocks carry a "Copy code" button; highlight.js runs only on finished blocks.
import MarkdownIt from 'markdown-it';
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

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

export interface RenderEnv {
  /** Highlight code blocks (finished blocks only: highlighting is the expensive part). */
  readonly highlight: boolean;
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: false, typographer: false });
md.disable('image');

const escapeHtml = (text: string): string => md.utils.escapeHtml(text);

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer');
  return self.renderToken(tokens, idx, options);
};

const codeBlock = (code: string, lang: string, env: RenderEnv | undefined): string => {
  const known = lang !== '' && hljs.getLanguage(lang) !== undefined;
  const body = env?.highlight && known ? hljs.highlight(code, { language: lang, ignoreIllegals: true }).value : escapeHtml(code);
  const cls = known ? ` class="hljs language-${escapeHtml(lang)}"` : ' class="hljs"';
  return (
    `<div class="code-block"><div class="code-head"><span class="code-lang">${escapeHtml(lang || 'text')}</span>` +
    `<button type="button" class="copy-code" aria-label="Copy code" data-copy-code>Copy</button></div>` +
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
  const html = renderMarkdown(text, { highlight: true });
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, html);
  return html;
}
