import { h, render } from 'preact'; render(h('p', null, 'CRM'), document.getElementById('app'));
