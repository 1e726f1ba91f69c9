import { render } from 'preact';
import { App } from './components/App';
import { SharedPage } from './components/SharedPage';
import { shareTokenFromPath } from './state/route';
import { loadSettings } from './state/settings';
import { applyTheme } from './theme';
import './styles.css';
import { loadLocale, setActiveLocale } from './i18n';

// theme-boot.js has done this before the first paint in a build; `npm run dev` serves no such file.
if (import.meta.env.DEV) applyTheme(loadSettings().theme);
// The language before the first paint: the stored choice, else the browser's.
setActiveLocale(loadLocale());
// A share link is read without signing in: it never touches the session.
const shareToken = shareTokenFromPath(location.pathname);
render(shareToken ? <SharedPage token={shareToken} /> : <App />, document.getElementById('app')!);
