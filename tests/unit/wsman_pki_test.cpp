// AMT's key and certificate store over WsmanService: GenerateKeyPair (a real RSA key, made off the loop when the
// service has an off-loop runner), DERKey, GeneratePKCS10RequestEx (a CSR OpenSSL verifies with that key), AddKey,
// AddCertificate, the TLS credential binding and CommitChanges, persistence, and what the TLS listener makes of
// the committed state (console_tls.h).
#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <pugixml.hpp>

#include "firmware/platform/host_power.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/cim_util.h"
#include "wsman/http/console_tls.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman {
namespace {

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kPki = kAmt + "AMT_PublicKeyManagementService";
const std::string kGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
const std::string kCreate = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create";
const std::string kDelete = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete";
constexpr std::int64_t kNow = 1900000000;

std::string textOf(const std::string& xml, std::string_view local) {
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str())) return "<unparsed>";
  std::string found = "<none>";
  struct Walker : pugi::xml_tree_walker {
    std::string_view local;
    std::string* found;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() != pugi::node_element || soap::localName(n) != local) return true;
      *found = n.text().get();
      return false;
    }
  } w;
  w.local = local;
  w.found = &found;
  doc.traverse(w);
  return found;
}

std::vector<std::uint8_t> unb64(const std::string& text) {
  std::vector<std::uint8_t> out;
  EXPECT_TRUE(cim::base64Decode(text, out)) << text;
  return out;
}

// A CertSpec without designated initializers (they leave fields out, which -Wextra reports).
test::CertSpec certSpec(const std::string& cn, std::int64_t notBefore, std::int64_t notAfter, bool isCa = false, long serial = 1) {
  test::CertSpec spec;
  spec.commonName = cn;
  spec.isCa = isCa;
  spec.notBefore = notBefore;
  spec.notAfter = notAfter;
  spec.serial = serial;
  return spec;
}

std::string b64(const std::vector<std::uint8_t>& bytes) { return cim::base64Encode(bytes); }

std::string selector(const std::string& name, const std::string& value) {
  return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
}

std::string instanceRef(const std::string& cls, const std::string& id) {
  return "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + kAmt + cls +
         "</w:ResourceURI><w:SelectorSet>" + selector("InstanceID", id) + "</w:SelectorSet></a:ReferenceParameters>";
}

// The public key DERKey stands for (PKCS#1 RSAPublicKey).
test::Pkey publicKeyOf(const std::string& derKey) {
  const auto der = unb64(derKey);
  const unsigned char* p = der.data();
  EVP_PKEY* key = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size()));
  return test::Pkey(key, test::PkeyFree{});
}

std::vector<std::uint8_t> pkcs1PrivateDer(const test::Pkey& key) {
  unsigned char* der = nullptr;
  const int n = i2d_PrivateKey(key.get(), &der);
  std::vector<std::uint8_t> out(der, der + n);
  OPENSSL_free(der);
  return out;
}

