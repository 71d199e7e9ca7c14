// The entry module: registers every field type and screen, checks the
// session, then renders the sign-in screen or the app shell. A new screen
// is a module under screens/ that calls register() from router.js, and one
// import line here.
import { html } from 'htm/preact';
import { render } from 'preact';
import './fields/index.js';
import './screens/home.js';
import './screens/account.js';
import './screens/list.js';
import './screens/record.js';
import './screens/pipeline.js';
import './screens/tasks.js';
import './search.js';
import './notifications.js';
import './callercard.js';
import './screens/admin.js';
import { me, ready, load } from './session.js';
import { unauthenticated } from './api.js';
import { Shell } from './shell.js';
import { SignIn } from './screens/signin.js';
import { Spinner } from './components.js';

function App() {
  if (!ready.value) return html`<${Spinner} />`;
  if (!me.value || unauthenticated.value) return html`<${SignIn} />`;
  return html`<${Shell} />`;
}

render(html`<${App} />`, document.getElementById('app'));
load();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => console.warn('service worker', e));
}
