// Writes the requests @device-management-toolkit/wsman-messages builds for the classes real consoles read
// (spec/wsman.md §3.1, §3.3), for wsman_clients_test to send with curl --digest.
// Usage: node wsman_messages.js OUTDIR
// For each class: CLASS.enumerate.xml (Enumerate), CLASS.pull.xml (Pull of context @@CONTEXT@@) and, unless
// the class is keyed by something other than InstanceID, CLASS.get.xml (Get without selectors, or with the
// selector InstanceID=@@INSTANCEID@@ that the test fills in from the Pull). Prints one manifest line per
// class: CLASS <tab> RESOURCE-URI <tab> GET (plain|InstanceID|none) <tab> ITEMS (some|any).
'use strict';
const fs = require('fs');
const path = require('path');
const { AMT, CIM, IPS } = require(path.join(__dirname, 'node_modules', '@device-management-toolkit', 'wsman-messages'));

// [package, property of its Messages, how to Get it, whether the simulated platform must have instances]
const classes = [
  [AMT, 'GeneralSettings', 'plain', 'some'],
  [AMT, 'SetupAndConfigurationService', 'plain', 'some'],
  [IPS, 'HostBasedSetupService', 'plain', 'some'],
  [CIM, 'SoftwareIdentity', 'InstanceID', 'some'],
  [CIM, 'ComputerSystemPackage', 'plain', 'some'],
  [CIM, 'Chassis', 'plain', 'some'],
  [CIM, 'Card', 'plain', 'some'],
  [CIM, 'BIOSElement', 'plain', 'some'],
  [CIM, 'Processor', 'plain', 'some'],
  [CIM, 'PhysicalMemory', 'plain', 'some'],
  [CIM, 'Chip', 'none', 'some'],
  [CIM, 'MediaAccessDevice', 'plain', 'some'],
  [CIM, 'PhysicalPackage', 'none', 'some'],
  [CIM, 'SystemPackaging', 'plain', 'some'],
  [CIM, 'PowerManagementService', 'plain', 'some'],
  [CIM, 'ServiceAvailableToElement', 'plain', 'some'],
  [IPS, 'PowerManagementService', 'plain', 'some'],
  [AMT, 'EthernetPortSettings', 'InstanceID', 'some'],
  [AMT, 'BootSettingData', 'plain', 'some'],
  [AMT, 'BootCapabilities', 'plain', 'some'],
  [CIM, 'BootConfigSetting', 'plain', 'some'],
  [CIM, 'BootSourceSetting', 'InstanceID', 'some'],
  [CIM, 'BootService', 'plain', 'some'],
  [AMT, 'RedirectionService', 'plain', 'some'],
  [CIM, 'KVMRedirectionSAP', 'plain', 'some'],
  [IPS, 'KVMRedirectionSettingData', 'plain', 'some'],
  [IPS, 'OptInService', 'plain', 'some'],
  [AMT, 'TimeSynchronizationService', 'plain', 'some'],
  [AMT, 'AuthorizationService', 'plain', 'some'],
  [AMT, 'MessageLog', 'plain', 'some'],
  [AMT, 'AuditLog', 'plain', 'some'],
  [AMT, 'TLSSettingData', 'InstanceID', 'some'],
  [AMT, 'PublicKeyCertificate', 'none', 'any'],
  [AMT, 'PublicKeyManagementService', 'plain', 'some'],
  [AMT, 'ManagementPresenceRemoteSAP', 'none', 'any'],
  [AMT, 'RemoteAccessService', 'plain', 'some'],
  [AMT, 'RemoteAccessPolicyRule', 'none', 'any'],
  [AMT, 'UserInitiatedConnectionService', 'plain', 'some'],
  [IPS, 'IEEE8021xSettings', 'plain', 'some'],
  [IPS, 'HTTPProxyService', 'plain', 'some'],
  [IPS, 'HTTPProxyAccessPoint', 'none', 'any'],
  [AMT, 'AlarmClockService', 'plain', 'some'],
  [IPS, 'AlarmClockOccurrence', 'none', 'any'],
];

const outDir = process.argv[2];
if (!outDir) { console.error('usage: node wsman_messages.js OUTDIR'); process.exit(2); }
const messages = new Map([[AMT, new AMT.Messages()], [CIM, new CIM.Messages()], [IPS, new IPS.Messages()]]);
for (const [pkg, property, get, items] of classes) {
  const m = messages.get(pkg);
  const cls = m[property];
  const name = cls.className;
  const write = (op, xml) => fs.writeFileSync(path.join(outDir, name + '.' + op + '.xml'), xml);
  write('enumerate', cls.Enumerate());
  write('pull', cls.Pull('@@CONTEXT@@'));
  if (get === 'plain') write('get', cls.Get());
  if (get === 'InstanceID') write('get', cls.Get({ name: 'InstanceID', value: '@@INSTANCEID@@' }));
  console.log([name, m.resourceUriBase + name, get, items].join('\t'));
}
