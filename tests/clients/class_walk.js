// The class walk of issue 14: every class and method the real consoles can send, walked against the daemon.
// The lists are generated, not written here:
//  - classes a console's full-state save enumerates (tests/data/amt-save-state-classes.txt, spec/amt-classes.md);
//  - every class and method of @device-management-toolkit/wsman-messages (found by walking its Messages objects);
//  - every class and method MeshCentral's amt.js can send (its obj.Exec(CLASS, METHOD, ...) calls, both copies:
//    amt/amt.js and agents/modules_meshcmd/amt.js).
// Each class is enumerated (Enumerate + Pull) with MeshCentral's own WS-Man stack, the way a full-state save does.
// Each method is invoked without arguments: it must be known to the daemon (no ActionNotSupported and no
// DestinationUnreachable), and it may not claim success (ReturnValue 0) unless it is a method that needs no input,
// listed below with the test that checks its effect.
// Usage: node class_walk.js PORT USER PASS CLASSLIST
// Prints "OK ..."/"FAIL ..." lines and a summary; exits 1 on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const nodeModules = path.join(__dirname, 'node_modules');
const amtDir = path.join(nodeModules, 'meshcentral', 'amt');
const CreateWsmanComm = require(path.join(amtDir, 'amt-wsman-comm.js'));
const WsmanStackCreateService = require(path.join(amtDir, 'amt-wsman.js'));
const AmtStackCreateService = require(path.join(amtDir, 'amt.js'));
const { AMT, CIM, IPS } = require(path.join(nodeModules, '@device-management-toolkit', 'wsman-messages'));

// --- Deliberate exceptions, each with its reason. ---

