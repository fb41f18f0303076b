// PET over SNMP through MeshCentral's WS-Man stack (amt.js Create / Enum / Put / Delete, as MeshCommander's
// full-state save reads these classes): a trap receiver on a loopback UDP port is subscribed with
// AMT_SNMPEventSubscriber, the Fan filter is read and put back with Put, a fan failure raised through the control API
// arrives as an SNMPv1 trap whose PET varbind this script decodes, and Delete removes the subscriber.
// Usage: node meshcentral_pet.js PORT USER PASS TLS(0|1) CONTROL_PORT
'use strict';
const path = require('path');
const dgram = require('dgram');
const http = require('http');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));
global.char2hex = (i) => (i + 0x100).toString(16).substr(-2).toUpperCase();

const [port, user, pass, tls, controlPort] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4],
  parseInt(process.argv[5] || '0', 10), parseInt(process.argv[6], 10)];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, tls);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function check(step, cond, detail) { console.log((cond ? 'OK ' : 'FAIL ') + step + (detail ? ' ' + detail : '')); if (!cond) failures++; return cond; }
const call = (fn) => new Promise((resolve) => fn((stack, name, response, status) => resolve({ response, status })));

// A minimal BER reader: enough of an SNMPv1 Trap-PDU to check it.
function readTlv(buf, at) {
  const tag = buf[at];
  let len = buf[at + 1], head = 2;
  if (len & 0x80) { const n = len & 0x7F; len = 0; for (let i = 0; i < n; ++i) len = len * 256 + buf[at + 2 + i]; head = 2 + n; }
  return { tag, value: buf.subarray(at + head, at + head + len), end: at + head + len };
}
function children(buf) { const out = []; for (let at = 0; at < buf.length;) { const t = readTlv(buf, at); out.push(t); at = t.end; } return out; }
function oidText(bytes) {
  const arcs = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let v = 0;
  for (let i = 1; i < bytes.length; ++i) { v = v * 128 + (bytes[i] & 0x7F); if (!(bytes[i] & 0x80)) { arcs.push(v); v = 0; } }
  return arcs.join('.');
}
function uint(bytes) { let v = 0; for (const b of bytes) v = v * 256 + b; return v; }
function decodeTrap(msg) {
  const [version, community, pdu] = children(readTlv(msg, 0).value);
  const [enterprise, agent, generic, specific, ticks, binds] = children(pdu.value);
  const [bind] = children(binds.value);
  const [name, value] = children(bind.value);
  return { version: uint(version.value), community: community.value.toString(), pduTag: pdu.tag, enterprise: oidText(enterprise.value),
           generic: uint(generic.value), specific: uint(specific.value), varbind: oidText(name.value), frame: value.value };
}

function control(method, target, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: controlPort, method, path: target,
      headers: { 'Content-Type': 'application/json' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.end(body || '');
  });
}

async function main() {
  const socket = dgram.createSocket('udp4');
  const traps = [];
  let waiting = null;
  socket.on('message', (msg) => { traps.push(msg); if (waiting) { const w = waiting; waiting = null; w(); } });
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  const trapPort = socket.address().port;

  const created = await call((done) => amt.Create('AMT_SNMPEventSubscriber', {
    AccessInfo: '127.0.0.1', InfoFormat: 3, PortInfo: trapPort, PolicyID: 1, CommunityString: 'meshtest' }, done));
  check('Create AMT_SNMPEventSubscriber', created.status == 200, 'status=' + created.status);

  const subs = await call((done) => amt.Enum('AMT_SNMPEventSubscriber', done));
  const mine = (subs.response || []).find((s) => s.PortInfo == String(trapPort));
  check('Enum AMT_SNMPEventSubscriber', mine && mine.AccessInfo == '127.0.0.1' && mine.PolicyID == 1 && mine.CommunityString == 'meshtest',
        JSON.stringify(mine));

  const filters = await call((done) => amt.Enum('AMT_PETFilterSetting', done));
  const fan = (filters.response || []).find((f) => f.ElementName == 'Fan');
  check('Enum AMT_PETFilterSetting', fan && fan.EventSensorType == 4 && String(fan.SendAlert) == 'true' && (filters.response || []).length == 17,
        'filters=' + (filters.response || []).length);
  // Put the Fan filter back with severity 0x10 (critical) only: the fan failure still matches.
  fan.EventSeverity = 16;
  const put = await call((done) => amt.Put('AMT_PETFilterSetting', fan, done, 0, 0, { InstanceID: fan.InstanceID }));
  check('Put AMT_PETFilterSetting', put.status == 200, 'status=' + put.status);

  const caps = await call((done) => amt.Enum('AMT_PETCapabilities', done));
  const fanSensor = (caps.response || []).find((c) => c.EventSensorType == 4);
  check('Enum AMT_PETCapabilities', fanSensor !== undefined, 'instances=' + (caps.response || []).length);

  const arrived = new Promise((resolve) => { waiting = resolve; setTimeout(resolve, 10000); });
  check('Fan failure through the control API', (await control('POST', '/hardware/fans/cpu_fan', '{"failed": true}')) == 200);
  await arrived;
  if (check('Trap received', traps.length >= 1, 'traps=' + traps.length)) {
    const t = decodeTrap(traps[0]);
    check('SNMPv1 trap PDU', t.version == 0 && t.pduTag == 0xA4 && t.community == 'meshtest', JSON.stringify({ v: t.version, tag: t.pduTag, c: t.community }));
    check('PET enterprise and specific trap', t.enterprise == '1.3.6.1.4.1.3183.1.1' && t.generic == 6 && t.specific == 0x040102,
          t.enterprise + ' ' + t.generic + ' ' + t.specific.toString(16));
    check('PET frame', t.varbind == '1.3.6.1.4.1.3183.1.1.1' && t.frame.length == 47 && t.frame[26] == 0x10 && fanSensor && t.frame[28] == fanSensor.SensorNumber && t.frame[46] == 0xC1,
          t.frame.toString('hex'));
  }

  const deleted = await call((done) => amt.Delete('AMT_SNMPEventSubscriber', {
    CreationClassName: 'AMT_SNMPEventSubscriber', Name: mine && mine.Name, SystemCreationClassName: 'CIM_ComputerSystem',
    SystemName: 'Intel(r) AMT' }, done));
  check('Delete', deleted.status == 200, 'status=' + deleted.status);
  const after = await call((done) => amt.Enum('AMT_SNMPEventSubscriber', done));
  check('Gone after Delete', !(after.response || []).some((s) => s.PortInfo == String(trapPort)));
  socket.close();
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { console.log('FAIL exception ' + (e && e.stack || e)); process.exit(1); });
