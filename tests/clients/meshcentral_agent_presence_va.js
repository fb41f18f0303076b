// The virtual appliance's agent-presence watchdog (AMT_AgentPresenceWatchdogVA) through MeshCentral's WS-Man stack:
// Create under the VA class, served there and not twice through the base class, AddAction, RegisterAgent,
// AssertPresence (Running), AssertShutdown (Stopped), DeleteAllActions, Delete.
// Usage: node meshcentral_agent_presence_va.js PORT USER PASS TLS(0|1)
'use strict';
const path = require('path');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));
global.char2hex = (i) => (i + 0x100).toString(16).substr(-2).toUpperCase();

const [port, user, pass, tls] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4], parseInt(process.argv[5] || '0', 10)];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, tls);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function check(step, cond, detail) { console.log((cond ? 'OK ' : 'FAIL ') + step + (detail ? ' ' + detail : '')); if (!cond) failures++; return cond; }
const call = (fn) => new Promise((resolve) => fn((stack, name, response, status) => resolve({ response, status })));
const rv = (r) => r.response && r.response.Body && r.response.Body.ReturnValue;
const VA = 'AMT_AgentPresenceWatchdogVA';

async function state(deviceId) {
  const all = await call((done) => amt.Enum(VA, done));
  const w = (all.response || []).find((x) => x.DeviceID === deviceId);
  return w ? w.CurrentState : undefined;
}

async function main() {
  const deviceId = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex').toString('base64');
  const selectors = { DeviceID: deviceId };
  const created = await call((done) => amt.Create(VA, {
    DeviceID: deviceId, CreationClassName: VA, Name: 'Intel(r) AMT', SystemCreationClassName: 'CIM_ComputerSystem',
    SystemName: 'Intel(r) AMT', StartupInterval: 60, TimeoutInterval: 60 }, done));
  if (!check('Create ' + VA, created.status == 200, 'status=' + created.status)) return;

  const va = await call((done) => amt.Enum(VA, done));
  const mine = (va.response || []).filter((x) => x.DeviceID === deviceId);
  check('Served as ' + VA, mine.length == 1 && mine[0].CreationClassName == VA,
        JSON.stringify(mine.map((x) => x.CreationClassName)));
  const base = await call((done) => amt.Enum('AMT_AgentPresenceWatchdog', done));
  const seen = (base.response || []).filter((x) => x.DeviceID === deviceId);
  check('Once through the base class', seen.length == 1, 'seen ' + seen.length + ' times');

  const action = await call((done) => amt.AMT_AgentPresenceWatchdogVA_AddAction(31, 8, true, 0, 0, done, 0, 0, selectors));
  check('AddAction', action.status == 200 && rv(action) == 0, 'ReturnValue=' + rv(action));
  const reg = await call((done) => amt.AMT_AgentPresenceWatchdogVA_RegisterAgent(done, 0, 0, selectors));
  const body = reg.response && reg.response.Body;
  if (!check('RegisterAgent', reg.status == 200 && rv(reg) == 0 && body.SessionSequenceNumber !== undefined,
             'ReturnValue=' + rv(reg))) return;
  let seq = body.SessionSequenceNumber;
  seq = (seq + 1) >>> 0;
  const presence = await call((done) => amt.AMT_AgentPresenceWatchdogVA_AssertPresence(seq, done, 0, 0, selectors));
  check('AssertPresence', rv(presence) == 0, 'ReturnValue=' + rv(presence));
  const running = await state(deviceId);
  check('Running after AssertPresence', running == 4, 'CurrentState=' + running);
  const bad = await call((done) => amt.AMT_AgentPresenceWatchdogVA_AssertPresence(undefined, done, 0, 0, selectors));
  check('AssertPresence without a sequence number refused', rv(bad) == 36, 'ReturnValue=' + rv(bad));
  seq = (seq + 1) >>> 0;
  const shutdown = await call((done) => amt.AMT_AgentPresenceWatchdogVA_AssertShutdown(seq, done, 0, 0, selectors));
  check('AssertShutdown', rv(shutdown) == 0, 'ReturnValue=' + rv(shutdown));
  const stopped = await state(deviceId);
  check('Stopped after AssertShutdown', stopped == 2, 'CurrentState=' + stopped);

  const actions = await call((done) => amt.Enum('AMT_AgentPresenceWatchdogAction', done));
  const before = (actions.response || []).length;
  const cleared = await call((done) => amt.AMT_AgentPresenceWatchdogVA_DeleteAllActions(0, done, 0, 0, selectors));
  check('DeleteAllActions', rv(cleared) == 0, 'ReturnValue=' + rv(cleared));
  const after = await call((done) => amt.Enum('AMT_AgentPresenceWatchdogAction', done));
  check('Its action is gone', (after.response || []).length == before - 1, before + ' -> ' + (after.response || []).length);

  const deleted = await call((done) => amt.Delete(VA, selectors, done));
  check('Delete', deleted.status == 200, 'status=' + deleted.status);
  const gone = await call((done) => amt.Enum('AMT_AgentPresenceWatchdog', done));
  check('Gone after Delete', !(gone.response || []).some((x) => x.DeviceID === deviceId));
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { console.log('FAIL exception ' + (e && e.stack || e)); process.exit(1); });
