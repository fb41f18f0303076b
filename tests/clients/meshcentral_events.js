// MeshCentral's WS-Man stack subscribing to the simulated AMT's events (spec/wsman.md §1.6, §3.3 "Events panel"):
// Subscribe on CIM_FilterCollection 'Intel(r) AMT:All' with PushWithAck and Digest credentials, Enum of the
// subscription classes, an alert raised through the control API arriving at a local receiver (Digest checked,
// parsed with MeshCentral's amt-xml.js, answered with a wsman:Ack), then UnSubscribe with the enumerated EPRs.
// Usage: node meshcentral_events.js PORT USER PASS TLS(0|1) CONTROL_PORT
'use strict';
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));
const xmlParser = require(path.join(amtDir, 'amt-xml.js'));

const [port, user, pass, tls, controlPort] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4],
  parseInt(process.argv[5] || '0', 10), parseInt(process.argv[6], 10)];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, tls);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function ok(step, detail) { console.log('OK ' + step + (detail ? ' ' + detail : '')); }
function fail(step, detail) { failures++; console.log('FAIL ' + step + (detail ? ' ' + detail : '')); }
function check(step, cond, detail) { (cond ? ok : fail)(step, detail); return cond; }
const call = (fn) => new Promise((resolve) => fn(resolve));
const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');

// The receiver: Digest as listener/Listener-Pass, records events, answers each with an Ack.
const LISTENER_USER = 'listener', LISTENER_PASS = 'Listener-Pass', REALM = 'meshcentral-test', NONCE = 'dGVzdC1ub25jZQ';
const events = [];
let waiting = null;
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const auth = req.headers.authorization || '';
    const p = {};
    auth.replace(/(\w+)=("([^"]*)"|[^,\s]*)/g, (m, k, v, q) => { p[k] = q !== undefined ? q : v; return m; });
    const expected = md5([md5(LISTENER_USER + ':' + REALM + ':' + LISTENER_PASS), p.nonce, p.nc, p.cnonce, p.qop, md5('POST:' + p.uri)].join(':'));
    if (!auth.startsWith('Digest ') || p.username !== LISTENER_USER || p.response !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Digest realm="' + REALM + '", nonce="' + NONCE + '", qop="auth"' });
      return res.end();
    }
    const parsed = xmlParser.ParseWsman(body);
    events.push({ body, parsed });
    const id = parsed && parsed.Header && parsed.Header.MessageID;
    res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=UTF-8' });
    res.end('<?xml version="1.0" encoding="UTF-8"?><a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope" ' +
            'xmlns:b="http://schemas.xmlsoap.org/ws/2004/08/addressing"><a:Header><b:RelatesTo>' + id + '</b:RelatesTo>' +
            '<b:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack</b:Action></a:Header><a:Body></a:Body></a:Envelope>');
    if (waiting) { const w = waiting; waiting = null; w(); }
  });
});

function raise(messageId, arg) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: controlPort, method: 'POST',
      path: '/events/raise?messageId=' + messageId + '&arg=' + encodeURIComponent(arg) + '&category=Watchdog' }, (res) => {
      res.resume(); res.on('end', () => resolve(res.statusCode));
    });
    req.end();
  });
}

async function main() {
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const url = 'http://127.0.0.1:' + receiver.address().port + '/amtevents.ashx';

  // amt.js Subscribe(name, delivery, url, callback, tag, pri, selectors, opaque, user, pass)
  const sub = await call((done) => amt.Subscribe('CIM_FilterCollection', 'PushWithAck', url,
    (stack, name, response, status) => done({ response, status }), 0, 0, { InstanceID: 'Intel(r) AMT:All' }, 'node-1', LISTENER_USER, LISTENER_PASS));
  check('Subscribe', sub.status == 200, 'status=' + sub.status);

  const en = await call((done) => amt.BatchEnum(null, ['CIM_FilterCollection', 'CIM_ListenerDestination', 'CIM_FilterCollectionSubscription'],
    (stack, name, responses, status) => done({ responses, status })));
  const subs = (en.responses['CIM_FilterCollectionSubscription'].responses || []);
  const listeners = (en.responses['CIM_ListenerDestination'].responses || []);
  const filters = (en.responses['CIM_FilterCollection'].responses || []);
  check('Enum events panel', en.status == 200 && filters.some((f) => f.InstanceID == 'Intel(r) AMT:All') &&
        listeners.length == 1 && listeners[0].Destination == url && subs.length == 1 && subs[0].Handler && subs[0].Filter,
        'filters=' + filters.length + ' listeners=' + listeners.map((l) => l.Destination + '/' + l.DeliveryMode).join(',') +
        ' subscriptions=' + subs.length);

  const arrived = new Promise((r) => { waiting = r; });
  const raised = await raise('iAMT0005', '03020100-0504-0706-0809-0a0b0c0d0e0f');
  check('raise iAMT0005', raised == 200, 'status=' + raised);
  const t = setTimeout(() => { if (waiting) { const w = waiting; waiting = null; w(); } }, 5000);
  await arrived;
  clearTimeout(t);
  const ev = events[0];
  const b = ev && ev.parsed && ev.parsed.Body;
  check('Event received and parsed by amt-xml.js', b && b.MessageID == 'iAMT0005' && /^Intel\(r\):\d+$/.test(b.IndicationIdentifier) &&
        ev.parsed.Header.ResourceURI == 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication',
        'MessageID=' + (b && b.MessageID) + ' IndicationIdentifier=' + (b && b.IndicationIdentifier) + ' args=' + JSON.stringify(b && b.MessageArguments));
  // webserver.js handleAmtEventRequest looks for this exact text (the subscriber's ReferenceParameters echoed).
  check('ReferenceParameters echoed', ev && ev.body.indexOf('<m:arg xmlns:m="http://x.com">') > 0);

  const un = await call((done) => amt.UnSubscribe('CIM_FilterCollectionSubscription', (stack, name, response, status) => done({ status }),
    0, 0, { Filter: subs[0] && subs[0].Filter, Handler: subs[0] && subs[0].Handler }));
  check('UnSubscribe', un.status == 200, 'status=' + un.status);
  const after = await call((done) => amt.Enum('CIM_FilterCollectionSubscription', (s, n, items, status) => done({ items, status })));
  check('Enum after UnSubscribe', after.status == 200 && (after.items || []).length == 0, 'items=' + (after.items || []).length);
}

const timer = setTimeout(() => { fail('timeout', 'no answer within 20 s'); process.exit(2); }, 20000);
main().then(() => {
  clearTimeout(timer);
  console.log(failures ? failures + ' failed' : 'all passed');
  comm.destroy();
  receiver.close();
  process.exit(failures ? 1 : 0);
}, (e) => { clearTimeout(timer); fail('exception', e && e.stack); process.exit(1); });