// Classes whose Enumerate may rightly be empty on a freshly provisioned device: they list what a console creates,
// or state the device has not entered. Every other class must have at least one instance.
const mayBeEmpty = {
  CIM_RemoteIdentity: 'no Kerberos users: ACL entries are Digest users (KerberosUserSid is not kept)',
  AMT_PublicKeyCertificate: 'no certificate until a console adds one',
  AMT_PublicPrivateKeyPair: 'no key pair until GenerateKeyPair or AddKey',
  AMT_ManagementPresenceRemoteSAP: 'no MPS until AddMpServer',
  AMT_RemoteAccessPolicyRule: 'no CIRA rule until AddRemoteAccessPolicyRule',
  AMT_RemoteAccessPolicyAppliesToMPS: 'no rule applies to an MPS until one is added',
  AMT_MPSUsernamePassword: 'no MPS credentials until AddMpServer',
  AMT_RemoteAccessCredentialContext: 'no MPS credentials until AddMpServer',
  IPS_HTTPProxyAccessPoint: 'no proxy until AddProxyAccessPoint',
  AMT_AgentPresenceWatchdog: 'no agent watchdog until a console creates one',
  AMT_AgentPresenceWatchdogAction: 'no action until AddAction',
  AMT_StateTransitionCondition: 'no action until AddAction',
  AMT_AgentPresenceWatchdogVA: 'no agent watchdog until a console creates one',
  CIM_Watchdog: 'its instances are the agent watchdogs a console creates',
  CIM_ConcreteDependency: 'links agent watchdogs to their actions: none until a console creates one',
  CIM_Dependency: 'the abstract base of associations: its instances are the concrete ones that have any',
  CIM_ListenerDestination: 'no WS-Eventing subscriber until a console subscribes',
  CIM_ListenerDestinationWSManagement: 'no WS-Eventing subscriber until a console subscribes',
  CIM_FilterCollectionSubscription: 'no WS-Eventing subscription until a console subscribes',
  CIM_AbstractIndicationSubscription: 'no WS-Eventing subscription until a console subscribes',
  IPS_AlarmClockOccurrence: 'no alarm until AddAlarm',
  CIM_WiFiEndpointSettings: 'no Wi-Fi profile until AddWiFiSettings',
  AMT_8021xCredentialContext: 'no 802.1X credential until a profile names one',
  IPS_8021xCredentialContext: 'no 802.1X credential until a profile names one',
  AMT_TLSCredentialContext: 'no certificate is bound to TLS until a console creates the context',
  CIM_CredentialContext: 'no credential context until certificates are bound',
  AMT_CRL: 'no revocation list until AddCRL',
  IPS_ProvisioningAuditRecord: 'no provisioning record on a device provisioned by its configuration, not a console',
  IPS_AdminProvisioningRecord: 'as IPS_ProvisioningAuditRecord',
  IPS_ClientProvisioningRecord: 'as IPS_ProvisioningAuditRecord',
  IPS_ManualProvisioningRecord: 'as IPS_ProvisioningAuditRecord',
  IPS_TLSProvisioningRecord: 'as IPS_ProvisioningAuditRecord',
  IPS_SessionUsingPort: 'no redirection session is open during the walk',
  IPS_SolSessionUsingPort: 'no SOL session is open during the walk',
  IPS_IderSessionUsingPort: 'no IDE-R session is open during the walk',
  IPS_KvmSessionUsingPort: 'no KVM session is open during the walk',
  IPS_RasSessionUsingPort: 'no CIRA connection during the walk',
  AMT_SNMPEventSubscriber: 'no SNMP trap subscriber until a console adds one',
  AMT_EventSubscriber: 'its instances are the SNMP subscribers a console adds',
  AMT_TrapTargetForService: 'links SNMP subscribers: none until one is added',
  AMT_PETFilterForTarget: 'links SNMP subscribers to filters: none until one is added',
  CIM_RemotePort: 'its instances are the SNMP subscribers a console adds',
  AMT_SystemDefensePolicy: 'no System Defense policy until a console creates one',
  AMT_FilterEntryBase: 'no filter until a console creates one',
  AMT_ComplexFilterEntryBase: 'no filter until a console creates one',
  AMT_Hdr8021Filter: 'no filter until a console creates one',
  AMT_IPHeadersFilter: 'no filter until a console creates one',
  AMT_NetworkFilter: 'no filter until a console creates one',
  AMT_FilterInSystemDefensePolicy: 'no filter until a console creates one',
  AMT_SystemDefensePolicyInService: 'no policy until a console creates one',
  AMT_NetworkPortSystemDefensePolicy: 'no policy is active until a console activates one',
  AMT_ActiveFilterStatistics: 'statistics exist for the filters of an active policy only',
  AMT_AgentPresenceInterfacePolicy: 'no agent-presence policy until a console sets one',
  AMT_EnvironmentDetectionInterfacePolicy: 'no environment-detection policy until a console sets one',
  AMT_InterfacePolicy: 'its instances are the interface policies a console sets',
  CIM_PolicySetAppliesToElement: 'its instances are the interface policies a console sets',
  CIM_Indication: 'indications are events AMT sends to subscribers, never stored instances',
  CIM_ProcessIndication: 'as CIM_Indication',
  CIM_AlertIndication: 'as CIM_Indication',
  AMT_EventLogEntry: 'the message log has no record on a fresh device',
  CIM_LogManagesRecord: 'links the message log to its records: none on a fresh device',
  CIM_LogEntry: 'as AMT_EventLogEntry',
  CIM_RecordForLog: 'as AMT_EventLogEntry',
  AMT_EACCredentialContext: 'Endpoint Access Control left AMT before release 16 (docs/object-model.md)',
  AMT_HeuristicPacketFilterSettings: 'heuristic packet filtering left AMT after 11.6 (docs/object-model.md)',
  CIM_PolicyAction: 'its instances are the agent watchdog actions AddAction creates',
  CIM_PolicyCondition: 'its instances are the state transitions AddAction creates',
  CIM_RemoteServiceAccessPoint: 'its instances are the MPS servers and HTTP proxies a console adds',
  CIM_SharedCredential: 'its instances are the MPS credentials AddMpServer adds',
  AMT_NetworkPortDefaultSystemDefensePolicy: 'no default System Defense policy until a console sets one',
  AMT_HeuristicPacketFilterInterfacePolicy: 'as AMT_HeuristicPacketFilterSettings',
  AMT_HeuristicPacketFilterStatistics: 'as AMT_HeuristicPacketFilterSettings',
  AMT_CRL: 'its instances are the revocation lists AddCRL adds',
  CIM_RemoteAccessAvailableToElement: 'one per MPS or HTTP proxy a console adds',
  CIM_StatisticalData: 'AMT 16 keeps statistics only for heuristic packet filtering, which it no longer has',
  CIM_ElementStatisticalData: 'as CIM_StatisticalData',
  CIM_OwningJobElement: 'AMT runs no CIM_ConcreteJob: every method is done when it answers',
  AMT_NetworkFilter: 'one per filter in a System Defense policy; none until a console creates a policy',
  CIM_ManagedCredential: 'the certificates and key pairs of the key store; none until a console adds one',
  CIM_ConcreteComponent: 'a Wi-Fi profile and its 802.1X settings; none until AddWiFiSettings adds one with 802.1X',
  CIM_ServiceSAPDependency: 'its instances are AMT_TrapTargetForService: one per SNMP trap subscriber a console adds',
};

