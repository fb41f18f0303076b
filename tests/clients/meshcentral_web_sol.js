// MeshCentral's Serial-over-LAN transport (public/scripts/amt-redir-ws-0.1.0.js, the browser script, unchanged) in
// node against the firmware's own WebSocket, /ws-redirection on the WS-Man port, with no relay between: the
// WebSocket class it is given opens ws://127.0.0.1:PORT/ws-redirection in place of MeshCentral's relay URL and,
// as a browser does with HTTP authentication, answers the upgrade's 401 with Digest (GET, uri /ws-redirection) on a
// second connection. Over the open WebSocket the script runs its own protocol: StartRedirectionSession SOL, the
// auth query, its Digest login (type 4, /RedirectionService), the SOL settings, then it types `text` + CR and waits
// for the host's echo. Prints one JSON line: {state, received, error, http_status}.
// Usage: node meshcentral_web_sol.js WSMAN_PORT USER PASSWORD TEXT [TIMEOUT_SECONDS]
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const WS = require('ws');

const [wsmanPort, user, password, text, timeoutArg] = process.argv.slice(2);
const scripts = path.join(__dirname, 'node_modules/meshcentral/public/scripts');
const target = '/ws-redirection';
const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
let httpStatus = null;

// The Authorization answering a Digest challenge (RFC 7616, MD5, qop=auth) for GET `target`.
function digestAuthorization(challenge) {
  const field = (name) => (new RegExp(name + '="?([^",]*)"?')).exec(challenge)?.[1];
  const realm = field('realm'), nonce = field('nonce');
  if (!realm || !nonce) return null;
  const cnonce = crypto.randomBytes(8).toString('hex'), nc = '00000001';
  const ha1 = md5(`${user}:${realm}:${password}`), ha2 = md5(`GET:${target}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${target}", response="${response}", ` +
         `qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

// A browser-shaped WebSocket (onopen/onmessage/onclose, readyState, send, close) over `ws`, whose handshake carries
// Digest. The URL the script builds (MeshCentral's relay) is not used: this device serves the protocol itself.
class FirmwareWebSocket {
  constructor() {
    this.readyState = 0;
    this.binaryType = 'arraybuffer';
    const url = `ws://127.0.0.1:${wsmanPort}${target}`;
    const probe = new WS(url);
    probe.on('unexpected-response', (request, response) => {
      httpStatus = response.statusCode;
      const challenge = response.headers['www-authenticate'];
      response.resume();
      request.destroy();
      const authorization = response.statusCode === 401 && challenge ? digestAuthorization(challenge) : null;
      if (!authorization) return this.closed();
      this.open(url, authorization);
    });
    probe.on('open', () => { probe.close(); this.closed(); });  // no 401: not what AMT does
    probe.on('error', () => {});
  }
  open(url, authorization) {
    const ws = new WS(url, { headers: { Authorization: authorization } });
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.on('unexpected-response', (request, response) => {
      httpStatus = response.statusCode;
      response.resume();
      request.destroy();
      this.closed();
    });
    ws.on('open', () => {
      httpStatus = 101;
      this.readyState = 1;
      if (this.onopen) this.onopen();
    });
    ws.on('message', (data) => {
      // binaryType 'arraybuffer': an ArrayBuffer of exactly the frame, as the browser gives the script.
      if (this.onmessage) this.onmessage({ data });
    });
    ws.on('close', () => this.closed());
    ws.on('error', () => {});
  }
  closed() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (this.onclose) this.onclose();
  }
  send(data) { if (this.ws && this.readyState === 1) this.ws.send(Buffer.from(data)); }
  close() { if (this.ws) this.ws.close(); this.closed(); }
}
FirmwareWebSocket.CONNECTING = 0;
FirmwareWebSocket.OPEN = 1;
FirmwareWebSocket.CLOSING = 2;
FirmwareWebSocket.CLOSED = 3;

// The globals MeshCentral's page gives these scripts (common-0.0.1.js: IntToStrX, ShortToStrX; amt-0.2.0.js:
// hex_md5) and a window the script reads its location from.
global.window = { location: { protocol: 'http:', host: '127.0.0.1:' + wsmanPort, pathname: '/index.htm' } };
global.WebSocket = FirmwareWebSocket;
for (const file of ['common-0.0.1.js', 'amt-0.2.0.js', 'amt-redir-ws-0.1.0.js']) {
  vm.runInThisContext(fs.readFileSync(path.join(scripts, file), 'utf8'), { filename: file });
}

let received = '', state = 0, done = false;
function finish(error) {
  if (done) return;
  done = true;
  process.stdout.write(JSON.stringify({ state, received, error: error || null, http_status: httpStatus }) + '\n');
  setImmediate(() => { try { redirect.Stop(); } catch (e) { /* closed */ } });
  setTimeout(() => process.exit(error ? 1 : 0), 100);
}
// The inner module amt-redir-ws expects (amt-terminal plays it in the web UI): protocol 1 = SOL.
const terminal = {
  protocol: 1,
  xxStateChange(s) {
    state = s;
    if (s === 3) redirect.send(text + '\r');
    if (s === 0 && !done) finish('the session ended: ' + JSON.stringify(received));
  },
  ProcessData(data) {
    received += data;
    if (received.includes(text)) finish(null);
  },
};
const redirect = global.CreateAmtRedirect(terminal);
redirect.Start('127.0.0.1', Number(wsmanPort), user, password, 0);
setTimeout(() => finish(`no echo of ${JSON.stringify(text)} within the time`), Number(timeoutArg || 20) * 1000).unref();
