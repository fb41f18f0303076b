// Writes the wireless and 802.1X requests @device-management-toolkit/wsman-messages builds, as DMT's console and
// rpc-go send them (docs/wireless-and-8021x.md), for wsman_clients_test to send with curl --digest.
// Usage: node wsman_messages_wifi.js OUTDIR
// Placeholders the test fills in: @@ROOTBLOB@@ (a CA certificate), @@ROOTHANDLE@@ (its AMT_PublicKeyCertificate
// InstanceID), @@CONTEXT@@ (an enumeration context).
'use strict';
const fs = require('fs');
const path = require('path');
const { AMT, CIM, IPS } = require(path.join(__dirname, 'node_modules', '@device-management-toolkit', 'wsman-messages'));

const outDir = process.argv[2];
if (!outDir) { console.error('usage: node wsman_messages_wifi.js OUTDIR'); process.exit(2); }
const amt = new AMT.Messages();
const cim = new CIM.Messages();
const ips = new IPS.Messages();
const endpoint = { name: 'Name', value: 'WiFi Endpoint 0' };  // rpc-go's selector
const certificateRef = (id) => ({
  Address: 'default',
  ReferenceParameters: {
    ResourceURI: 'http://intel.com/wbem/wscim/1/amt-schema/1/AMT_PublicKeyCertificate',
    SelectorSet: ips.wsmanMessageCreator.createSelectorObjectForBody({ name: 'InstanceID', value: id }),
  },
});
const requests = {
  'add-trusted-root': amt.PublicKeyManagementService.AddTrustedRootCertificate({ CertificateBlob: '@@ROOTBLOB@@' }),
  'port-enable': cim.WiFiPort.RequestStateChange(32769),
  'port-get': cim.WiFiPort.Get(),
  'add-psk': amt.WiFiPortConfigurationService.AddWiFiSettings({
    ElementName: 'home', InstanceID: 'Intel(r) AMT:WiFi Endpoint Settings home', AuthenticationMethod: 6,
    EncryptionMethod: 4, SSID: 'home-net', Priority: 1, PSKPassPhrase: "p'ass<>&\"code",
  }, endpoint),
  'add-psk-short': amt.WiFiPortConfigurationService.AddWiFiSettings({
    ElementName: 'cafe', InstanceID: 'Intel(r) AMT:WiFi Endpoint Settings cafe', AuthenticationMethod: 6,
    EncryptionMethod: 4, SSID: 'cafe-net', Priority: 2, PSKPassPhrase: 'short',
  }, endpoint),
  'add-peap': amt.WiFiPortConfigurationService.AddWiFiSettings({
    ElementName: 'corp', InstanceID: 'Intel(r) AMT:WiFi Endpoint Settings corp', AuthenticationMethod: 7,
    EncryptionMethod: 4, SSID: 'corp-net', Priority: 2,
  }, endpoint, { ElementName: 'corp', AuthenticationProtocol: 2, Username: 'alice', Password: 'Secret-1' },
  undefined, '@@ROOTHANDLE@@'),
  'settings-enumerate': cim.WiFiEndpointSettings.Enumerate(),
  'settings-pull': cim.WiFiEndpointSettings.Pull('@@CONTEXT@@'),
  'settings-delete': cim.WiFiEndpointSettings.Delete({ name: 'InstanceID', value: 'Intel(r) AMT:WiFi Endpoint Settings corp' }),
  'sync-put': amt.WiFiPortConfigurationService.Put({
    ElementName: 'Intel(r) AMT WiFiPort Configuration Service', localProfileSynchronizationEnabled: 3,
  }, { name: 'Name', value: 'Intel(r) AMT WiFi Port Configuration Service' }),
  'sync-get': amt.WiFiPortConfigurationService.Get(),
  'set-certificates': ips.IEEE8021xSettings.SetCertificates(certificateRef('@@ROOTHANDLE@@'), undefined),
  'credential-context-enumerate': ips.IEEE8021xCredentialContext.Enumerate(),
  'credential-context-pull': ips.IEEE8021xCredentialContext.Pull('@@CONTEXT@@'),
};
for (const [name, xml] of Object.entries(requests)) fs.writeFileSync(path.join(outDir, name + '.xml'), xml);
console.log(Object.keys(requests).join('\n'));
