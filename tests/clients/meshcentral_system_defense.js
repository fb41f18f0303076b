// System Defense through MeshCentral's WS-Man stack, as MeshCommander's System Defense panel drives it (amt.js Create,
// Enum, Delete): an IP header filter, a policy holding it, the policy put on the wired port through
// AMT_NetworkPortSystemDefensePolicy, the filter seen as the policy's member in AMT_NetworkFilter, then the policy
// and the filter deleted, which takes the port's policy away.
// Usage: node meshcentral_system_defense.js PORT USER PASS TLS(0|1)
'use strict';
const path = require('path');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));

const [port, user, pass, tls] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4], parseInt(process.argv[5] || '0', 10)];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, tls);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function check(step, cond, detail) { console.log((cond ? 'OK ' : 'FAIL ') + step + (detail ? ' ' + detail : '')); if (!cond) failures++; return cond; }
const call = (fn) => new Promise((resolve) => fn((stack, name, response, status) => resolve({ response, status })));
// amt.js's Create writes each property as text, so a reference goes in as its XML, as MeshCommander writes it.
const epr = (uri, selectors) => '<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>' + uri +
  '</w:ResourceURI><w:SelectorSet>' + Object.entries(selectors).map(([k, v]) => '<w:Selector Name="' + k + '">' + v + '</w:Selector>').join('') +
  '</w:SelectorSet></a:ReferenceParameters>';

async function main() {
  // The keys are placeholders: AMT replaces them, as MeshCommander expects.
  const filter = await call((done) => amt.Create('AMT_IPHeadersFilter', {
    InstanceID: '999', Name: 'mc-web', CreationClassName: 'x', SystemName: 'x', SystemCreationClassName: 'x',
    FilterDirection: 0, FilterProfile: 4, HdrIPVersion: 4, HdrDestAddress: '0AFB0001', ActionEventOnMatch: true }, done));
  check('Create AMT_IPHeadersFilter', filter.status == 200, 'status=' + filter.status);
  const filters = await call((done) => amt.Enum('AMT_IPHeadersFilter', done));
  const mine = (filters.response || []).find((f) => f.Name == 'mc-web');
  check('Enum AMT_IPHeadersFilter', mine && mine.InstanceID != '999' && mine.SystemName == 'Intel(r) AMT', JSON.stringify(mine));

  const policy = await call((done) => amt.Create('AMT_SystemDefensePolicy', {
    InstanceID: '999', PolicyName: 'mc-isolate', PolicyPrecedence: 0, FilterCreationHandles: [mine && mine.InstanceID],
    TxDefaultDrop: false, RxDefaultDrop: false }, done));
  check('Create AMT_SystemDefensePolicy', policy.status == 200, 'status=' + policy.status);
  const policies = await call((done) => amt.Enum('AMT_SystemDefensePolicy', done));
  const p = (policies.response || []).find((x) => x.PolicyName == 'mc-isolate');
  check('Enum AMT_SystemDefensePolicy', p && String(p.FilterCreationHandles) == String(mine && mine.InstanceID), JSON.stringify(p));

  const port0 = epr('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPort', {
    CreationClassName: 'CIM_EthernetPort', DeviceID: 'Intel(r) AMT Ethernet Port 0',
    SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'ManagedSystem' });
  const activated = await call((done) => amt.Create('AMT_NetworkPortSystemDefensePolicy', {
    Antecedent: port0, Dependent: epr('http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SystemDefensePolicy', { InstanceID: p && p.InstanceID }) }, done));
  check('Create AMT_NetworkPortSystemDefensePolicy', activated.status == 200, 'status=' + activated.status);
  const onPort = await call((done) => amt.Enum('AMT_NetworkPortSystemDefensePolicy', done));
  check('The policy is on the wired port', (onPort.response || []).length == 1, JSON.stringify(onPort.response));

  const members = await call((done) => amt.Enum('AMT_NetworkFilter', done));
  const member = (members.response || []).find((m) => m.Name == 'mc-web');
  check('AMT_NetworkFilter lists the filter in the policy', member && String(member.OwnerID) == String(p && p.InstanceID), JSON.stringify(member));

  const deleted = await call((done) => amt.Delete('AMT_SystemDefensePolicy', { InstanceID: p && p.InstanceID }, done));
  check('Delete AMT_SystemDefensePolicy', deleted.status == 200, 'status=' + deleted.status);
  const after = await call((done) => amt.Enum('AMT_NetworkPortSystemDefensePolicy', done));
  check('The port has no policy after the delete', (after.response || []).length == 0, JSON.stringify(after.response));
  const gone = await call((done) => amt.Delete('AMT_IPHeadersFilter', {
    CreationClassName: mine && mine.CreationClassName, InstanceID: mine && mine.InstanceID, Name: 'mc-web',
    SystemCreationClassName: mine && mine.SystemCreationClassName, SystemName: mine && mine.SystemName }, done));
  check('Delete AMT_IPHeadersFilter', gone.status == 200, 'status=' + gone.status);
}

main().then(() => process.exit(failures ? 1 : 0), (e) => { console.log('FAIL exception ' + (e && e.stack || e)); process.exit(1); });
