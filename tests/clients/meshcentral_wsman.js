// Drives MeshCentral's own WS-Man stack (node_modules/meshcentral/amt) against a WS-Man endpoint.
// Usage: node meshcentral_wsman.js PORT USER PASS TLS(0|1)
// Prints one "OK <step> ..." or "FAIL <step> ..." line per operation and exits non-zero on any failure.
'use strict';
const path = require('path');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));

const [port, user, pass, tls] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4], parseInt(process.argv[5] || '0', 10)];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, tls);
// amtmanager.js sets these before the first request: accept any certificate (no pinned hash) and no realm pin.
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function ok(step, detail) { console.log('OK ' + step + (detail ? ' ' + detail : '')); }
function fail(step, detail) { failures++; console.log('FAIL ' + step + (detail ? ' ' + detail : '')); }
function check(step, cond, detail) { (cond ? ok : fail)(step, detail); return cond; }
const call = (fn) => new Promise((resolve) => fn(resolve));

async function main() {
  // 1. Initial contact, as amtmanager.js does it.
  const batch = await call((done) => amt.BatchEnum(null, ['*AMT_GeneralSettings', '*IPS_HostBasedSetupService', 'CIM_SoftwareIdentity'],
    (stack, name, responses, status) => done({ responses, status })));
  if (!check('BatchEnum', batch.status == 200, 'status=' + batch.status)) return;
  const gs = batch.responses['AMT_GeneralSettings'];
  check('Get AMT_GeneralSettings', gs.status == 200 && gs.response && typeof gs.response.HostName === 'string' &&
        /^Digest:[0-9A-F]{32}$/.test(gs.response.DigestRealm),
        'status=' + gs.status + ' HostName=' + (gs.response && gs.response.HostName) + ' DigestRealm=' + (gs.response && gs.response.DigestRealm));
  check('Digest realm = DigestRealm', gs.response && comm.digestRealm === gs.response.DigestRealm, 'challenge realm=' + comm.digestRealm);
  const hbs = batch.responses['IPS_HostBasedSetupService'];
  check('Get IPS_HostBasedSetupService', hbs.status == 200 && hbs.response && hbs.response.CurrentControlMode == 2,
        'status=' + hbs.status + ' CurrentControlMode=' + (hbs.response && hbs.response.CurrentControlMode));
  const sw = batch.responses['CIM_SoftwareIdentity'];  // an Enum keeps its items in .responses (as amtmanager.js reads it)
  const amtVer = (sw.responses || []).find((x) => x.InstanceID === 'AMT');
  check('Enum CIM_SoftwareIdentity', sw.status == 200 && amtVer && /^16\.1\./.test(amtVer.VersionString),
        'status=' + sw.status + ' items=' + (sw.responses || []).length + ' AMT=' + (amtVer && amtVer.VersionString));
  check('Server header version', comm.amtVersion && amtVer && comm.amtVersion.startsWith(amtVer.VersionString.split('.').slice(0, 3).join('.')),
        'amtVersion=' + comm.amtVersion);

  // Time check of amtmanager.js: GetLowAccuracyTimeSynch -> Ta0 (seconds since 1970) close to our clock.
  const ts = await call((done) => amt.AMT_TimeSynchronizationService_GetLowAccuracyTimeSynch((s, n, response, status) => done({ response, status })));
  const drift = ts.response && ts.response.Body ? Math.abs(ts.response.Body.Ta0 - Date.now() / 1000) : NaN;
  check('GetLowAccuracyTimeSynch', ts.status == 200 && ts.response.Body.ReturnValue === 0 && drift < 10,
        'status=' + ts.status + ' Ta0=' + (ts.response && ts.response.Body && ts.response.Body.Ta0) + ' drift=' + drift.toFixed(1) + 's');

  // 2. Hardware inventory, the BatchEnum of amtmanager.js attemptFetchHardwareInventory and the fields it reads.
  const hw = await call((done) => amt.BatchEnum('', ['*CIM_ComputerSystemPackage', 'CIM_SystemPackaging', '*CIM_Chassis', 'CIM_Chip',
    '*CIM_Card', '*CIM_BIOSElement', 'CIM_Processor', 'CIM_PhysicalMemory', 'CIM_MediaAccessDevice', 'CIM_PhysicalPackage'],
    (stack, name, responses, status) => done({ responses, status })));
  if (check('Hardware inventory BatchEnum', hw.status == 200, 'status=' + hw.status)) {
    const r = hw.responses;
    const cpu = (r['CIM_Chip'].responses || []).find((c) => c.ElementName == 'Managed System Processor Chip' && c.Version);
    check('Hardware inventory fields', /^[0-9A-F]{32}$/i.test(r['CIM_ComputerSystemPackage'].response.PlatformGUID) && cpu &&
          r['CIM_Card'].response.Model !== undefined && r['CIM_BIOSElement'].response.Version !== undefined &&
          (r['CIM_PhysicalMemory'].responses || []).length > 0 && (r['CIM_Processor'].responses || []).length > 0,
          'PlatformGUID=' + r['CIM_ComputerSystemPackage'].response.PlatformGUID + ' cpu="' + (cpu && cpu.Version) +
          '" board="' + r['CIM_Card'].response.Model + '" bios="' + r['CIM_BIOSElement'].response.Version +
          '" memory=' + (r['CIM_PhysicalMemory'].responses || []).length + ' media=' + (r['CIM_MediaAccessDevice'].responses || []).length);
  }

  // 3. Power: MeshCentral's power polling (Enum CIM_ServiceAvailableToElement -> PowerState), then the actions of its
  // power menu: power cycle (5), off (8), on (2); each must answer ReturnValue 0 and move PowerState as expected.
  const pollPower = async () => {
    const r = await call((done) => amt.Enum('CIM_ServiceAvailableToElement', (s, n, items, status) => done({ items, status })));
    const states = (r.items || []).map((x) => x.PowerState).filter((x) => x !== undefined);
    return { status: r.status, state: states[0] };
  };
  const first = await pollPower();
  check('Enum CIM_ServiceAvailableToElement', first.status == 200 && first.state == 2, 'status=' + first.status + ' PowerState=' + first.state);
  for (const [request, expected] of [[5, 2], [8, 8], [2, 2]]) {
    const r = await call((done) => amt.RequestPowerStateChange(request, (s, n, response, status) => done({ response, status })));
    const after = await pollPower();
    check('RequestPowerStateChange(' + request + ')',
          r.status == 200 && r.response && r.response.Body.ReturnValue === 0 && after.state == expected,
          'status=' + r.status + ' ReturnValue=' + (r.response && r.response.Body && r.response.Body.ReturnValue) +
          ' PowerState=' + after.state);
  }

  // 4. Event log (AMT_MessageLog PositionToFirstRecord + GetRecords) and audit log (AMT_AuditLog ReadRecords).
  const ml = await call((done) => amt.GetMessageLog((s, messages, tag, status) => done({ messages, status })));
  check('GetMessageLog', ml.status == 200 && Array.isArray(ml.messages),
        'status=' + ml.status + ' records=' + (ml.messages ? ml.messages.length : 'none') +
        (ml.messages && ml.messages.length ? ' first="' + ml.messages[0].Desc + '"' : ''));
  const al = await call((done) => amt.GetAuditLog((s, records, status) => done({ records, status })));
  const powerAudits = (al.records || []).filter((x) => x.AuditAppID == 17);
  check('GetAuditLog', al.status == 200 && Array.isArray(al.records) && powerAudits.length >= 3 && powerAudits.every((x) => x.Initiator === user),
        'status=' + al.status + ' records=' + (al.records ? al.records.length : 'none') +
        ' power=' + powerAudits.map((x) => x.Event + '/' + x.Initiator).join(','));
}

const timer = setTimeout(() => { fail('timeout', 'no answer within 20 s'); process.exit(2); }, 20000);
main().then(() => {
  clearTimeout(timer);
  console.log(failures ? failures + ' failed' : 'all passed');
  comm.destroy();
  process.exit(failures ? 1 : 0);
}, (e) => { clearTimeout(timer); fail('exception', e && e.stack); process.exit(1); });
