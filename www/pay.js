// The payment demo: open a stream for a payment id, wait for the provider's
// callback (a message, then finish), then close.
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var client = null;
  $('payid').value = String(1 + Math.floor(Math.random() * 1e9));

  function hint(id) {
    $('curl-hint').textContent = 'curl ' + location.origin + '/payback?payid=' + id;
  }
  hint($('payid').value);
  $('payid').addEventListener('input', function () { hint($('payid').value); });

  $('pay-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    await SSEKit.ready;
    if (client) client.close();
    var id = $('payid').value.trim();
    $('result').textContent = 'waiting for the payment…';
    client = SSEKit.connect('/orderpay?payid=' + encodeURIComponent(id));
    client.onState(function (s) {
      $('state').textContent = s.state;
      $('state').dataset.state = s.state;
      $('callback').disabled = s.state !== 'open';
    });
    client.onError(function (e) { $('result').textContent = 'error: ' + e.message; });
    client.bind('#messages', 'message');
    client.on('finish', function (e) {
      $('result').textContent = 'payment ' + e.data.payid + ' finished';
      client.close();
    });
  });

  $('callback').addEventListener('click', async function () {
    var res = await fetch('/payback?payid=' + encodeURIComponent($('payid').value.trim()));
    if (!res.ok) $('result').textContent = 'callback failed: ' + res.status;
  });
})();