// A CSR for `subjectKey`'s public key, signed by some other key: AMT signs it again with the key pair.
std::vector<std::uint8_t> unsignedRequest(const test::Pkey& subjectKey, const std::string& cn) {
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_version(req, 0);
  X509_NAME* name = X509_REQ_get_subject_name(req);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req, subjectKey.get());
  auto other = test::makeRsaKey(1024);
  X509_REQ_sign(req, other.get(), EVP_sha256());
  unsigned char* der = nullptr;
  const int n = i2d_X509_REQ(req, &der);
  std::vector<std::uint8_t> out(der, der + n);
  OPENSSL_free(der);
  X509_REQ_free(req);
  return out;
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    service.reset();
    power.reset();
    model.reset();
    auto opened = platform::PlatformModel::open(dir.path(), platform::PlatformDefaults{});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }

  ops::WsmanResult send(const std::string& body) { return service->handle(body, {"admin", false}); }

  std::string invoke(const std::string& method, const std::string& params, const std::string& uri = kPki) {
    auto r = send(test::wsmanEnvelope(uri + "/" + method, uri,
                                      "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + params + "</h:" + method +
                                          "_INPUT>"));
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return r.body;
  }

  // The InstanceID of the reference an _OUTPUT names.
  static std::string createdId(const std::string& body) {
    const auto pos = body.find("Name=\"InstanceID\">");
    if (pos == std::string::npos) return "<none>";
    const auto start = pos + 18;
    return body.substr(start, body.find('<', start) - start);
  }

  std::string generateKeyPair() {
    const auto out = invoke("GenerateKeyPair", "<h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>");
    EXPECT_EQ(textOf(out, "ReturnValue"), "0") << out;
    return createdId(out);
  }

  std::string get(const std::string& cls, const std::string& id) {
    auto r = send(test::wsmanEnvelope(kGet, kAmt + cls, "", "1", selector("InstanceID", id)));
    return r.httpStatus == 200 ? r.body : "HTTP " + std::to_string(r.httpStatus) + " " + r.body;
  }

  std::string addCertificate(const test::Cert& cert, bool root) {
    const auto out = invoke(root ? "AddTrustedRootCertificate" : "AddCertificate",
                            "<h:CertificateBlob>" + b64(test::derOf(cert)) + "</h:CertificateBlob>");
    EXPECT_EQ(textOf(out, "ReturnValue"), "0") << out;
    return createdId(out);
  }

  ops::WsmanResult bindTls(const std::string& certId) {
    const std::string uri = kAmt + "AMT_TLSCredentialContext";
    return send(test::wsmanEnvelope(
        kCreate, uri,
        "<h:AMT_TLSCredentialContext xmlns:h=\"" + uri + "\"><h:ElementInContext>" +
            instanceRef("AMT_PublicKeyCertificate", certId) +
            "</h:ElementInContext><h:ElementProvidingContext><a:Address>/wsman</a:Address><a:ReferenceParameters>"
            "<w:ResourceURI>" + kAmt + "AMT_TLSProtocolEndpointCollection</w:ResourceURI><w:SelectorSet>" +
            selector("ElementName", "TLSProtocolEndpointInstances Collection") +
            "</w:SelectorSet></a:ReferenceParameters></h:ElementProvidingContext></h:AMT_TLSCredentialContext>"));
  }

  test::Cert issue(const test::Pkey& key, const std::string& cn) {
    return test::makeCert(certSpec(cn, kNow - 86400, kNow + 365 * 86400, false, 7),
                          key, rootCert, rootKey);
  }

  test::TempDir dir{"pki"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(kNow)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
  test::Pkey rootKey = test::makeRsaKey(2048);
  test::Cert rootCert = test::makeCert(
      certSpec("mesim test root", kNow - 86400, kNow + 3650 * 86400, true),
      rootKey, nullptr, rootKey);
};

TEST_F(PkiTest, GenerateKeyPairMakesAnRsa2048KeyWhosePublicHalfIsTheDerKey) {
  const std::string id = generateKeyPair();
  EXPECT_EQ(id, "Intel(r) AMT Key: Handle: 0");
  const std::string pair = get("AMT_PublicPrivateKeyPair", id);
  const auto key = publicKeyOf(textOf(pair, "DERKey"));
  ASSERT_TRUE(key) << pair;
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 2048);
  EXPECT_EQ(pair.find("PRIVATE"), std::string::npos) << "the private key is never shown";
  EXPECT_NE(textOf(get("AMT_PublicPrivateKeyPair", generateKeyPair()), "DERKey"), textOf(pair, "DERKey"))
      << "each call makes a new key";
}

TEST_F(PkiTest, GenerateKeyPairRefusesWhatAmtDoesNotMake) {
  EXPECT_EQ(textOf(invoke("GenerateKeyPair", "<h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>1024</h:KeyLength>"),
                   "ReturnValue"), "36");
  EXPECT_EQ(textOf(invoke("GenerateKeyPair", "<h:KeyAlgorithm>1</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>"),
                   "ReturnValue"), "36");
  EXPECT_TRUE(model->state().keyStore.keyPairs.empty());
}

