import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './render';

const render = (text: string): string => renderMarkdown(text, { finished: true });

describe('renderMarkdown', () => {
  it('escapes raw HTML', () => {
    const html = render('<script>alert(1)</script> <img src=x onerror=alert(1)>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;');
  });

  it('drops dangerous link targets and hardens the others', () => {
    expect(render('[x](javascript:alert(1))')).not.toContain('href="javascript');
    expect(render('[x](data:text/html;base64,AAAA)')).not.toContain('href="data');
    expect(render('[x](https://example.com)')).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer">');
  });

  it('loads no images', () => {
    expect(render('![a](https://tracker.example/p.png)')).not.toContain('<img');
  });

  it('renders code blocks with a copy button, highlighted only when asked', () => {
    const src = '```js\nconst a = "<b>";\n```';
    const highlighted = render(src);
    expect(highlighted).toContain('aria-label="Copy code"');
    expect(highlighted).toContain('hljs-keyword');
    expect(highlighted).not.toContain('<b>');
    const plain = renderMarkdown(src, { finished: false });
    expect(plain).not.toContain('hljs-keyword');
    expect(plain).toContain('&lt;b&gt;');
  });

  it('escapes an unknown fence language in the class', () => {
    expect(render('```"><x\nhi\n```')).not.toContain('"><x');
  });

  it('typesets TeX in all four delimiters as MathML once the block is finished, and shows the source before', () => {
    for (const [src, display] of [
      ['Energy: $E = mc^2$.', false],
      ['Energy: \\(E = mc^2\\).', false],
      ['$$\n\\int_0^1 x\\,dx = \\tfrac12\n$$', true],
      ['\\[\n\\sum_{k=1}^n k = \\frac{n(n+1)}{2}\n\\]', true],
    ] as const) {
      const html = render(src);
      expect(html, src).toContain('<math');
      expect(html.includes('display="block"'), src).toBe(display);
      // MathML only: no inline styles for the CSP to refuse.
      expect(html, src).not.toMatch(/\sstyle=/);
      const streaming = renderMarkdown(src, { finished: false });
      expect(streaming, src).not.toContain('<math');
      expect(streaming, src).toContain('class="math-source"');
    }
    expect(render('$x^2$')).toContain('<msup>');
  });

  it('leaves prices alone, and lets no TeX command inject HTML or links', () => {
    expect(render('It costs $5 and $10.')).not.toContain('<math');
    const html = render('$\\href{javascript:alert(1)}{x}$ $\\htmlClass{evil}{y}$ $<img src=x onerror=alert(1)>$');
    // The source stays as the formula's annotation (text); no link or class comes out of it.
    expect(html).not.toMatch(/\shref=/);
    expect(html).not.toContain('class="evil"');
    expect(html).not.toContain('<img');
  });

  it('renders GFM task lists as disabled checkboxes, and strikethrough', () => {
    const html = render('- [x] done\n- [ ] todo\n\n~~gone~~');
    expect(html.match(/<input [^>]*type="checkbox"/g)?.length).toBe(2);
    expect(html).toMatch(/<input [^>]*checked[^>]*> done/);
    expect(html.match(/disabled/g)?.length).toBe(2);
    expect(html).toContain('<s>gone</s>');
  });
});
