// Renders the app icon (web-ui/public/icons/icon.svg) to the PNGs the web app manifest lists, in
// the Chromium the browser tests use: 192 and 512 px as drawn, and maskable ones whose blue fills the
// whole square (a launcher cuts its own shape; the glyph sits inside the central safe circle).
// Run after changing the SVG: node scripts/make-icons.mjs (the PNGs are committed).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIR = path.join(ROOT, 'web-ui', 'public', 'icons');
const svg = readFileSync(path.join(DIR, 'icon.svg'), 'utf8');
// Maskable: square corners, and the glyph drawn a little smaller towards the centre.
const maskable = svg
  .replace('rx="112" ', '')
  .replace(/<path /, '<g transform="translate(256 256) scale(0.82) translate(-256 -256)"><path ')
  .replace('</svg>', '</g></svg>');

const browser = await chromium.launch({ executablePath: process.env['FREECHAT_CHROMIUM'] ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
try {
  const page = await browser.newPage();
  for (const [name, source] of [['icon', svg], ['icon-maskable', maskable]]) {
    for (const size of [192, 512]) {
      await page.setViewportSize({ width: size, height: size });
      const src = `data:image/svg+xml;base64,${Buffer.from(source).toString('base64')}`;
      await page.setContent(`<html><body style="margin:0;background:transparent"><img src="${src}" width="${size}" height="${size}"></body></html>`);
      await page.locator('img').evaluate((img) => img.decode());
      await page.screenshot({ path: path.join(DIR, `${name}-${size}.png`), omitBackground: true });
    }
  }
} finally {
  await browser.close();
}
