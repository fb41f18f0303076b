// The firmware's checks of an admin-control-mode request, each step failed on its own: a PKI made at test time
// (tests/support/provisioning_pki.h), one verification that passes, and one change that breaks each step.
#include <gtest/gtest.h>

#include "firmware/platform/platform_model.h"
#include "firmware/platform/provisioning_verifier.h"
#include "tests/support/provisioning_pki.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::platform {
namespace {

using test::concat;
using test::derOf;
using test::digestOf;
using test::signMessage;
using F = ProvisioningFailure;

constexpr std::int64_t kNow = 1900000000;  // 2030-03-17, the firmware clock in these tests

class ProvisioningVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki = new test::ProvisioningPki(test::ProvisioningPki::make(kNow)); }
  static void TearDownTestSuite() {
    delete pki;
    pki = nullptr;
  }

  void SetUp() override {
    request.chain = pki->chain();
    request.configurationNonce = std::vector<std::uint8_t>(20, 0xC5);
    request.mcNonce = std::vector<std::uint8_t>(20, 0x3A);
    request.signature = signMessage(pki->leafKey, concat(request.configurationNonce, request.mcNonce));
    trust.hashes = {trustedEntry(HashAlgorithm::Sha256, EVP_sha256(), 7)};
    trust.dnsSuffixes = {"example.com"};
    trust.now = kNow;
  }

  static CertHashEntry trustedEntry(HashAlgorithm alg, const EVP_MD* md, std::uint32_t handle, bool active = true) {
    CertHashEntry e;
    e.handle = handle;
    e.name = "test root";
    e.algorithm = alg;
    e.hash = digestOf(derOf(pki->root), md);
    e.isDefault = false;
    e.isActive = active;
    return e;
  }

  // The leaf replaced by one made from `spec` (same key, same issuer).
  void useLeaf(const test::CertSpec& spec) { request.chain.front() = derOf(pki->issueLeaf(spec)); }

  F verify() {
    auto v = verifyProvisioning(request, trust);
    EXPECT_EQ(v.ok(), v.failure == F::None);
    if (!v.ok()) {
      EXPECT_FALSE(v.detail.empty());
    }
    return v.failure;
  }

  static test::ProvisioningPki* pki;
  ProvisioningRequest request;
  ProvisioningTrust trust;
};
test::ProvisioningPki* ProvisioningVerifierTest::pki = nullptr;

TEST_F(ProvisioningVerifierTest, AcceptsAChainAsAgentsSendIt) {
  auto v = verifyProvisioning(request, trust);
  EXPECT_TRUE(v.ok()) << v.detail;
  EXPECT_EQ(v.rootHashHandle, 7u);
  EXPECT_EQ(v.rootHashAlgorithm, HashAlgorithm::Sha256);
}

TEST_F(ProvisioningVerifierTest, RootMayBeTrustedBySha1OrSha384Hash) {
  trust.hashes = {trustedEntry(HashAlgorithm::Sha384, EVP_sha384(), 3)};
  EXPECT_EQ(verify(), F::None);
  trust.hashes = {trustedEntry(HashAlgorithm::Sha1, EVP_sha1(), 4)};
  EXPECT_EQ(verify(), F::None);
  // A hash of one type is not compared with the digest of another.
  auto wrongType = trustedEntry(HashAlgorithm::Sha384, EVP_sha384(), 5);
  wrongType.algorithm = HashAlgorithm::Sha256;
  wrongType.hash.resize(32);
  trust.hashes = {wrongType};
  EXPECT_EQ(verify(), F::UntrustedRoot);
}

TEST_F(ProvisioningVerifierTest, ChainOfLeafAndRootOnly) {
  auto leaf = test::makeCert(test::ProvisioningPki::leafSpec(kNow, "amt.example.com"), pki->leafKey, pki->root,
                             pki->rootKey);
  request.chain = {derOf(leaf), derOf(pki->root)};
  EXPECT_EQ(verify(), F::None);
}

TEST_F(ProvisioningVerifierTest, BadSignatureInChain) {
  // The leaf names the intermediate as its issuer but is signed by another key.
  auto stranger = test::makeRsaKey();
  request.chain.front() = derOf(test::makeCert(test::ProvisioningPki::leafSpec(kNow, "provision.example.com"),
                                               pki->leafKey, pki->intermediate, stranger));
  EXPECT_EQ(verify(), F::ChainBroken);
  // The intermediate signed by a key other than the root's.
  request.chain = pki->chain();
  request.chain[1] = derOf(test::makeCert(test::ProvisioningPki::caSpec(kNow, "mesim test intermediate CA", 2),
                                          pki->intermediateKey, pki->root, stranger));
  EXPECT_EQ(verify(), F::ChainBroken);
}