TEST_F(PkiTest, GenerateKeyPairRunsItsKeyOffTheLoopWhenTheServiceHasARunner) {
  std::vector<std::pair<std::function<void()>, std::function<void()>>> jobs;
  service->setOffLoop([&](std::function<void()> work, std::function<void()> back) {
    jobs.emplace_back(std::move(work), std::move(back));
  });
  std::optional<ops::WsmanResult> answer;
  service->handle(test::wsmanEnvelope(kPki + "/GenerateKeyPair", kPki,
                                      "<h:GenerateKeyPair_INPUT xmlns:h=\"" + kPki +
                                          "\"><h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>"
                                          "</h:GenerateKeyPair_INPUT>"),
                  {"admin", false}, [&](ops::WsmanResult r) { answer = std::move(r); });
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_FALSE(answer) << "answered before the key was made";
  EXPECT_TRUE(model->state().keyStore.keyPairs.empty());
  // Meanwhile the loop serves other calls.
  EXPECT_EQ(send(test::wsmanEnvelope(kGet, kPki)).httpStatus, 200u);
  jobs[0].first();  // the worker thread's part
  EXPECT_FALSE(answer);
  jobs[0].second();  // back on the loop
  ASSERT_TRUE(answer);
  EXPECT_EQ(textOf(answer->body, "ReturnValue"), "0") << answer->body;
  EXPECT_EQ(createdId(answer->body), "Intel(r) AMT Key: Handle: 0");
  EXPECT_EQ(model->state().keyStore.keyPairs.size(), 1u);

  // A plain call needs no runner round trip.
  answer.reset();
  service->handle(test::wsmanEnvelope(kGet, kPki), {"admin", false}, [&](ops::WsmanResult r) { answer = std::move(r); });
  EXPECT_TRUE(answer);
  EXPECT_EQ(jobs.size(), 1u);
}

TEST_F(PkiTest, Pkcs10RequestIsSignedByTheKeyPair) {
  const std::string id = generateKeyPair();
  const auto key = publicKeyOf(textOf(get("AMT_PublicPrivateKeyPair", id), "DERKey"));
  ASSERT_TRUE(key);
  for (const char* algorithm : {"0", "1"}) {
    const auto out = invoke("GeneratePKCS10RequestEx",
                            "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", id) + "</h:KeyPair><h:SigningAlgorithm>" +
                                algorithm + "</h:SigningAlgorithm><h:NullSignedCertificateRequest>" +
                                b64(unsignedRequest(key, "amt.example.com")) + "</h:NullSignedCertificateRequest>");
    ASSERT_EQ(textOf(out, "ReturnValue"), "0") << out;
    const auto der = unb64(textOf(out, "SignedCertificateRequest"));
    const unsigned char* p = der.data();
    X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
    ASSERT_NE(req, nullptr);
    EXPECT_EQ(X509_REQ_verify(req, key.get()), 1) << "signed by the key pair";
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "amt.example.com");
    EXPECT_EQ(X509_REQ_get_signature_nid(req), std::string(algorithm) == "0" ? NID_sha1WithRSAEncryption
                                                                              : NID_sha256WithRSAEncryption);
    X509_REQ_free(req);
  }
  // Not a key pair of the store; not a request.
  EXPECT_EQ(textOf(invoke("GeneratePKCS10RequestEx",
                          "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", "Intel(r) AMT Key: Handle: 9") +
                              "</h:KeyPair><h:SigningAlgorithm>1</h:SigningAlgorithm><h:NullSignedCertificateRequest>" +
                              b64(unsignedRequest(key, "x")) + "</h:NullSignedCertificateRequest>"),
                   "ReturnValue"), std::to_string(cim::status::kNotFound));
  EXPECT_EQ(textOf(invoke("GeneratePKCS10RequestEx",
                          "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", id) +
                              "</h:KeyPair><h:SigningAlgorithm>1</h:SigningAlgorithm><h:NullSignedCertificateRequest>"
                              "AAECAw==</h:NullSignedCertificateRequest>"),
                   "ReturnValue"), "36");
}

TEST_F(PkiTest, AddKeyValidatesAndStoresAPrivateKey) {
  auto key = test::makeRsaKey(2048);
  const auto out = invoke("AddKey", "<h:KeyBlob>" + b64(pkcs1PrivateDer(key)) + "</h:KeyBlob>");
  ASSERT_EQ(textOf(out, "ReturnValue"), "0") << out;
  const std::string id = createdId(out);
  const auto shown = publicKeyOf(textOf(get("AMT_PublicPrivateKeyPair", id), "DERKey"));
  ASSERT_TRUE(shown);
  EXPECT_EQ(EVP_PKEY_eq(shown.get(), key.get()), 1);
  EXPECT_EQ(textOf(invoke("AddKey", "<h:KeyBlob>" + b64(pkcs1PrivateDer(key)) + "</h:KeyBlob>"), "ReturnValue"),
            std::to_string(cim::status::kDuplicate));
  EXPECT_EQ(textOf(invoke("AddKey", "<h:KeyBlob>" + b64(test::derOf(rootCert)) + "</h:KeyBlob>"), "ReturnValue"), "36")
      << "a certificate is not a key";
  EXPECT_EQ(textOf(invoke("AddKey", "<h:KeyBlob>" + b64(pkcs1PrivateDer(test::makeEcKey())) + "</h:KeyBlob>"),
                   "ReturnValue"), "36") << "AMT keeps RSA keys";
  EXPECT_EQ(model->state().keyStore.keyPairs.size(), 1u);
}

