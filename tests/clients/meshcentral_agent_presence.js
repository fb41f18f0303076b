// The agent-presence watchdog flow as MeshCentral/MeshCommander drive it through MeshCentral's WS-Man stack:
// Create AMT_AgentPresenceWatchdog, AddAction, RegisterAgent, AssertPresence with sequence numbers (meshcmd.js
// performAmtAgentPresence*), a wrong sequence number, expiry when the heartbeats stop, Delete.
// Usage: node meshcentral_agent_presence.js PORT USER PASS TLS(0|1)
'use strict';
const path = require('path');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));
// amt.js's event decoder calls char2hex, a global MeshCentral's web pages define (public/scripts/common-0.0.1.js)
global.char2hex = (i) => (i + 0x100).toString(16).substr(-2).toUpperCase();

const [port, user, pass, tls] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4], parseInt(process.argv[5] || '0', 10)];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, tls);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function check(step, cond, detail) { console.log((cond ? 'OK ' : 'FAIL ') + step + (detail ? ' ' + detail : '')); if (!cond) failures++; return cond; }
const call = (fn) => new Promise((resolve) => fn((stack, name, response, status) => resolve({ response, status })));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  // the agent's GUID as meshcmd.js turns it into a DeviceID (base64 of the 16 bytes)
  const deviceId = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex').toString('base64');
  const selectors = { DeviceID: deviceId };
  const created = await call((done) => amt.Create('AMT_AgentPresenceWatchdog', {
    DeviceID: deviceId, CreationClassName: 'AMT_AgentPresenceWatchdog', Name: 'Intel(r) AMT', SystemCreationClassName: 'CIM_ComputerSystem',
    SystemName: 'Intel(r) AMT', StartupInterval: 2, TimeoutInterval: 2 }, done));
  if (!check('Create AMT_AgentPresenceWatchdog', created.status == 200, 'status=' + created.status)) return;

  const action = await call((done) => amt.AMT_AgentPresenceWatchdog_AddAction(31, 8, true, 0, 0, done, 0, 0, selectors));
  check('AddAction (any -> Expired, event)', action.status == 200 && action.response.Body.ReturnValue == 0,
        'status=' + action.status + ' ReturnValue=' + (action.response && action.response.Body && action.response.Body.ReturnValue));

  // also an event on entering Running; MeshCentral's GetMessageLog mis-reads a RecordArray of one record (it
  // iterates the base64 string), so the log must hold at least two
  const running4 = await call((done) => amt.AMT_AgentPresenceWatchdog_AddAction(31, 4, true, 0, 0, done, 0, 0, selectors));
  check('AddAction (any -> Running, event)', running4.status == 200 && running4.response.Body.ReturnValue == 0);

  const reg = await call((done) => amt.AMT_AgentPresenceWatchdog_RegisterAgent(done, 0, 0, selectors));
  const body = reg.response && reg.response.Body;
  if (!check('RegisterAgent', reg.status == 200 && body && body.SessionSequenceNumber !== undefined && body.TimeoutInterval == 2,
             'status=' + reg.status + ' seq=' + (body && body.SessionSequenceNumber) + ' timeout=' + (body && body.TimeoutInterval))) return;
  let seq = body.SessionSequenceNumber;
  const interval = body.TimeoutInterval * 800;  // meshcmd.js heartbeats at 80% of the timeout
  let asserted = true;
  for (let i = 0; i < 3; ++i) {
    await sleep(interval);
    seq = (seq + 1) >>> 0;
    const r = await call((done) => amt.AMT_AgentPresenceWatchdog_AssertPresence(seq, done, 0, 0, selectors));
    asserted = asserted && r.status == 200 && r.response.Body.ReturnValue == 0;
  }
  check('AssertPresence x3', asserted);
  const running = await call((done) => amt.Enum('AMT_AgentPresenceWatchdog', done));
  const w = (running.response || []).find((x) => x.DeviceID === deviceId);
  check('Running while asserted', w && w.CurrentState == 4, 'CurrentState=' + (w && w.CurrentState));

  // a wrong sequence number is ignored: it does not count as a heartbeat
  const wrong = await call((done) => amt.AMT_AgentPresenceWatchdog_AssertPresence(seq + 5, done, 0, 0, selectors));
  check('Wrong sequence number answered', wrong.status == 200, 'status=' + wrong.status);
  await sleep(3000);  // > TimeoutInterval without a valid heartbeat
  const expired = await call((done) => amt.Enum('AMT_AgentPresenceWatchdog', done));
  const e = (expired.response || []).find((x) => x.DeviceID === deviceId);
  check('Expired after the heartbeats stop', e && e.CurrentState == 8, 'CurrentState=' + (e && e.CurrentState));

  // GetMessageLog answers (stack, messages, tag, status); MeshCentral decodes each 21-byte record
  const records = await new Promise((resolve) => amt.GetMessageLog((stack, messages) => resolve(messages || [])));
  const agentEvent = records.find((r) => r.EventSensorType == 0x12 && r.Entity == 0x26);
  check('Agent watchdog event in the message log', agentEvent !== undefined,
        'records=' + records.length + (agentEvent ? ' desc="' + agentEvent.Desc + '"' : ''));

  const deleted = await call((done) => amt.Delete('AMT_AgentPresenceWatchdog', selectors, done));
  check('Delete', deleted.status == 200, 'status=' + deleted.status);
  const after = await call((done) => amt.Enum('AMT_AgentPresenceWatchdog', done));
  check('Gone after Delete', !(after.response || []).some((x) => x.DeviceID === deviceId));
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { console.log('FAIL exception ' + (e && e.stack || e)); process.exit(1); });
