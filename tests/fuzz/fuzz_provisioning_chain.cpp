// The certificate chain of AddNextCertInChain and the DigitalSignature of AdminSetup / UpgradeClientToAdmin into
// the firmware's verifier (firmware/platform/provisioning_verifier.h), with the input's last certificate trusted so
// that mutations reach every step past the root check; and each certificate as AddNextCertInChain checks it on
// arrival. A verdict is always given: success with the trusted entry, or a failure that says what failed. Never a
// crash.
#include <openssl/evp.h>

#include <cstdlib>

#include "firmware/platform/provisioning_verifier.h"
#include "tests/fuzz/provisioning_chain_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim;
  if (size < 1) return 0;
  auto parts = fuzz::decodeParts(data + 1, size - 1, platform::kMaxProvisioningChain + 2);
  if (parts.empty()) return 0;

  platform::ProvisioningRequest request;
  request.signingAlgorithm = data[0] & 3;
  request.signature = std::move(parts.back());
  parts.pop_back();
  request.chain = std::move(parts);
  request.configurationNonce = fuzz::kConfigurationNonce;
  request.mcNonce = fuzz::kMcNonce;

  platform::ProvisioningTrust trust;
  trust.dnsSuffixes = {fuzz::kSuffix};
  trust.now = fuzz::kNow;
  if (!request.chain.empty()) {
    platform::CertHashEntry entry;
    entry.handle = 9;
    entry.algorithm = platform::HashAlgorithm::Sha256;
    entry.hash.resize(32);
    unsigned int len = 0;
    const auto& root = request.chain.back();
    if (EVP_Digest(root.data(), root.size(), entry.hash.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
    trust.hashes.push_back(entry);
  }

  // AddNextCertInChain's check of each certificate against the one before it; a chain that verifies as a whole
  // passes it link by link.
  bool linksHold = true;
  for (std::size_t i = 0; i < request.chain.size(); ++i) {
    const auto arrived = platform::checkNextCertificate(i == 0 ? nullptr : &request.chain[i - 1], request.chain[i]);
    if (!arrived.ok() && arrived.detail.empty()) std::abort();
    linksHold = linksHold && arrived.ok();
  }

  const auto verdict = platform::verifyProvisioning(request, trust);
  if (verdict.ok() && !linksHold) std::abort();
  if (verdict.ok() != (verdict.failure == platform::ProvisioningFailure::None)) std::abort();
  if (verdict.ok()) {
    if (request.chain.empty() || verdict.rootHashHandle != 9 || !verdict.detail.empty()) std::abort();
  } else if (verdict.detail.empty() || std::string(platform::toString(verdict.failure)).empty()) {
    std::abort();
  }
  return 0;
}
