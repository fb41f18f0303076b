// MeshCentral's Serial-over-LAN transport (public/scripts/amt-redir-ws-0.1.0.js, the browser script, unchanged)
// run in node with the `ws` module as its WebSocket, through a WebSocket-to-TCP relay (websockify) to the
// redirection port: StartRedirectionSession SOL, the auth query, Digest (type 4, /RedirectionService), the SOL
// settings, then data both ways: it types `text` + CR and waits until the host's echo of `text` comes back.
// Prints one JSON line: {state, received, error}.
// Usage: node meshcentral_sol.js RELAY_PORT USER PASSWORD TEXT [TIMEOUT_SECONDS]
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [relayPort, user, password, text, timeoutArg] = process.argv.slice(2);
const scripts = path.join(__dirname, 'node_modules/meshcentral/public/scripts');
// The globals MeshCentral's page gives these scripts: a window whose location is the relay, a WebSocket class,
// and its helpers (common-0.0.1.js: IntToStrX, ShortToStrX; amt-0.2.0.js: hex_md5).
global.window = { location: { protocol: 'http:', host: '127.0.0.1:' + relayPort, pathname: '/meshcentral_sol.html' } };
// ws throws an 'error' event nobody listens to (the browser's WebSocket reports it by closing, which
// amt-redir-ws handles): websockify closes with status 1005, which ws calls invalid.
let socketError = null;
global.WebSocket = class extends require('ws') {
  constructor(url) { super(url); this.on('error', (e) => { socketError = e.message; }); }
};
for (const file of ['common-0.0.1.js', 'amt-0.2.0.js', 'amt-redir-ws-0.1.0.js']) {
  vm.runInThisContext(fs.readFileSync(path.join(scripts, file), 'utf8'), { filename: file });
}

let received = '', state = 0, done = false;
function finish(error) {
  if (done) return;
  done = true;
  process.stdout.write(JSON.stringify({ state, received, error: error || null, socket_error: socketError }) + '\n');
  // Not from inside its message handler, which goes on using its buffer after calling us.
  setImmediate(() => { try { redirect.Stop(); } catch (e) { /* closed */ } });
  setTimeout(() => process.exit(error ? 1 : 0), 100);
}
// The inner module amt-redir-ws expects (amt-terminal plays it in the web UI): protocol 1 = SOL.
const terminal = {
  protocol: 1,
  xxStateChange(s) {
    state = s;
    if (s === 3) redirect.send(text + '\r');  // logged in and the SOL settings answered
    if (s === 0 && !done) finish('the session ended: ' + JSON.stringify(received));
  },
  ProcessData(data) {
    received += data;
    if (received.includes(text)) finish(null);
  },
};
const redirect = global.CreateAmtRedirect(terminal);
redirect.Start('127.0.0.1', 16994, user, password, 0);
setTimeout(() => finish(`no echo of ${JSON.stringify(text)} within the time`), Number(timeoutArg || 20) * 1000).unref();