TEST_F(ProvisioningVerifierTest, ChainOutOfOrderOrWithAGap) {
  std::swap(request.chain[0], request.chain[1]);
  EXPECT_EQ(verify(), F::ChainBroken);
  request.chain = pki->chain();
  request.chain.erase(request.chain.begin() + 1);  // leaf issued by the intermediate, which is missing
  EXPECT_EQ(verify(), F::ChainBroken);
}

TEST_F(ProvisioningVerifierTest, IssuerThatIsNoCa) {
  // A leaf "issued" by another end-entity certificate: name and signature match, but it is no CA.
  auto middleKey = test::makeRsaKey();
  auto middleSpec = test::ProvisioningPki::leafSpec(kNow, "middle.example.com");
  auto middle = test::makeCert(middleSpec, middleKey, pki->root, pki->rootKey);
  auto leaf = test::makeCert(test::ProvisioningPki::leafSpec(kNow, "provision.example.com"), pki->leafKey, middle,
                             middleKey);
  request.chain = {derOf(leaf), derOf(middle), derOf(pki->root)};
  EXPECT_EQ(verify(), F::ChainBroken);
}

TEST_F(ProvisioningVerifierTest, UntrustedRoot) {
  trust.hashes.clear();
  EXPECT_EQ(verify(), F::UntrustedRoot);
  // The right hash, disabled.
  trust.hashes = {trustedEntry(HashAlgorithm::Sha256, EVP_sha256(), 7, false)};
  EXPECT_EQ(verify(), F::UntrustedRoot);
  // A trusted root that only the intermediate chains to is not enough: the last certificate is the root.
  trust.hashes = {trustedEntry(HashAlgorithm::Sha256, EVP_sha256(), 7)};
  request.chain.pop_back();
  EXPECT_EQ(verify(), F::UntrustedRoot);
}

TEST_F(ProvisioningVerifierTest, PurposeByEkuOrOu) {
  auto spec = test::ProvisioningPki::leafSpec(kNow, "provision.example.com");
  spec.extendedKeyUsage = {"1.3.6.1.5.5.7.3.1"};  // server authentication only
  useLeaf(spec);
  EXPECT_EQ(verify(), F::NoProvisioningPurpose);

  spec.extendedKeyUsage.clear();
  useLeaf(spec);
  EXPECT_EQ(verify(), F::NoProvisioningPurpose);

  spec.organizationalUnit = "Intel(R) Client Setup Certificate";
  useLeaf(spec);
  EXPECT_EQ(verify(), F::None);

  spec.organizationalUnit = "Intel Client Setup";
  useLeaf(spec);
  EXPECT_EQ(verify(), F::NoProvisioningPurpose);
}

TEST_F(ProvisioningVerifierTest, DomainAgainstThePkiDnsSuffix) {
  auto spec = test::ProvisioningPki::leafSpec(kNow, "provision.example.org");
  useLeaf(spec);
  EXPECT_EQ(verify(), F::DomainMismatch);

  // A name that merely ends in the suffix's letters is not under it.
  spec.commonName = "provision.badexample.com";
  useLeaf(spec);
  EXPECT_EQ(verify(), F::DomainMismatch);

  // The suffix itself, any case.
  spec.commonName = "EXAMPLE.com";
  useLeaf(spec);
  EXPECT_EQ(verify(), F::None);

  // A SAN DNS name under the suffix serves when the CN is not.
  spec.commonName = "Provisioning Server";
  spec.dnsNames = {"other.example.net", "rcs.example.com"};
  useLeaf(spec);
  EXPECT_EQ(verify(), F::None);

  trust.dnsSuffixes = {"corp.example"};
  EXPECT_EQ(verify(), F::DomainMismatch);
  trust.dnsSuffixes.clear();  // no suffix known: no domain matches
  EXPECT_EQ(verify(), F::DomainMismatch);
}

