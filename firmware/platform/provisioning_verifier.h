// How the firmware checks a request for admin control mode by certificate (IPS_HostBasedSetupService AdminSetup
// and UpgradeClientToAdmin, after AddNextCertInChain): the chain's signatures up to a root whose hash is in the
// enabled trusted list, every certificate's dates on the firmware clock, the leaf's provisioning purpose and its
// domain against the PKI DNS suffix, and DigitalSignature = the leaf key's RSA signature over
// ConfigurationNonce || McNonce. Pure: the caller hands in what it checks against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/platform/platform_state.h"

namespace mesim::platform {

// SigningAlgorithm of AdminSetup / UpgradeClientToAdmin (IPS_HostBasedSetupService MOF): 0 None, 1 Other,
// 2 RSA_SHA-2_256. Under Other the signature's own DigestInfo names the hash (SHA-1, SHA-256 or SHA-384), which
// is how the older agents' forms are told apart.
enum class SigningAlgorithm : std::uint16_t { None = 0, Other = 1, RsaSha256 = 2 };

enum class ProvisioningFailure {
  None,
  ChainMalformed,           // no chain, or a certificate that is not DER X.509
  ChainBroken,              // a certificate's issuer is not the next one, the next is no CA, or the signature fails
  UntrustedRoot,            // the root's hash is not an enabled entry of the trusted list
  NotYetValid,              // a certificate's notBefore is after the firmware clock
  Expired,                  // a certificate's notAfter is before the firmware clock
  NoProvisioningPurpose,    // the leaf has neither the AMT provisioning EKU nor the Client Setup OU
  DomainMismatch,           // the leaf's CN / SAN DNS names are not under the PKI DNS suffix (or none is known)
  UnsupportedAlgorithm,     // SigningAlgorithm None, or a value the SDK does not list
  LeafKeyNotRsa,            // the signature must be RSA
  SignatureMismatch,        // DigitalSignature is not the leaf key's signature over the two nonces
};
const char* toString(ProvisioningFailure failure);

inline constexpr const char* kProvisioningPurposeOid = "2.16.840.1.113741.1.2.3";
inline constexpr const char* kClientSetupOu = "Intel(R) Client Setup Certificate";
inline constexpr std::size_t kMaxProvisioningChain = 8;

struct ProvisioningRequest {
  std::vector<std::vector<std::uint8_t>> chain;  // DER, leaf first, root last (AddNextCertInChain order)
  std::vector<std::uint8_t> configurationNonce;  // the firmware's, as IPS_HostBasedSetupService reported it
  std::vector<std::uint8_t> mcNonce;             // the agent's
  std::vector<std::uint8_t> signature;           // DigitalSignature
  std::uint16_t signingAlgorithm = static_cast<std::uint16_t>(SigningAlgorithm::RsaSha256);
};

struct ProvisioningTrust {
  std::vector<CertHashEntry> hashes;     // only enabled (isActive) entries count
  std::vector<std::string> dnsSuffixes;  // the leaf's domain must be one of these or end in "." + one
  std::int64_t now = 0;                  // firmware clock, Unix seconds
};

struct ProvisioningVerdict {
  ProvisioningFailure failure = ProvisioningFailure::None;
  std::string detail;  // what failed, for the log
  // On success: the trusted entry the root matched.
  std::uint32_t rootHashHandle = 0;
  HashAlgorithm rootHashAlgorithm = HashAlgorithm::Sha256;
  std::vector<std::uint8_t> rootHash;
  bool ok() const { return failure == ProvisioningFailure::None; }
};

ProvisioningVerdict verifyProvisioning(const ProvisioningRequest& request, const ProvisioningTrust& trust);

// AddNextCertInChain's own check of one certificate as it arrives (leaf first): it is DER X.509 (else
// ChainMalformed) and, after the leaf, it issued the one before it: name, CA, signature (else ChainBroken).
// Dates, trust and purpose wait for AdminSetup / UpgradeClientToAdmin, which check the whole chain again.
ProvisioningVerdict checkNextCertificate(const std::vector<std::uint8_t>* previous, const std::vector<std::uint8_t>& next);

// The suffixes the leaf's domain is checked against: the PKI DNS suffix (AMTHI GetPkiFqdnSuffix) when one is set,
// otherwise the DNS suffixes the network gave (DHCP option 15), as the firmware falls back to them.
std::vector<std::string> provisioningDnsSuffixes(const PlatformState& state);

}  // namespace mesim::platform
