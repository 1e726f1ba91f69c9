import { render } from 'preact';
import { App } from './components/App';
import { SharedPage } from './components/SharedPage';
import { shareTokenFromPath } from './state/route';
import './styles.css';

// A share link is read without signing in: it never touches the session.
const shareToken = shareTokenFromPath(location.pathname);
render(shareToken ? <SharedPage token={shareToken} /> : <App />, document.getElementById('app')!);