TEST_F(ProvisioningVerifierTest, DatesOnTheFirmwareClock) {
  auto spec = test::ProvisioningPki::leafSpec(kNow, "provision.example.com");
  spec.notAfter = kNow - 1;
  useLeaf(spec);
  EXPECT_EQ(verify(), F::Expired);

  spec = test::ProvisioningPki::leafSpec(kNow, "provision.example.com");
  spec.notBefore = kNow + 3600;
  useLeaf(spec);
  EXPECT_EQ(verify(), F::NotYetValid);

  // The clock, not the certificate, moves: the valid chain a year and a day later.
  request.chain = pki->chain();
  trust.now = kNow + 366 * 86400;
  EXPECT_EQ(verify(), F::Expired);
  trust.now = kNow - 2 * 86400;
  EXPECT_EQ(verify(), F::NotYetValid);
}

TEST_F(ProvisioningVerifierTest, ExpiredIntermediate) {
  auto spec = test::ProvisioningPki::caSpec(kNow, "mesim test intermediate CA", 2);
  spec.notAfter = kNow - 60;
  request.chain[1] = derOf(test::makeCert(spec, pki->intermediateKey, pki->root, pki->rootKey));
  EXPECT_EQ(verify(), F::Expired);
}

TEST_F(ProvisioningVerifierTest, WrongDigitalSignature) {
  auto stranger = test::makeRsaKey();
  request.signature = signMessage(stranger, concat(request.configurationNonce, request.mcNonce));
  EXPECT_EQ(verify(), F::SignatureMismatch);
  request.signature = std::vector<std::uint8_t>(256, 0x01);
  EXPECT_EQ(verify(), F::SignatureMismatch);
  request.signature = {0x00};
  EXPECT_EQ(verify(), F::SignatureMismatch);
}

TEST_F(ProvisioningVerifierTest, WrongNonce) {
  // Signed over an old ConfigurationNonce.
  std::vector<std::uint8_t> stale(20, 0x11);
  request.signature = signMessage(pki->leafKey, concat(stale, request.mcNonce));
  EXPECT_EQ(verify(), F::SignatureMismatch);
  // The nonces in the wrong order.
  request.signature = signMessage(pki->leafKey, concat(request.mcNonce, request.configurationNonce));
  EXPECT_EQ(verify(), F::SignatureMismatch);
  // A McNonce other than the one sent.
  request.signature = signMessage(pki->leafKey, concat(request.configurationNonce, stale));
  EXPECT_EQ(verify(), F::SignatureMismatch);
}

TEST_F(ProvisioningVerifierTest, EachSigningAlgorithm) {
  const auto message = concat(request.configurationNonce, request.mcNonce);
  // 2 RSA_SHA-2_256: SHA-256 only.
  request.signingAlgorithm = 2;
  request.signature = signMessage(pki->leafKey, message, EVP_sha256());
  EXPECT_EQ(verify(), F::None);
  request.signature = signMessage(pki->leafKey, message, EVP_sha1());
  EXPECT_EQ(verify(), F::SignatureMismatch);
  request.signature = signMessage(pki->leafKey, message, EVP_sha384());
  EXPECT_EQ(verify(), F::SignatureMismatch);
  // 1 Other: the older forms, the hash named by the signature's DigestInfo.
  request.signingAlgorithm = 1;
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256(), EVP_sha384()}) {
    request.signature = signMessage(pki->leafKey, message, md);
    EXPECT_EQ(verify(), F::None) << EVP_MD_get0_name(md);
  }
  request.signature = signMessage(pki->leafKey, message, EVP_sha512());
  EXPECT_EQ(verify(), F::SignatureMismatch);
  // 0 None and values the SDK does not list.
  request.signature = signMessage(pki->leafKey, message, EVP_sha256());
  for (std::uint16_t alg : {0, 3, 65535}) {
    request.signingAlgorithm = alg;
    EXPECT_EQ(verify(), F::UnsupportedAlgorithm) << alg;
  }
}

TEST_F(ProvisioningVerifierTest, LeafKeyMustBeRsa) {
  auto ecKey = test::makeEcKey();
  request.chain.front() = derOf(test::makeCert(test::ProvisioningPki::leafSpec(kNow, "provision.example.com"), ecKey,
                                               pki->intermediate, pki->intermediateKey));
  request.signature = signMessage(ecKey, concat(request.configurationNonce, request.mcNonce));
  EXPECT_EQ(verify(), F::LeafKeyNotRsa);
}

TEST_F(ProvisioningVerifierTest, MalformedChain) {
  request.chain.clear();
  EXPECT_EQ(verify(), F::ChainMalformed);
  request.chain = pki->chain();
  request.chain[1].push_back(0x00);  // trailing byte after the DER
  EXPECT_EQ(verify(), F::ChainMalformed);
  request.chain = pki->chain();
  request.chain[0].resize(request.chain[0].size() / 2);
  EXPECT_EQ(verify(), F::ChainMalformed);
  request.chain = std::vector<std::vector<std::uint8_t>>(kMaxProvisioningChain + 1, derOf(pki->root));
  EXPECT_EQ(verify(), F::ChainMalformed);
}