// Methods that rightly succeed (ReturnValue 0) when called without arguments, and the test that checks the
// effect of each. Any other method answering 0 to an empty call is a failure: it claimed to do nothing.
const succeedsWithoutArguments = {
  'AMT_SetupAndConfigurationService.GetUuid': 'reads only (wsman_test: GetUuid)',
  'AMT_SetupAndConfigurationService.CommitChanges': 'commits pending settings; none pending is success (wsman_test)',
  'AMT_TimeSynchronizationService.GetLowAccuracyTimeSynch': 'reads the clock (meshcentral_wsman.js)',
  'AMT_AuthorizationService.GetAclEnabledState': 'reads only; selects the admin when no handle is given',
  'AMT_AuthorizationService.GetAdminAclEntry': 'reads only',
  'AMT_AuthorizationService.GetAdminAclEntryStatus': 'reads only',
  'AMT_AuthorizationService.GetAdminNetAclEntryStatus': 'reads only',
  'AMT_AuthorizationService.EnumerateUserAclEntries': 'reads only (StartIndex defaults to 1)',
  'AMT_MessageLog.PositionToFirstRecord': 'starts an iteration (meshcentral_wsman.js GetMessageLog)',
  'AMT_AuditLog.ReadRecords': 'reads from the first record (meshcentral_wsman.js GetAuditLog)',
  'AMT_KerberosSettingData.GetCredentialCacheState': 'reads only',
  'IPS_OptInService.StartOptIn': 'shows a consent code (consent_daemon_test)',
  'IPS_OptInService.CancelOptIn': 'cancels consent (consent_daemon_test)',
  'AMT_EnvironmentDetectionSettingData.SetSystemDefensePolicy': 'no Policy takes the environment-detection policy off (wsman_system_defense_test)',
  'CIM_BootConfigSetting.ChangeBootOrder': 'no Source clears the boot order, as MeshCentral sends it first (wsman_test: ChangeBootOrder)',
  'AMT_MessageLog.ClearLog': 'empties the message log (wsman_object_model_test: MessageLogClearAndFreeze)',
  'AMT_AuditLog.ClearLog': 'empties the audit log (wsman_object_model_test: AuditLogClearAndPolicy)',
  'IPS_ProvisioningRecordLog.ClearLog': 'hides the provisioning record (wsman_object_model_test: ProvisioningRecordLog)',
  'AMT_PublicKeyManagementService.ResetCRLList': 'empties the CRL list (wsman_pki_test: AddCrl...UntilResetCrlList; tls_switching_daemon_test)',
  'AMT_RemoteAccessService.CloseRemoteAccessConnection': 'closes the tunnel; nothing open is harmless (wsman_remote_access_test: CloseRemoteAccessConnection...)',
  'AMT_SetupAndConfigurationService.GetUnprovisionBlockingComponents': 'reads only: nothing blocks an unprovision since AMT 12 (wsman_methods_test: ProvisioningRecordFlashWearOutAndBlockingComponents)',
  'AMT_SetupAndConfigurationService.ResetFlashWearOutProtection': 'needs no input; audited as 1615 (wsman_methods_test: ProvisioningRecordFlashWearOutAndBlockingComponents)',
  'IPS_OptInService.StartService': 'the consent service runs; EnabledState stays 2 (wsman_methods_test: OptInServiceRunsAndCannotBeStopped)',
  'AMT_WiFiPortConfigurationService.DeleteAllITProfiles': 'deletes the IT profiles (wsman_wifi_test: DeleteAllProfilesOfAKindAndPutTheSyncSettings)',
  'AMT_WiFiPortConfigurationService.DeleteAllUserProfiles': 'deletes the user profiles (wsman_wifi_test: DeleteAllProfilesOfAKindAndPutTheSyncSettings)',
};

