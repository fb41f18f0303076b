// Writes the seeds of fuzz_provisioning_chain: chains made with OpenSSL as tests/support/provisioning_pki.h makes
// them, each with a signature that verifies, so the fuzzer starts from inputs that pass every step.
//   build/bin/make_provisioning_chain_seeds tests/fuzz/seeds/provisioning_chain
#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "firmware/platform/provisioning_verifier.h"
#include "tests/fuzz/provisioning_chain_input.h"
#include "tests/support/provisioning_pki.h"

int main(int argc, char** argv) {
  using namespace mesim;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  auto pki = test::ProvisioningPki::make(fuzz::kNow, std::string("provision.") + fuzz::kSuffix);
  const auto message = test::concat(fuzz::kConfigurationNonce, fuzz::kMcNonce);
  int status = 0;
  auto write = [&](const char* name, const std::vector<std::uint8_t>& bytes) {
    // Each seed must pass the verifier as the harness sets it up, or it seeds nothing past the failing step.
    auto parts = fuzz::decodeParts(bytes.data() + 1, bytes.size() - 1, 99);
    platform::ProvisioningRequest request;
    request.signingAlgorithm = bytes[0];
    request.signature = parts.back();
    parts.pop_back();
    request.chain = parts;
    request.configurationNonce = fuzz::kConfigurationNonce;
    request.mcNonce = fuzz::kMcNonce;
    platform::ProvisioningTrust trust;
    trust.dnsSuffixes = {fuzz::kSuffix};
    trust.now = fuzz::kNow;
    platform::CertHashEntry root;
    root.algorithm = platform::HashAlgorithm::Sha256;
    root.hash = test::digestOf(parts.back(), EVP_sha256());
    trust.hashes = {root};
    if (auto verdict = platform::verifyProvisioning(request, trust); !verdict.ok()) {
      std::fprintf(stderr, "%s does not verify: %s\n", name, verdict.detail.c_str());
      status = 1;
    }
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                       static_cast<std::streamsize>(bytes.size()));
  };
  write("root-intermediate-leaf-sha256", fuzz::encodeChainInput(2, pki.chain(), test::signMessage(pki.leafKey, message)));
  write("other-sha384", fuzz::encodeChainInput(1, pki.chain(), test::signMessage(pki.leafKey, message, EVP_sha384())));
  auto ouSpec = test::ProvisioningPki::leafSpec(fuzz::kNow, "Provisioning Server");
  ouSpec.extendedKeyUsage.clear();
  ouSpec.organizationalUnit = "Intel(R) Client Setup Certificate";
  ouSpec.dnsNames = {std::string("rcs.") + fuzz::kSuffix};
  auto ouLeaf = test::makeCert(ouSpec, pki.leafKey, pki.root, pki.rootKey);
  write("leaf-root-ou-san", fuzz::encodeChainInput(2, {test::derOf(ouLeaf), test::derOf(pki.root)},
                                                    test::signMessage(pki.leafKey, message)));
  return status;
}
