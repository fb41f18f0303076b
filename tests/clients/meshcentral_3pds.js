// The third-party data storage (docs/3pds.md) through MeshCentral's own WS-Man stack (node_modules/meshcentral/amt):
// amt.js has no 3PDS helpers, so the calls go through its generic Exec, as a console's script would send them, and
// the answers are read the way its XML parser hands them over (a one-element array comes back as a scalar).
// An administrator adds the enterprise; two applications of one vendor register; the first allocates a hidden block,
// writes it, and gives the second read access through a permission group; the second reads it, may not write it and
// does not see it listed; the first locks it and the second is kept out until the unlock.
// Usage: node meshcentral_3pds.js PORT USER PASS
// Prints one "OK <step> ..." or "FAIL <step> ..." line per check and exits non-zero on any failure.
'use strict';
const path = require('path');
const amtDir = path.join(__dirname, 'node_modules', 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));

const [port, user, pass] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4]];
const comm = CreateWsmanComm('127.0.0.1', port, user, pass, 0);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));

let failures = 0;
function ok(step, detail) { console.log('OK ' + step + (detail ? ' ' + detail : '')); }
function fail(step, detail) { failures++; console.log('FAIL ' + step + (detail ? ' ' + detail : '')); }
function check(step, cond, detail) { (cond ? ok : fail)(step, detail); return cond; }
const list = (v) => (v === undefined || v === null || v === '' ? [] : [].concat(v)).map(Number);

// One method call: its Body (ReturnValue and outputs), or {ReturnValue: -1} on a transport or SOAP failure.
function exec(cls, method, args) {
  return new Promise((resolve) => amt.Exec(cls, method, args || {}, (stack, name, response, status) => {
    resolve(status == 200 && response && response.Body ? response.Body : { ReturnValue: -1, status });
  }));
}
const S = 'AMT_ThirdPartyDataStorageService', A = 'AMT_ThirdPartyDataStorageAdministrationService';

