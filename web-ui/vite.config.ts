import { defineConfig } from 'vite';

export default defineConfig({
  // Preact's automatic JSX runtime through esbuild: no framework plugin needed.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  // `npm run dev -w web-ui` proxies the API to a running gateway (make run).
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