TEST_F(PkiTest, TlsBindingNeedsACertificateWithItsKeyAndProtectsBoth) {
  auto key = test::makeRsaKey(2048);
  const std::string keyId = createdId(invoke("AddKey", "<h:KeyBlob>" + b64(pkcs1PrivateDer(key)) + "</h:KeyBlob>"));
  const std::string rootId = addCertificate(rootCert, true);
  const std::string strayId = addCertificate(issue(test::makeRsaKey(2048), "stray"), false);
  const std::string certId = addCertificate(issue(key, "amt.example.com"), false);

  EXPECT_EQ(bindTls(strayId).httpStatus, 400u) << "no key pair for it";
  EXPECT_EQ(bindTls(rootId).httpStatus, 400u);
  auto bound = bindTls(certId);
  ASSERT_EQ(bound.httpStatus, 200u) << bound.body;
  EXPECT_EQ(model->state().keyStore.tlsCertificateId, certId);
  EXPECT_EQ(bindTls(certId).httpStatus, 400u) << "one certificate per endpoint";

  // In use: neither the certificate nor its key can go.
  EXPECT_NE(send(test::wsmanEnvelope(kDelete, kAmt + "AMT_PublicKeyCertificate", "", "1", selector("InstanceID", certId)))
                .httpStatus, 200u);
  EXPECT_NE(send(test::wsmanEnvelope(kDelete, kAmt + "AMT_PublicPrivateKeyPair", "", "1", selector("InstanceID", keyId)))
                .httpStatus, 200u);
  EXPECT_EQ(send(test::wsmanEnvelope(kDelete, kAmt + "AMT_PublicKeyCertificate", "", "1", selector("InstanceID", strayId)))
                .httpStatus, 200u);

  // The listener takes it up only at CommitChanges.
  EXPECT_FALSE(http::consoleTlsPolicy(model->state()).value());
  const std::string setup = kAmt + "AMT_SetupAndConfigurationService";
  EXPECT_EQ(textOf(invoke("CommitChanges", "", setup), "ReturnValue"), "0");
  auto policy = http::consoleTlsPolicy(model->state());
  ASSERT_TRUE(policy) << policy.error().message;
  ASSERT_TRUE(*policy && (*policy)->identity);
  EXPECT_FALSE((*policy)->mutualAuthentication);

  // Kept across a restart.
  open();
  EXPECT_EQ(model->state().keyStore.committedTlsCertificateId, certId);
  EXPECT_TRUE(publicKeyOf(textOf(get("AMT_PublicPrivateKeyPair", keyId), "DERKey")));
  policy = http::consoleTlsPolicy(model->state());
  ASSERT_TRUE(policy && *policy && (*policy)->identity);
  EXPECT_TRUE(http::makeConsoleTlsContext(**policy, *(*policy)->identity, true));

  // Unbinding and committing gives the listener its own certificate back; then the certificate may go.
  const std::string uri = kAmt + "AMT_TLSCredentialContext";
  const std::string sel = "<w:Selector Name=\"ElementInContext\"><a:EndpointReference>" +
                          instanceRef("AMT_PublicKeyCertificate", certId) + "</a:EndpointReference></w:Selector>";
  EXPECT_EQ(send(test::wsmanEnvelope(kDelete, uri, "", "1", sel)).httpStatus, 200u);
  EXPECT_EQ(textOf(invoke("CommitChanges", "", setup), "ReturnValue"), "0");
  EXPECT_FALSE(http::consoleTlsPolicy(model->state()).value());
  EXPECT_EQ(send(test::wsmanEnvelope(kDelete, kAmt + "AMT_PublicKeyCertificate", "", "1", selector("InstanceID", certId)))
                .httpStatus, 200u);
}

