import { render } from 'preact';
import { App } from './components/App';
import { loadSettings } from './state/settings';
import { applyTheme } from './theme';
import './styles.css';

// theme-boot.js has done this before the first paint in a build; `npm run dev` serves no such file.
if (import.meta.env.DEV) applyTheme(loadSettings().theme);
render(<App />, document.getElementById('app')!);