// Methods AMT does not implement, which the walk expects to be refused with ActionNotSupported. amt.js generates a
// function for every method of the MOF; AMT implements none of CIM_LogicalDevice's extrinsic methods on the
// hardware it only reports (resetting or powering a processor, a disk, a sensor or a fan is not the ME's to do),
// nor the methods of abstract classes (a console calls ClearLog on a concrete log, not on CIM_RecordLog).
const notSupportedByAmt = [
  [/^CIM_(Processor|MediaAccessDevice|PowerSupply|Sensor|Watchdog|Fan)\.(EnableDevice|OnlineDevice|QuiesceDevice|Reset|RestoreProperties|SaveProperties|SetPowerState|RequestStateChange)$/,
   'CIM_LogicalDevice methods on reported hardware'],
  [/^CIM_WiFiPort\.(EnableDevice|OnlineDevice|QuiesceDevice|Reset|RestoreProperties|SaveProperties|SetPowerState)$/,
   'CIM_LogicalDevice methods: the Wi-Fi port is switched by RequestStateChange only'],
  [/^CIM_MediaAccessDevice\.LockMedia$/, 'the host\'s disks are reported, not driven'],
  [/^CIM_(Card|Chassis|PhysicalFrame|PhysicalPackage)\.(IsCompatible|ConnectorPower)$/, 'CIM_PhysicalPackage methods on reported hardware'],
  [/^CIM_Fan\.SetSpeed$/, 'AMT\'s fans are VariableSpeed false'],
  [/^CIM_Watchdog\.KeepAlive$/, 'abstract: agent watchdogs are kept alive by AMT_AgentPresenceWatchdog.AssertPresence'],
  [/^CIM_RecordLog\.(ClearLog|RequestStateChange)$/, 'abstract: consoles clear AMT_MessageLog or IPS_ProvisioningRecordLog'],
  [/^CIM_StatisticalData\.ResetSelectedStats$/, 'abstract: statistics are reset on their concrete class'],
  [/^IPS_KVMRedirectionSettingData\.DataChannel(Read|Write)$/,
   'gone from AMT: the class\'s current MOF (intel/lms CIM framework) declares TerminateSession only'],
];
const notSupportedReason = (key) => { const hit = notSupportedByAmt.find(([re]) => re.test(key)); return hit && hit[1]; };

// Methods the walk does not invoke, and why.
const notInvoked = {
  'AMT_SetupAndConfigurationService.Unprovision': 'would end the walk: provisioning tests cover it',
  'AMT_SetupAndConfigurationService.PartialUnprovision': 'would end the walk: provisioning tests cover it',
  'IPS_HostBasedSetupService.DisableClientControlMode': 'would end the walk: provisioning tests cover it',
};

// Not yet served. Issue 14 is open; each entry goes when the class or method is built. The walk fails if an entry
// here is in fact served (so the list cannot go stale).
const pending = JSON.parse(fs.readFileSync(path.join(__dirname, 'class_walk_pending.json'), 'utf8'));

// --- The lists, generated from the packages ---

const [port, user, pass, classListFile] = [parseInt(process.argv[2], 10), process.argv[3], process.argv[4], process.argv[5]];
const classes = new Map();  // name -> sources
const methods = new Map();  // CLASS.Method -> sources
const note = (map, key, source) => { if (!map.has(key)) map.set(key, new Set()); map.get(key).add(source); };

for (const line of fs.readFileSync(classListFile, 'utf8').split('\n')) if (line.trim()) note(classes, line.trim(), 'save-state');

const intrinsic = new Set(['Enumerate', 'Get', 'Pull', 'Put', 'Delete', 'Create', 'constructor']);
for (const pkg of [AMT, CIM, IPS]) {
  const messages = new pkg.Messages();
  for (const key of Object.keys(messages)) {
    const cls = messages[key];
    if (!cls || typeof cls !== 'object' || !cls.className) continue;
    note(classes, cls.className, 'wsman-messages');
    for (let p = cls; p && p !== Object.prototype; p = Object.getPrototypeOf(p))
      for (const name of Object.getOwnPropertyNames(p))
        if (typeof cls[name] === 'function' && !intrinsic.has(name) && !name.startsWith('protected'))
          note(methods, cls.className + '.' + canonicalMethod(cls.className, name), 'wsman-messages');
  }
}
// wsman-messages spells a few methods differently from the schema (its function names, not the action URIs):
// the action it sends is what counts.
function canonicalMethod(cls, name) {
  const renamed = { 'AMT_SetupAndConfigurationService.SetMEBXPassword': 'SetMEBxPassword',
                    'AMT_AuthorizationService.SetAdminACLEntryEx': 'SetAdminAclEntryEx',
                    'AMT_RemoteAccessService.AddMPS': 'AddMpServer' };
  return renamed[cls + '.' + name] || name;
}

