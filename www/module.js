// The ES module demo: the SDK through ssekit.mjs, listening to broadcasts.
import SSEKit, { ready, connect } from './ssekit.mjs';

await ready;
const client = connect('/api/sse/connect');
client.onState((s) => { document.getElementById('state').textContent = '(' + s.state + ')'; });
client.bind('#messages', 'message', { max: 50 });
document.getElementById('hint').textContent =
  'curl -X POST -d message=hi ' + location.origin + '/api/sse/sendAll';
window.moduleDemo = { SSEKit, client };
