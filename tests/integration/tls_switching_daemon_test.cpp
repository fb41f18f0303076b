// TLS switching as DMT's console / rpc-go configure does it, against the real daemon (docs/certificates-and-tls.md):
// GenerateKeyPair, GeneratePKCS10RequestEx, the console's CA issues the certificate, AddTrustedRootCertificate,
// AddCertificate, Create AMT_TLSCredentialContext, Put AMT_TLSSettingData (mutual authentication, TrustedCN),
// CommitChanges; then a real TLS client on 16993 and 16995 sees the new certificate, mutual authentication refuses
// a client without a certificate or with an untrusted one and lets one signed by the trusted root in, and a restart
// serves the same; an AMT_CRL with the client's serial shuts it out until ResetCRLList.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/text_codecs.h"
#include "tests/support/daemon_process.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using Bytes = std::vector<std::uint8_t>;
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kPki = kAmt + "AMT_PublicKeyManagementService";
const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));  // the certificates the client checks

std::string tagText(const std::string& xml, const std::string& local) {
  const auto open = xml.find(":" + local + ">");
  if (open == std::string::npos) return "<none>";
  const auto start = open + local.size() + 2;
  return xml.substr(start, xml.find('<', start) - start);
}

// A CertSpec without designated initializers (they leave fields out, which -Wextra reports).
CertSpec certSpec(const std::string& cn, std::int64_t notBefore, std::int64_t notAfter, bool isCa = false, long serial = 1) {
  CertSpec spec;
  spec.commonName = cn;
  spec.isCa = isCa;
  spec.notBefore = notBefore;
  spec.notAfter = notAfter;
  spec.serial = serial;
  return spec;
}

std::string b64(const Bytes& bytes) { return text::base64Encode(bytes); }
Bytes unb64(const std::string& encoded) { return text::base64Decode(encoded).value_or(Bytes{}); }

std::string selector(const std::string& name, const std::string& value) {
  return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
}

std::string instanceRef(const std::string& cls, const std::string& id) {
  return "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + kAmt + cls +
         "</w:ResourceURI><w:SelectorSet>" + selector("InstanceID", id) + "</w:SelectorSet></a:ReferenceParameters>";
}

std::string createdId(const std::string& body) {
  const auto pos = body.find("Name=\"InstanceID\">");
  if (pos == std::string::npos) return "<none>";
  return body.substr(pos + 18, body.find('<', pos + 18) - pos - 18);
}

// What a TLS client saw: whether an HTTP answer came back over the connection, and the server's certificate.
struct TlsProbe {
  bool answered = false;
  Bytes serverCertificate;
};

