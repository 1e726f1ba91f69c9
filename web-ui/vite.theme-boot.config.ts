import { defineConfig } from 'vite';

// The pre-paint theme script (src/theme-boot.ts) as one self-contained classic script, dist/theme-boot.js,
// built after the app (so the app's build, which empties dist, runs first). A module script would run
// only after the first paint; the Content-Security-Policy allows no inline script.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    copyPublicDir: false,
    target: 'es2022',
    lib: { entry: 'src/theme-boot.ts', formats: ['iife'], name: 'freechatThemeBoot', fileName: () => 'theme-boot.js' },
  },
});