for (const file of [path.join(amtDir, 'amt.js'), path.join(nodeModules, 'meshcentral', 'agents', 'modules_meshcmd', 'amt.js')]) {
  const source = fs.readFileSync(file, 'utf8');
  for (const m of source.matchAll(/\.Exec\(\s*"((?:AMT|CIM|IPS)_\w+)",\s*"(\w+)"/g)) {
    note(classes, m[1], 'amt.js');
    note(methods, m[1] + '.' + m[2], 'amt.js');
  }
  for (const m of source.matchAll(/\.(?:Get|Enum|Put|Delete|Create)\(\s*"((?:AMT|CIM|IPS)_\w+)"/g)) note(classes, m[1], 'amt.js');
}

// --- The walk ---

const comm = CreateWsmanComm('127.0.0.1', port, user, pass, 0);
comm.xtlsFingerprint = 0;
const amt = AmtStackCreateService(WsmanStackCreateService(comm));
const call = (fn) => new Promise((resolve) => fn(resolve));
let failures = 0, passed = 0;
const failed = [];
function ok(what, detail) { passed++; if (process.env.WALK_VERBOSE) console.log('OK ' + what + (detail ? ' ' + detail : '')); }
function fail(what, detail) { failures++; failed.push(what); console.log('FAIL ' + what + (detail ? ' ' + detail : '')); }
const servedPending = [];

// MeshCentral's stack hands a method's caller no fault detail (on a status other than 200 its HTTP layer drops the
// body), so methods go out through a small Digest client of this test, in the envelope MeshCentral's ExecMethod
// builds, and the walk reads the fault's subcode from the answer.
const http = require('http');
const crypto = require('crypto');
const md5 = (text) => crypto.createHash('md5').update(text).digest('hex');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let challenge = null, nonceCount = 0;
function post(body, retry = true) {
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
    if (challenge) {
      const nc = (++nonceCount).toString(16).padStart(8, '0'), cnonce = crypto.randomBytes(8).toString('hex');
      const response = md5([md5(user + ':' + challenge.realm + ':' + pass), challenge.nonce, nc, cnonce, 'auth', md5('POST:/wsman')].join(':'));
      headers.Authorization = 'Digest username="' + user + '", realm="' + challenge.realm + '", nonce="' + challenge.nonce +
        '", uri="/wsman", qop="auth", nc=' + nc + ', cnonce="' + cnonce + '", response="' + response + '"';
    }
    const req = http.request({ host: '127.0.0.1', port, path: '/wsman', method: 'POST', headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => {
        if (res.statusCode == 401 && retry) {
          const h = res.headers['www-authenticate'] || '';
          challenge = { realm: (/realm="([^"]*)"/.exec(h) || [])[1], nonce: (/nonce="([^"]*)"/.exec(h) || [])[1] };
          nonceCount = 0;
          post(body, false).then(resolve, reject);
        } else resolve({ status: res.statusCode, data });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
const schemaBase = { AMT: 'http://intel.com/wbem/wscim/1/amt-schema/1/', CIM: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/',
                     IPS: 'http://intel.com/wbem/wscim/1/ips-schema/1/' };
let messageId = 1;
function invoke(cls, method) {
  const uri = schemaBase[cls.slice(0, 3)] + cls;
  return post('<?xml version="1.0" encoding="utf-8"?><Envelope xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns="http://www.w3.org/2003/05/soap-envelope"><Header>' +
    '<a:Action>' + uri + '/' + method + '</a:Action><a:To>/wsman</a:To><w:ResourceURI>' + uri + '</w:ResourceURI><a:MessageID>' +
    (messageId++) + '</a:MessageID><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous' +
    '</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout></Header><Body><r:' + method + '_INPUT xmlns:r="' +
    uri + '"></r:' + method + '_INPUT></Body></Envelope>');
}
const faultSubcode = (data) => ((/Subcode>\s*<(?:\w+:)?Value>([^<]+)</.exec(data) || [])[1] || '').trim();
const returnValue = (data) => { const m = /ReturnValue>\s*(\d+)\s*</.exec(data); return m ? parseInt(m[1], 10) : undefined; };

async function walkClass(name) {
  const r = await call((done) => amt.Enum(name, (stack, n, items, status, tag) => done({ items, status })));
  const pendingReason = pending.classes[name];
  if (r.status != 200) {
    if (pendingReason) { ok('Enumerate ' + name, 'pending: ' + pendingReason); return; }
    fail('Enumerate ' + name, 'status=' + r.status + ' (' + [...classes.get(name)].join(', ') + ')');
    return;
  }
  const count = Array.isArray(r.items) ? r.items.length : -1;
  if (count < 0) fail('Enumerate ' + name, 'no item list');
  else if (count > 0 && pendingReason) servedPending.push(name);
  else if (count === 0 && !mayBeEmpty[name] && !pendingReason) fail('Enumerate ' + name, 'empty, and not listed as may-be-empty');
  else ok('Enumerate ' + name, count + ' items' + (count === 0 && pendingReason ? ', pending: ' + pendingReason : ''));
}

async function walkMethod(key) {
  const [cls, method] = key.split('.');
  if (notInvoked[key]) { ok('Invoke ' + key, 'not invoked: ' + notInvoked[key]); return; }
  const r = await invoke(cls, method);
  const refusedByDesign = notSupportedReason(key);
  if (refusedByDesign) {
    const fault = r.status == 200 ? '' : faultSubcode(r.data);
    if (/DestinationUnreachable/.test(fault) && pending.classes[cls]) { ok('Invoke ' + key, 'class pending: ' + pending.classes[cls]); return; }
    if (/ActionNotSupported/.test(fault)) ok('Invoke ' + key, 'ActionNotSupported: ' + refusedByDesign);
    else fail('Invoke ' + key, 'expected ActionNotSupported (' + refusedByDesign + '), got status=' + r.status + ' fault=' + fault);
    return;
  }
  const pendingReason = pending.methods[key];
  const fault = r.status == 200 ? '' : faultSubcode(r.data);
  const rv = r.status == 200 ? returnValue(r.data) : undefined;
  const unknown = /DestinationUnreachable|ActionNotSupported/.test(fault) || (r.status != 200 && !fault) ||
                  (r.status == 200 && rv === undefined);
  if (unknown) {
    if (pendingReason) { ok('Invoke ' + key, 'pending: ' + pendingReason); return; }
    fail('Invoke ' + key, 'status=' + r.status + ' fault=' + fault + ' (' + [...methods.get(key)].join(', ') + ')');
    return;
  }
  if (pendingReason) servedPending.push(key);
  if (rv === 0 && !succeedsWithoutArguments[key]) fail('Invoke ' + key, 'ReturnValue 0 to a call without arguments');
  else ok('Invoke ' + key, r.status == 200 ? 'ReturnValue=' + rv : 'fault=' + fault);
}

async function main() {
  for (const name of [...classes.keys()].sort()) await walkClass(name);
  for (const key of [...methods.keys()].sort()) await walkMethod(key);
  for (const name of servedPending) fail('pending ' + name, 'is served now (with instances): take it off class_walk_pending.json');
  const stale = Object.keys(pending.classes).filter((c) => !classes.has(c))
    .concat(Object.keys(pending.methods).filter((m) => !methods.has(m)));
  for (const name of stale) fail('pending ' + name, 'is in no list the walk generates');
  const pendingCount = Object.keys(pending.classes).length + Object.keys(pending.methods).length;
  console.log('classes ' + classes.size + ', methods ' + methods.size + ': ' + passed + ' passed, ' + failures +
              ' failed, ' + pendingCount + ' pending');
}

const timer = setTimeout(() => { fail('timeout', 'the walk took over 120 s'); process.exit(2); }, 120000);
main().then(() => {
  clearTimeout(timer);
  comm.destroy();
  agent.destroy();
  process.exit(failures ? 1 : 0);
}, (e) => { clearTimeout(timer); fail('exception', e && e.stack); process.exit(1); });
