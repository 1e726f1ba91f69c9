import { defineConfig } from 'vite';

export default defineConfig({
  // Preact's automatic JSX runtime through esbuild: no framework plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // No source maps in production builds (they publish the source); FREECHAT_WEB_UI_SOURCEMAP=1 for debugging.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: process.env['FREECHAT_WEB_UI_SOURCEMAP'] === '1', target: 'es2022' },
  // `npm run dev -w web-ui` proxies the API to a running gateway (make run).
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
