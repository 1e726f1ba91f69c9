import { render } from 'preact';
import { App } from './components/App';
import './styles.css';
import { loadLocale, setActiveLocale } from './i18n';

// The language before the first paint: the stored choice, else the browser's.
setActiveLocale(loadLocale());
render(<App />, document.getElementById('app')!);
