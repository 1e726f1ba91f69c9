import { render } from 'preact';

render(<main>Free Chat</main>, document.getElementById('app')!);
