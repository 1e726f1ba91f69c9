// Built on its own into a classic script (vite.theme-boot.config.ts) that index.html loads in <head>:
// it blocks rendering for a moment, so the cached theme is on <html> before the first paint and a
// dark page never flashes white. The app applies the server's theme once it answers.
import { loadSettings } from './state/settings';
import { applyTheme } from './theme';

try {
  applyTheme(loadSettings().theme);
} catch {
  // Storage refused (a privacy mode): the system's theme, as without a cache.
}
