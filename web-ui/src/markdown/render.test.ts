import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './render';

const render = (text: string): string => renderMarkdown(text, { highlight: true });

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
    const plain = renderMarkdown(src, { highlight: false });
    expect(plain).not.toContain('hljs-keyword');
    expect(plain).toContain('&lt;b&gt;');
  });

  it('escapes an unknown fence language in the class', () => {
    expect(render('```"><x\nhi\n```')).not.toContain('"><x');
  });
});