TEST_F(PkiTest, MutualAuthenticationNeedsATrustedRoot) {
  const std::string tls = kAmt + "AMT_TLSSettingData";
  auto r = send(test::wsmanEnvelope(
      "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", tls,
      "<h:AMT_TLSSettingData xmlns:h=\"" + tls + "\"><h:ElementName>Intel(r) AMT 802.3 TLS Settings</h:ElementName>"
      "<h:InstanceID>Intel(r) AMT 802.3 TLS Settings</h:InstanceID><h:MutualAuthentication>true</h:MutualAuthentication>"
      "<h:Enabled>true</h:Enabled><h:TrustedCN>console.example.com</h:TrustedCN></h:AMT_TLSSettingData>",
      "1", selector("InstanceID", "Intel(r) AMT 802.3 TLS Settings")));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  EXPECT_EQ(textOf(invoke("CommitChanges", "", kAmt + "AMT_SetupAndConfigurationService"), "ReturnValue"), "0");
  EXPECT_FALSE(http::consoleTlsPolicy(model->state())) << "no root to check clients against: the listener keeps its own";
  addCertificate(rootCert, true);
  auto policy = http::consoleTlsPolicy(model->state());
  ASSERT_TRUE(policy && *policy) << (policy ? "" : policy.error().message);
  EXPECT_TRUE((*policy)->mutualAuthentication);
  EXPECT_EQ((*policy)->trustedRootsPem.size(), 1u);
  EXPECT_EQ((*policy)->trustedCn, std::vector<std::string>{"console.example.com"});
}

TEST_F(PkiTest, TrustedCnIsBoundedAsTheCapabilitiesSay) {
  const std::string tls = kAmt + "AMT_TLSSettingData";
  auto put = [&](const std::string& names) {
    return send(test::wsmanEnvelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", tls,
        "<h:AMT_TLSSettingData xmlns:h=\"" + tls + "\"><h:InstanceID>Intel(r) AMT 802.3 TLS Settings</h:InstanceID>" +
            names + "</h:AMT_TLSSettingData>",
        "1", selector("InstanceID", "Intel(r) AMT 802.3 TLS Settings")));
  };
  const std::string capabilities = get("AMT_PublicKeyManagementCapabilities", "Intel(r) AMT Public Key Management Capabilities");
  ASSERT_EQ(textOf(capabilities, "CommonNameMaxCount"), "4") << capabilities;
  ASSERT_EQ(textOf(capabilities, "CommonNameMaxSize"), "64");
  EXPECT_EQ(textOf(capabilities, "SupportedKeyLengths"), "2048");
  std::string four, five;
  for (int i = 0; i < 5; ++i) (i < 4 ? four : five) += "<h:TrustedCN>c" + std::to_string(i) + ".example.com</h:TrustedCN>";
  EXPECT_EQ(put(four).httpStatus, 200u);
  EXPECT_NE(put(four + five).httpStatus, 200u) << "five names";
  EXPECT_NE(put("<h:TrustedCN>" + std::string(65, 'x') + "</h:TrustedCN>").httpStatus, 200u) << "a 65-character name";
}

TEST_F(PkiTest, AddCrlStoresRevokedSerialsThatMutualTlsRefusesUntilResetCrlList) {
  // Serial 7 as the console sends it: base64 of its big-endian bytes, here with a leading zero AMT drops.
  const std::string added = invoke("AddCRL", "<h:Url>http://ca.example.com/crl</h:Url>"
                                             "<h:SerialNumbers>AAc=</h:SerialNumbers><h:SerialNumbers>AQI=</h:SerialNumbers>");
  ASSERT_EQ(textOf(added, "ReturnValue"), "0") << added;
  const std::string id = createdId(added);
  EXPECT_EQ(id, "Intel(r) AMT CRL: Handle: 0");
  const std::string crl = get("AMT_CRL", id);
  EXPECT_EQ(textOf(crl, "Url"), "http://ca.example.com/crl") << crl;
  EXPECT_NE(crl.find(">Bw==<"), std::string::npos) << crl;
  EXPECT_NE(crl.find(">AQI=<"), std::string::npos) << crl;

  EXPECT_EQ(textOf(invoke("AddCRL", "<h:Url>x</h:Url>"), "ReturnValue"), "36") << "no serial numbers";
  EXPECT_EQ(textOf(invoke("AddCRL", "<h:SerialNumbers>not base64!</h:SerialNumbers>"), "ReturnValue"), "36");
  EXPECT_EQ(textOf(invoke("AddCRL", "<h:SerialNumbers>" + b64(std::vector<std::uint8_t>(21, 1)) + "</h:SerialNumbers>"),
                   "ReturnValue"), "36") << "longer than a serial can be";

  // With mutual authentication committed, the policy carries the revoked serials (minimal bytes).
  addCertificate(rootCert, true);
  const std::string tls = kAmt + "AMT_TLSSettingData";
  ASSERT_EQ(send(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", tls,
                                     "<h:AMT_TLSSettingData xmlns:h=\"" + tls + "\"><h:InstanceID>Intel(r) AMT 802.3 TLS "
                                     "Settings</h:InstanceID><h:MutualAuthentication>true</h:MutualAuthentication>"
                                     "<h:Enabled>true</h:Enabled></h:AMT_TLSSettingData>",
                                     "1", selector("InstanceID", "Intel(r) AMT 802.3 TLS Settings")))
                .httpStatus, 200u);
  ASSERT_EQ(textOf(invoke("CommitChanges", "", kAmt + "AMT_SetupAndConfigurationService"), "ReturnValue"), "0");
  const std::string before = http::consoleTlsFingerprint(model->state());
  auto policy = http::consoleTlsPolicy(model->state());
  ASSERT_TRUE(policy && *policy);
  EXPECT_EQ((*policy)->revokedSerials,
            (std::vector<std::vector<std::uint8_t>>{{0x07}, {0x01, 0x02}}));

  // Persisted; ResetCRLList empties the list and the listener's fingerprint changes with it.
  open();
  EXPECT_EQ(textOf(get("AMT_CRL", id), "InstanceID"), id);
  EXPECT_EQ(textOf(invoke("ResetCRLList", ""), "ReturnValue"), "0");
  EXPECT_EQ(get("AMT_CRL", id).rfind("HTTP ", 0), 0u) << "gone";
  EXPECT_NE(http::consoleTlsFingerprint(model->state()), before);
  policy = http::consoleTlsPolicy(model->state());
  ASSERT_TRUE(policy && *policy);
  EXPECT_TRUE((*policy)->revokedSerials.empty());
}