TlsProbe probe(std::uint16_t port, const Cert& clientCert = nullptr, const Pkey& clientKey = nullptr) {
  TlsProbe seen;
  const int fd = connectLoopback(port);
  if (fd < 0) return seen;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (clientCert) {
    SSL_CTX_use_certificate(ctx, clientCert.get());
    SSL_CTX_use_PrivateKey(ctx, clientKey.get());
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (SSL_connect(ssl) == 1) {
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      unsigned char* der = nullptr;
      const int n = i2d_X509(cert, &der);
      if (n > 0) seen.serverCertificate.assign(der, der + n);
      OPENSSL_free(der);
      X509_free(cert);
    }
    // With TLS 1.3 the server judges the client's certificate after the client finished: only an answer tells.
    const std::string request = "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
    char buf[64];
    seen.answered = SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0 &&
                    SSL_read(ssl, buf, sizeof buf) > 0 && std::string(buf, 8) == "HTTP/1.1";
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return seen;
}

class TlsSwitchingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon.start()) << daemon.log();
    ASSERT_NE(daemon.httpsPort(), 0);
  }

  std::string call(const std::string& body) {
    WsmanDigestClient client(daemon.httpPort());
    auto answer = client.post(body);
    EXPECT_EQ(answer.status, 200u) << answer.body << answer.error;
    return answer.body;
  }

  std::string invoke(const std::string& uri, const std::string& method, const std::string& params) {
    return call(wsmanEnvelope(uri + "/" + method, uri,
                              "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + params + "</h:" + method + "_INPUT>"));
  }

  Cert issue(const Pkey& key, const std::string& cn, const Cert& issuer, const Pkey& issuerKey, long serial) {
    return makeCert(certSpec(cn, kNow - 86400, kNow + 30 * 86400, false, serial), key, issuer, issuerKey);
  }

  DaemonProcess daemon;
  Pkey rootKey = makeRsaKey(2048);
  Cert root = makeCert(certSpec("console CA", kNow - 86400, kNow + 3650 * 86400, true), rootKey, nullptr, rootKey);
};

TEST_F(TlsSwitchingTest, CommitChangesServesTheConsoleCertificateWithMutualAuthentication) {
  const TlsProbe before = probe(daemon.httpsPort());
  ASSERT_TRUE(before.answered);

  // The key, made in AMT; its CSR, signed there; the certificate the console's CA issues for it.
  const std::string generated =
      invoke(kPki, "GenerateKeyPair", "<h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>");
  ASSERT_EQ(tagText(generated, "ReturnValue"), "0") << generated;
  const std::string keyId = createdId(generated);
  Pkey throwaway = makeRsaKey(1024);
  X509_REQ* request = X509_REQ_new();
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(request), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("amt.example.com"), -1, -1, 0);
  X509_REQ_set_pubkey(request, throwaway.get());
  X509_REQ_sign(request, throwaway.get(), EVP_sha256());
  unsigned char* requestDer = nullptr;
  const int requestLength = i2d_X509_REQ(request, &requestDer);
  X509_REQ_free(request);
  const std::string csr = invoke(kPki, "GeneratePKCS10RequestEx",
                                 "<h:KeyPair>" + instanceRef("AMT_PublicPrivateKeyPair", keyId) +
                                     "</h:KeyPair><h:SigningAlgorithm>1</h:SigningAlgorithm>"
                                     "<h:NullSignedCertificateRequest>" +
                                     b64(Bytes(requestDer, requestDer + requestLength)) +
                                     "</h:NullSignedCertificateRequest>");
  OPENSSL_free(requestDer);
  ASSERT_EQ(tagText(csr, "ReturnValue"), "0") << csr;
  const Bytes signedDer = unb64(tagText(csr, "SignedCertificateRequest"));
  const unsigned char* p = signedDer.data();
  X509_REQ* signedRequest = d2i_X509_REQ(nullptr, &p, static_cast<long>(signedDer.size()));
  ASSERT_NE(signedRequest, nullptr);
  Pkey amtPublicKey(X509_REQ_get_pubkey(signedRequest), PkeyFree{});
  ASSERT_EQ(X509_REQ_verify(signedRequest, amtPublicKey.get()), 1);
  X509_REQ_free(signedRequest);
  const Cert serverCert = issue(amtPublicKey, "amt.example.com", root, rootKey, 2);

  ASSERT_EQ(tagText(invoke(kPki, "AddTrustedRootCertificate", "<h:CertificateBlob>" + b64(derOf(root)) + "</h:CertificateBlob>"),
                    "ReturnValue"), "0");
  const std::string added = invoke(kPki, "AddCertificate", "<h:CertificateBlob>" + b64(derOf(serverCert)) + "</h:CertificateBlob>");
  ASSERT_EQ(tagText(added, "ReturnValue"), "0") << added;
  const std::string certId = createdId(added);

  const std::string contextUri = kAmt + "AMT_TLSCredentialContext";
  call(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", contextUri,
                     "<h:AMT_TLSCredentialContext xmlns:h=\"" + contextUri + "\"><h:ElementInContext>" +
                         instanceRef("AMT_PublicKeyCertificate", certId) +
                         "</h:ElementInContext><h:ElementProvidingContext><a:Address>/wsman</a:Address>"
                         "<a:ReferenceParameters><w:ResourceURI>" + kAmt +
                         "AMT_TLSProtocolEndpointCollection</w:ResourceURI><w:SelectorSet>" +
                         selector("ElementName", "TLSProtocolEndpointInstances Collection") +
                         "</w:SelectorSet></a:ReferenceParameters></h:ElementProvidingContext>"
                         "</h:AMT_TLSCredentialContext>"));
  const std::string tlsUri = kAmt + "AMT_TLSSettingData";
  call(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", tlsUri,
                     "<h:AMT_TLSSettingData xmlns:h=\"" + tlsUri +
                         "\"><h:ElementName>Intel(r) AMT 802.3 TLS Settings</h:ElementName><h:InstanceID>Intel(r) AMT "
                         "802.3 TLS Settings</h:InstanceID><h:MutualAuthentication>true</h:MutualAuthentication>"
                         "<h:Enabled>true</h:Enabled><h:TrustedCN>console.example.com</h:TrustedCN>"
                         "</h:AMT_TLSSettingData>",
                     "1", selector("InstanceID", "Intel(r) AMT 802.3 TLS Settings")));
  EXPECT_EQ(probe(daemon.httpsPort()).serverCertificate, before.serverCertificate) << "nothing changes before the commit";
  ASSERT_EQ(tagText(invoke(kAmt + "AMT_SetupAndConfigurationService", "CommitChanges", ""), "ReturnValue"), "0");

  Pkey clientKey = makeRsaKey(2048);
  const Cert trustedClient = issue(clientKey, "console.example.com", root, rootKey, 3);
  const Cert wrongCn = issue(clientKey, "intruder.example.com", root, rootKey, 4);
  Pkey otherRootKey = makeRsaKey(2048);
  const Cert otherRoot = makeCert(certSpec("other CA", kNow - 86400, kNow + 86400, true), otherRootKey, nullptr, otherRootKey);
  const Cert untrusted = issue(clientKey, "console.example.com", otherRoot, otherRootKey, 5);

  auto expectSwitched = [&](std::uint16_t port, const char* what) {
    const TlsProbe in = probe(port, trustedClient, clientKey);
    EXPECT_TRUE(in.answered) << what << ": a client with the trusted root's certificate gets in";
    EXPECT_EQ(in.serverCertificate, derOf(serverCert)) << what << ": the console's certificate is served";
    EXPECT_FALSE(probe(port).answered) << what << ": no client certificate";
    EXPECT_FALSE(probe(port, untrusted, clientKey).answered) << what << ": a certificate of another CA";
    EXPECT_FALSE(probe(port, wrongCn, clientKey).answered) << what << ": a CN outside TrustedCN";
  };
  expectSwitched(daemon.httpsPort(), "16993");
  if (daemon.redirectionTlsPort()) {
    // The redirection protocol answers no HTTP: only the certificate and the handshake's outcome are compared.
    EXPECT_EQ(probe(daemon.redirectionTlsPort(), trustedClient, clientKey).serverCertificate, derOf(serverCert))
        << "16995 serves the same certificate";
  }

  // A restart serves the same.
  daemon.stop();
  ASSERT_TRUE(daemon.start()) << daemon.log();
  expectSwitched(daemon.httpsPort(), "16993 after a restart");

  // A CRL naming the client's serial (3) shuts it out at once; ResetCRLList lets it in again.
  ASSERT_EQ(tagText(invoke(kPki, "AddCRL", "<h:Url>http://ca.example.com/console.crl</h:Url>"
                                           "<h:SerialNumbers>Aw==</h:SerialNumbers>"), "ReturnValue"), "0");
  EXPECT_FALSE(probe(daemon.httpsPort(), trustedClient, clientKey).answered) << "a revoked client certificate";
  ASSERT_EQ(tagText(invoke(kPki, "ResetCRLList", ""), "ReturnValue"), "0");
  EXPECT_TRUE(probe(daemon.httpsPort(), trustedClient, clientKey).answered) << "after ResetCRLList";
}

}  // namespace
}  // namespace mesim::test