async function main() {
  const mtu = await exec(S, 'GetMTU');
  check('GetMTU', mtu.ReturnValue === 0 && mtu.Mtu === 4096, 'Mtu=' + mtu.Mtu);
  const global = await exec(A, 'GetGlobalStorageAttributes');
  check('GetGlobalStorageAttributes', global.ReturnValue === 0 && global.MaxEaclEntries === 4 && global.MaxGroupsPerBlock === 2 &&
        global.MaxMembersPerGroup === 8 && global.TotalStorage >= 96 * 1024, JSON.stringify(global));
  const eacl = await exec(A, 'AddStorageEaclEntry', { EnterpriseName: 'Fabrikam' });
  check('AddStorageEaclEntry', eacl.ReturnValue === 0 && eacl.Handle > 0, 'rv=' + eacl.ReturnValue + ' Handle=' + eacl.Handle);
  const eacls = await exec(A, 'EnumerateStorageEaclEntries');
  check('EnumerateStorageEaclEntries', list(eacls.Handles).includes(eacl.Handle), 'Handles=' + JSON.stringify(eacls.Handles));

  const reg = (app) => exec(S, 'RegisterApplication', { CallerUUID: '00112233445566778899AABBCCDDEEFF', VendorName: 'Fabrikam',
    ApplicationName: app, EnterpriseName: 'Fabrikam' });
  const a = await reg('Writer'), b = await reg('Reader');
  if (!check('RegisterApplication x2', a.ReturnValue === 0 && b.ReturnValue === 0 && /^[0-9A-F]{32}$/.test(a.SessionHandle) &&
             a.SessionHandle !== b.SessionHandle, 'a=' + a.SessionHandle + ' b=' + b.SessionHandle)) return;
  const sa = a.SessionHandle, sb = b.SessionHandle;
  const ha = (await exec(S, 'GetCurrentApplicationHandle', { SessionHandle: sa })).ApplicationHandle;
  const hb = (await exec(S, 'GetCurrentApplicationHandle', { SessionHandle: sb })).ApplicationHandle;
  const apps = await exec(S, 'GetRegisteredApplications', { SessionHandle: sa });
  check('GetRegisteredApplications', apps.ReturnValue === 0 && list(apps.AppHandles).includes(ha) && list(apps.AppHandles).includes(hb),
        'AppHandles=' + JSON.stringify(apps.AppHandles));

  const alloc = await exec(S, 'AllocateBlock', { SessionHandle: sa, BytesRequested: 4096, BlockHidden: 'true', BlockName: 'secret' });
  if (!check('AllocateBlock', alloc.ReturnValue === 0 && alloc.BlockHandle > 0, 'rv=' + alloc.ReturnValue)) return;
  const blk = alloc.BlockHandle;
  const payload = Buffer.from('MeshCentral was here');
  const w = await exec(S, 'WriteBlock', { SessionHandle: sa, BlockHandle: blk, ByteOffset: 16, Data: payload.toString('base64') });
  check('WriteBlock', w.ReturnValue === 0 && w.BytesWritten === payload.length, 'rv=' + w.ReturnValue + ' BytesWritten=' + w.BytesWritten);

  // Hidden and unshared: the reader gets PT_STATUS_BLOCK_DOES_NOT_EXIST (13).
  const before = await exec(S, 'ReadBlock', { SessionHandle: sb, BlockHandle: blk, ByteOffset: 16, ByteCount: payload.length });
  check('ReadBlock hidden by other', before.ReturnValue === 13, 'rv=' + before.ReturnValue);

  const group = await exec(S, 'AddPermissionsGroup', { SessionHandle: sa, BlockHandle: blk, GroupPermissions: 1, GroupName: 'readers' });
  check('AddPermissionsGroup', group.ReturnValue === 0 && group.GroupHandle > 0, 'rv=' + group.ReturnValue);
  const members = await exec(S, 'AddPermissionsGroupMembers', { SessionHandle: sa, BlockHandle: blk, GroupHandle: group.GroupHandle, MemberHandles: [hb] });
  check('AddPermissionsGroupMembers', members.ReturnValue === 0, 'rv=' + members.ReturnValue);
  const listed = await exec(S, 'GetPermissionsGroupMembers', { SessionHandle: sa, BlockHandle: blk, GroupHandle: group.GroupHandle });
  check('GetPermissionsGroupMembers', listed.ReturnValue === 0 && JSON.stringify(list(listed.MemberHandles)) === JSON.stringify([hb]),
        'MemberHandles=' + JSON.stringify(listed.MemberHandles));
  const attrs = await exec(S, 'GetPermissionsGroupAttributes', { SessionHandle: sa, BlockHandle: blk, GroupHandle: group.GroupHandle });
  check('GetPermissionsGroupAttributes', attrs.ReturnValue === 0 && attrs.Name === 'readers' && attrs.Permissions === 1, JSON.stringify(attrs));

  const read = await exec(S, 'ReadBlock', { SessionHandle: sb, BlockHandle: blk, ByteOffset: 16, ByteCount: payload.length });
  check('ReadBlock by member', read.ReturnValue === 0 && Buffer.from(read.Data || '', 'base64').equals(payload),
        'rv=' + read.ReturnValue + ' Data=' + read.Data);
  const denied = await exec(S, 'WriteBlock', { SessionHandle: sb, BlockHandle: blk, ByteOffset: 0, Data: 'AAAA' });
  check('WriteBlock read-only member', denied.ReturnValue === 16, 'rv=' + denied.ReturnValue);
  const seen = await exec(S, 'GetAllocatedBlocks', { SessionHandle: sb, BlockOwnerApplication: ha });
  check('GetAllocatedBlocks hides the hidden block', seen.ReturnValue === 0 && list(seen.BlockHandles).length === 0,
        'BlockHandles=' + JSON.stringify(seen.BlockHandles));

  const lock = await exec(S, 'LockBlock', { SessionHandle: sa, BlockHandle: blk });
  const locked = await exec(S, 'ReadBlock', { SessionHandle: sb, BlockHandle: blk, ByteOffset: 0, ByteCount: 1 });
  check('LockBlock keeps the member out', lock.ReturnValue === 0 && locked.ReturnValue === 18, 'lock=' + lock.ReturnValue + ' read=' + locked.ReturnValue);
  const unlock = await exec(S, 'UnlockBlock', { SessionHandle: sa, BlockHandle: blk });
  const unlocked = await exec(S, 'ReadBlock', { SessionHandle: sb, BlockHandle: blk, ByteOffset: 0, ByteCount: 1 });
  check('UnlockBlock lets it in', unlock.ReturnValue === 0 && unlocked.ReturnValue === 0, 'unlock=' + unlock.ReturnValue + ' read=' + unlocked.ReturnValue);

  // The administrator sees both, their allocation, and removes the writer with its block.
  const adminApps = await exec(A, 'AdminGetRegisteredApplications');
  check('AdminGetRegisteredApplications', list(adminApps.ApplicationHandles).includes(ha), 'ApplicationHandles=' + JSON.stringify(adminApps.ApplicationHandles));
  const info = await exec(A, 'AdminGetApplicationAttributes', { Handle: ha });
  check('AdminGetApplicationAttributes', info.ReturnValue === 0 && info.ApplicationName === 'Writer' && info.CurrentAllocationSize === 4096 &&
        info.ActiveSession === true && Buffer.from(info.UUID || '', 'base64').toString('hex').toUpperCase() === '00112233445566778899AABBCCDDEEFF',
        JSON.stringify(info));
  const removed = await exec(A, 'AdminRemoveApplication', { Handle: ha });
  const gone = await exec(S, 'GetBlockAttributes', { SessionHandle: sb, BlockHandle: blk });
  check('AdminRemoveApplication', removed.ReturnValue === 0 && gone.ReturnValue === 13, 'remove=' + removed.ReturnValue + ' block=' + gone.ReturnValue);
  const stillUsed = await exec(A, 'RemoveStorageEaclEntry', { Handle: eacl.Handle });
  check('RemoveStorageEaclEntry while used', stillUsed.ReturnValue === 16, 'rv=' + stillUsed.ReturnValue);
}

const timer = setTimeout(() => { fail('timeout', 'over 60 s'); process.exit(2); }, 60000);
main().then(() => { clearTimeout(timer); comm.destroy(); process.exit(failures ? 1 : 0); },
            (e) => { clearTimeout(timer); fail('exception', e && e.stack); process.exit(1); });