TEST_F(PkiTest, ManagedCredentialListsWhatTheKeyStoreHolds) {
  auto enumerate = [&] {
    auto r = send(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                                      "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ManagedCredential",
                                      "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                      "<OptimizeEnumeration xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/>"
                                      "<MaxElements xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">50</MaxElements>"
                                      "</Enumerate>"));
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return r.body;
  };
  EXPECT_EQ(enumerate().find("AMT_PublicKeyCertificate"), std::string::npos);
  const std::string certId = addCertificate(rootCert, true);
  const std::string keyId = generateKeyPair();
  const std::string all = enumerate();
  EXPECT_NE(all.find(certId), std::string::npos) << all;
  EXPECT_NE(all.find(keyId), std::string::npos) << all;
  EXPECT_NE(all.find("Intel(r) AMT Public Key Management Service"), std::string::npos) << all;
}

TEST_F(PkiTest, GeneratePkcs10RequestBuildsTheRequestFromADistinguishedName) {
  const std::string keyId = generateKeyPair();
  const std::string derKey = textOf(get("AMT_PublicPrivateKeyPair", keyId), "DERKey");
  const std::string out = invoke("GeneratePKCS10Request",
                                 "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", keyId) +
                                     "</h:KeyPair><h:DNName>CN=amt.example.com, O=Example</h:DNName>"
                                     "<h:Usage>1.3.6.1.5.5.7.3.1</h:Usage>");
  ASSERT_EQ(textOf(out, "ReturnValue"), "0") << out;
  const auto der = unb64(textOf(out, "SignedCertificateRequest"));
  const unsigned char* p = der.data();
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())),
                                                               &X509_REQ_free);
  ASSERT_TRUE(request);
  auto key = publicKeyOf(derKey);
  EXPECT_EQ(X509_REQ_verify(request.get(), key.get()), 1) << "signed by the key pair";
  char subject[256] = {};
  X509_NAME_oneline(X509_REQ_get_subject_name(request.get()), subject, sizeof subject);
  EXPECT_STREQ(subject, "/CN=amt.example.com/O=Example");
  std::unique_ptr<STACK_OF(X509_EXTENSION), void (*)(STACK_OF(X509_EXTENSION)*)> extensions(
      X509_REQ_get_extensions(request.get()),
      [](STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); });
  ASSERT_TRUE(extensions);
  EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(extensions.get(), 0))), NID_ext_key_usage);

  EXPECT_EQ(textOf(invoke("GeneratePKCS10Request", "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", keyId) +
                                                       "</h:KeyPair><h:DNName>no equals sign</h:DNName>"),
                   "ReturnValue"), "36");
  EXPECT_EQ(textOf(invoke("GeneratePKCS10Request", "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", "nope") +
                                                       "</h:KeyPair><h:DNName>CN=x</h:DNName>"),
                   "ReturnValue"), "2068");
}

}  // namespace
}  // namespace mesim::wsman
