// The demo page: connect as a client id, watch the state, see messages
// (always rendered as text), and send to this client or to everyone.
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var client = null;

  function setState(s) {
    $('state').textContent = s.state + (s.attempt ? ' (attempt ' + s.attempt + ')' : '');
    $('state').dataset.state = s.state;
    var open = s.state !== 'closed';
    $('connect').disabled = open;
    $('disconnect').disabled = !open;
  }

  async function connect(ev) {
    ev.preventDefault();
    await SSEKit.ready;
    if (client) client.close();
    var id = $('client-id').value.trim();
    client = SSEKit.connect('/api/sse/connect/' + encodeURIComponent(id));
    client.onState(setState);
    client.onError(function (e) { console.warn('ssekit:', e.message); });
    client.bind('#messages', 'message');
    client.on('connected', function (e) { $('client-label').textContent = 'as ' + e.data.clientId; });
    $('curl-hint').textContent = 'curl -X POST -d message=hi ' + location.origin + '/api/sse/send/' + id;
  }

  async function send(path) {
    var body = new URLSearchParams({ message: $('message').value });
    var res = await fetch(path, { method: 'POST', body: body });
    var json = await res.json();
    $('send-result').textContent = res.ok
      ? 'sent ' + json.id + ', delivered to ' + json.delivered + ' stream(s)'
      : 'error ' + res.status + ': ' + json.error;
  }

  $('connect-form').addEventListener('submit', connect);
  $('disconnect').addEventListener('click', function () { if (client) client.close(); });
  $('send-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    send('/api/sse/send/' + encodeURIComponent($('client-id').value.trim()));
  });
  $('send-all').addEventListener('click', function () { send('/api/sse/sendAll'); });
})();
