// The strict-CSP demo's only script besides the SDK: it counts CSP and
// Trusted Types violations (it runs first, so it sees the SDK's too) and
// shows the stream's state. Everything else on the page is markup.
'use strict';
(function () {
  var violations = [];
  window.cspViolations = violations;
  document.addEventListener('securitypolicyviolation', function (e) {
    violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    var out = document.getElementById('violations');
    if (out) out.textContent = String(violations.length);
  });
  document.addEventListener('DOMContentLoaded', function () {
    var origin = location.origin;
    document.getElementById('hint').textContent = [
      'curl -X POST -d message=hi ' + origin + '/api/sse/send/csp-demo',
      'curl -X POST -H "Content-Type: application/json" -d \'{"event":"html","data":"<b>bold</b> <img src=x onerror=alert(1)>"}\' ' + origin + '/api/sse/send/csp-demo',
      'curl -X POST -H "Content-Type: application/json" -d \'{"event":"order","data":{"sku":"A1","qty":2,"url":"https://example.com/A1"}}\' ' + origin + '/api/sse/send/csp-demo'
    ].join('\n');
    var stream = document.getElementById('stream');
    new MutationObserver(function () {
      var st = stream.getAttribute('data-sse-state') || 'connecting';
      var el = document.getElementById('state');
      el.textContent = st;
      el.setAttribute('data-state', st);
    }).observe(stream, { attributes: true, attributeFilter: ['data-sse-state'] });
  });
})();
