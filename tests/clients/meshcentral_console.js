#!/usr/bin/env node
// Runs one MeshCentral server-console command (mps, mpsstats, amtmanager, ...) over wss://127.0.0.1:PORT/control.ashx
// as a site administrator and prints its answer (spec/cira.md §4). MeshCentral's own `ws` package is used.
//   node meshcentral_console.js PORT USER PASSWORD COMMAND...
// Exit 0 with the answer on stdout; 1 on an error or no answer within 15 s.
'use strict';
const path = require('path');
const WebSocket = require(path.join(__dirname, 'node_modules', 'ws'));

const [port, user, password, ...command] = process.argv.slice(2);
if (!port || !user || password === undefined || command.length === 0) {
  console.error('usage: meshcentral_console.js PORT USER PASSWORD COMMAND...');
  process.exit(2);
}
const auth = Buffer.from(user).toString('base64') + ',' + Buffer.from(password).toString('base64');
// The server's certificate is its own (fastCert, no public CA): loopback only, so it is not checked here.
const ws = new WebSocket('wss://127.0.0.1:' + port + '/control.ashx',
                         { headers: { 'x-meshauth': auth }, rejectUnauthorized: false });
const tag = 'mesim-' + process.pid;
let sent = false;
const timer = setTimeout(() => { console.error('no answer to "' + command.join(' ') + '" within 15 s'); process.exit(1); },
                         15000);
ws.on('message', (data) => {
  let m;
  try { m = JSON.parse(data.toString()); } catch (e) { return; }
  // The session is ready once the server has sent its first message (serverinfo/userinfo).
  if (!sent) {
    sent = true;
    ws.send(JSON.stringify({ action: 'serverconsole', value: command.join(' '), tag }));
  }
  if (m.action === 'close' || (m.action === 'serverconsole' && m.tag === undefined && m.value == null)) {
    console.error('refused: ' + JSON.stringify(m));
    process.exit(1);
  }
  if (m.action === 'serverconsole' && m.tag === tag) {
    clearTimeout(timer);
    process.stdout.write(String(m.value).replace(/\r\n/g, '\n'), () => process.exit(0));
  }
});
ws.on('error', (e) => { console.error('control.ashx: ' + e.message); process.exit(1); });
ws.on('close', (code) => { console.error('control.ashx closed (' + code + ') before an answer'); process.exit(1); });