TEST_F(ProvisioningVerifierTest, EachCertificateAsItArrives) {
  const auto chain = pki->chain();
  EXPECT_TRUE(checkNextCertificate(nullptr, chain[0]).ok());  // a leaf: only its form
  EXPECT_TRUE(checkNextCertificate(&chain[0], chain[1]).ok());
  EXPECT_TRUE(checkNextCertificate(&chain[1], chain[2]).ok());
  EXPECT_EQ(checkNextCertificate(&chain[0], chain[2]).failure, F::ChainBroken);  // the root did not sign the leaf
  EXPECT_EQ(checkNextCertificate(&chain[1], chain[0]).failure, F::ChainBroken);  // backwards
  auto truncated = chain[1];
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(checkNextCertificate(&chain[0], truncated).failure, F::ChainMalformed);
  EXPECT_EQ(checkNextCertificate(nullptr, {}).failure, F::ChainMalformed);
}

TEST(ProvisioningDnsSuffixes, PkiSuffixFirstThenTheNetworks) {
  PlatformState s;
  s.dnsSuffixList = {"example.com", "lab.example"};
  EXPECT_EQ(provisioningDnsSuffixes(s), (std::vector<std::string>{"example.com", "lab.example"}));
  s.pkiDnsSuffix = "corp.example";
  EXPECT_EQ(provisioningDnsSuffixes(s), (std::vector<std::string>{"corp.example"}));
}

// --trusted-root-hash: the model makes each hash an enabled user entry on every open, once.
TEST(TrustedRootHashOption, AddedOnOpenEnabledAndNeverTwice) {
  test::TempDir dir{"trusted-root"};
  PlatformDefaults defaults;
  const std::vector<std::uint8_t> sha256(32, 0x5A), sha1(20, 0x1F);
  defaults.trustedRootHashes = {sha256, sha1};
  std::size_t factory = 0;
  {
    auto model = PlatformModel::open(dir.path(), defaults);
    ASSERT_TRUE(model) << model.error().message;
    const auto& hashes = (*model)->certHashes();
    factory = hashes.size() - 2;
    ASSERT_GE(hashes.size(), 2u);
    const auto& added = hashes[hashes.size() - 2];
    EXPECT_EQ(added.hash, sha256);
    EXPECT_EQ(added.algorithm, HashAlgorithm::Sha256);
    EXPECT_TRUE(added.isDefault);  // the firmware's list: it survives unprovision and factory reset
    EXPECT_TRUE(added.isActive);
    EXPECT_EQ(hashes.back().algorithm, HashAlgorithm::Sha1);
    // Disabled over WS-Man meanwhile ...
    ASSERT_EQ((*model)->update([](PlatformState& s) { s.certHashes[s.certHashes.size() - 2].isActive = false; }),
              ChangeResult::Ok);
  }
  {
    // ... and enabled again by the next start, not added a second time.
    auto model = PlatformModel::open(dir.path(), defaults);
    ASSERT_TRUE(model) << model.error().message;
    const auto& hashes = (*model)->certHashes();
    ASSERT_EQ(hashes.size(), factory + 2);
    EXPECT_TRUE(hashes[hashes.size() - 2].isActive);
    EXPECT_NE(hashes[hashes.size() - 2].handle, hashes.back().handle);
  }
  {
    // Without the option the entries stay (they are the platform's now), as a hash added over WS-Man would.
    auto model = PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(model) << model.error().message;
    EXPECT_EQ((*model)->certHashes().size(), factory + 2);
    // A factory reset keeps them, enabled, as it keeps a vendor's roots: QA can reset and activate again.
    ASSERT_EQ((*model)->update([](PlatformState& s) { s.certHashes.back().isActive = false; }), ChangeResult::Ok);
    ASSERT_EQ((*model)->factoryReset(), ChangeResult::Ok);
    const auto& hashes = (*model)->certHashes();
    ASSERT_EQ(hashes.size(), factory + 2);
    EXPECT_EQ(hashes[hashes.size() - 2].hash, sha256);
    EXPECT_TRUE(hashes[hashes.size() - 2].isActive);
    EXPECT_TRUE(hashes.back().isActive);
  }
}

}  // namespace
}  // namespace mesim::platform
