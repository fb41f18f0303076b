// The key store of AMT_PublicKeyManagementService and what the TLS listener serves (spec/wsman.md §3.1):
// plain data, part of PlatformState.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesim::platform {

// AMT_PublicPrivateKeyPair: made by GenerateKeyPair or given by AddKey. The private key never leaves the state
// (AMT shows only the public key, as DERKey).
struct StoredKeyPair {
  std::string instanceId;     // "Intel(r) AMT Key: Handle: N"
  std::string privateKeyPem;  // PKCS#8 PEM, unencrypted
};

// AMT_CRL: revoked serial numbers of one issuer, added by AddCRL. Mutual TLS refuses a client whose certificate
// chain carries one of them.
struct StoredCrl {
  std::string instanceId;                  // "Intel(r) AMT CRL: Handle: N"
  std::string url;                         // the issuer URL (optional in AddCRL)
  std::vector<std::string> serialNumbers;  // base64 of the big-endian serial, as AddCRL takes them
};

struct KeyStore {
  std::vector<StoredKeyPair> keyPairs;
  std::uint32_t nextKeyPairHandle = 0;
  std::vector<StoredCrl> crls;
  std::uint32_t nextCrlHandle = 0;
  // AMT_TLSCredentialContext: the AMT_PublicKeyCertificate InstanceID bound to the TLS endpoint (empty: none;
  // the listener serves its own self-signed certificate).
  std::string tlsCertificateId;
  // What the TLS listener applies: AMT_TLSSettingData and the credential as of the last CommitChanges.
  bool tlsCommitted = false;          // a CommitChanges applied the fields below
  bool committedTlsEnabled = false;
  bool committedMutualAuthentication = false;
  std::vector<std::string> committedTrustedCn;
  std::string committedTlsCertificateId;
};

}  // namespace mesim::platform
