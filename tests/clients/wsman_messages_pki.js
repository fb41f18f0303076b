// Writes the requests @device-management-toolkit/wsman-messages builds for the configuration DMT's console and
// rpc-go send for TLS and CIRA (docs/certificates-and-tls.md), for wsman_clients_test to send with curl --digest.
// Usage: node wsman_messages_pki.js OUTDIR
// Placeholders the test fills in: @@KEYBLOB@@, @@CERTBLOB@@, @@ROOTBLOB@@, @@CERTHANDLE@@, @@MPSNAME@@.
'use strict';
const fs = require('fs');
const path = require('path');
const { AMT } = require(path.join(__dirname, 'node_modules', '@device-management-toolkit', 'wsman-messages'));

const outDir = process.argv[2];
if (!outDir) { console.error('usage: node wsman_messages_pki.js OUTDIR'); process.exit(2); }
const amt = new AMT.Messages();
const requests = {
  'generate-key-pair': amt.PublicKeyManagementService.GenerateKeyPair({ KeyAlgorithm: 0, KeyLength: 2048 }),
  'add-key': amt.PublicKeyManagementService.AddKey('@@KEYBLOB@@'),
  'add-trusted-root': amt.PublicKeyManagementService.AddTrustedRootCertificate({ CertificateBlob: '@@ROOTBLOB@@' }),
  'add-certificate': amt.PublicKeyManagementService.AddCertificate({ CertificateBlob: '@@CERTBLOB@@' }),
  'tls-credential-context-create': amt.TLSCredentialContext.Create('@@CERTHANDLE@@'),
  'tls-setting-data-put': amt.TLSSettingData.Put({
    ElementName: 'Intel(r) AMT 802.3 TLS Settings', InstanceID: 'Intel(r) AMT 802.3 TLS Settings',
    Enabled: true, MutualAuthentication: false, AcceptNonSecureConnections: false,
  }),
  'commit-changes': amt.SetupAndConfigurationService.CommitChanges(),
  'add-mps': amt.RemoteAccessService.AddMPS({
    AccessInfo: 'mps.example.com', InfoFormat: 201, Port: 4433, AuthMethod: 2,
    Username: 'mpsuser', Password: 'Mps-pass1', CommonName: 'mps.example.com',
  }),
  'add-policy-rule': amt.RemoteAccessService.AddRemoteAccessPolicyRule(
    { Trigger: 2, TunnelLifeTime: 0, ExtendedData: 'AAAAAAAAABk=' }, { name: 'Name', value: '@@MPSNAME@@' }),
};
for (const [name, xml] of Object.entries(requests)) fs.writeFileSync(path.join(outDir, name + '.xml'), xml);
console.log(Object.keys(requests).join('\n'));
