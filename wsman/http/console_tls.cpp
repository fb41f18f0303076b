#include "wsman/http/console_tls.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

#include "common/text_codecs.h"

namespace mesim::wsman::http {
namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using Cert = std::unique_ptr<X509, Free>;

// A stored certificate (base64 DER) as PEM; nullopt if it is not one certificate.
std::optional<std::string> certificatePem(const std::string& base64Der, Cert* parsed = nullptr) {
  const auto der = text::base64Decode(base64Der);
  if (!der || der->empty()) return std::nullopt;
  const unsigned char* p = der->data();
  Cert cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
  if (!cert) return ERR_clear_error(), std::nullopt;
  std::unique_ptr<BIO, Free> out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), cert.get()) != 1) return ERR_clear_error(), std::nullopt;
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  if (parsed) *parsed = std::move(cert);
  return std::string(data, static_cast<std::size_t>(size));
}

bool keyMatches(X509* cert, const std::string& privateKeyPem) {
  std::unique_ptr<BIO, Free> in(BIO_new_mem_buf(privateKeyPem.data(), static_cast<int>(privateKeyPem.size())));
  std::unique_ptr<EVP_PKEY, Free> key(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr) : nullptr);
  const bool match = key && X509_check_private_key(cert, key.get()) == 1;
  ERR_clear_error();
  return match;
}

// The certificate's serial as minimal big-endian bytes (one zero byte for 0), as AMT_CRL keeps them.
std::vector<std::uint8_t> serialOf(X509* cert) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr), &BN_free);
  if (!serial) return {};
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(std::max(BN_num_bytes(serial.get()), 1)), 0);
  if (BN_num_bytes(serial.get()) > 0) BN_bn2bin(serial.get(), bytes.data());
  return bytes;
}

std::string commonNameOf(X509* cert) {
  char cn[256] = {};
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return n > 0 ? std::string(cn, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

std::string consoleTlsFingerprint(const platform::PlatformState& s) {
  const auto& k = s.keyStore;
  if (!k.tlsCommitted) return {};
  std::string f = k.committedTlsCertificateId + '\n' + (k.committedMutualAuthentication ? "mutual\n" : "\n");
  for (const auto& cn : k.committedTrustedCn) f += cn + '\n';
  for (const auto& crl : k.crls)
    for (const auto& serial : crl.serialNumbers) f += "crl:" + serial + '\n';
  for (const auto& c : s.certificates)
    if (c.instanceId == k.committedTlsCertificateId || (k.committedMutualAuthentication && c.trustedRoot))
      f += c.instanceId + ':' + c.x509 + '\n';
  if (!k.committedTlsCertificateId.empty())
    for (const auto& pair : k.keyPairs) f += pair.instanceId + '\n';
  return f;
}

Result<std::optional<ConsoleTlsPolicy>> consoleTlsPolicy(const platform::PlatformState& s) {
  const auto& k = s.keyStore;
  if (!k.tlsCommitted || (k.committedTlsCertificateId.empty() && !k.committedMutualAuthentication))
    return std::optional<ConsoleTlsPolicy>();
  ConsoleTlsPolicy policy;
  policy.mutualAuthentication = k.committedMutualAuthentication;
  policy.trustedCn = k.committedTrustedCn;
  for (const auto& crl : k.crls)
    for (const auto& serial : crl.serialNumbers)
      if (auto bytes = text::base64Decode(serial)) policy.revokedSerials.push_back(std::move(*bytes));
  if (!k.committedTlsCertificateId.empty()) {
    const platform::StoredCertificate* bound = nullptr;
    for (const auto& c : s.certificates)
      if (c.instanceId == k.committedTlsCertificateId) bound = &c;
    if (!bound) return fail("the TLS certificate " + k.committedTlsCertificateId + " is not in the store");
    Cert cert;
    auto pem = certificatePem(bound->x509, &cert);
    if (!pem) return fail("the TLS certificate " + bound->instanceId + " cannot be read");
    TlsIdentity identity;
    identity.certificatePem = std::move(*pem);
    for (const auto& pair : k.keyPairs)
      if (keyMatches(cert.get(), pair.privateKeyPem)) identity.privateKeyPem = pair.privateKeyPem;
    if (identity.privateKeyPem.empty()) return fail("no key pair in the store belongs to " + bound->instanceId);
    policy.identity = std::move(identity);
  }
  if (policy.mutualAuthentication) {
    for (const auto& c : s.certificates)
      if (c.trustedRoot)
        if (auto pem = certificatePem(c.x509)) policy.trustedRootsPem.push_back(std::move(*pem));
    if (policy.trustedRootsPem.empty()) return fail("mutual authentication without a trusted root certificate");
  }
  return std::optional(std::move(policy));
}

Result<std::shared_ptr<boost::asio::ssl::context>> makeConsoleTlsContext(const ConsoleTlsPolicy& policy,
                                                                         const TlsIdentity& own, bool verifyClients) {
  auto context = makeTlsServerContext(policy.identity ? *policy.identity : own);
  if (!context) return context.error();
  if (!verifyClients || !policy.mutualAuthentication) return context;
  namespace ssl = boost::asio::ssl;
  auto& ctx = **context;
  boost::system::error_code ec;
  // Only the store's roots: the system's are never loaded into this context.
  for (const auto& root : policy.trustedRootsPem) {
    ctx.add_certificate_authority(boost::asio::buffer(root), ec);
    if (ec) return fail("cannot trust a root certificate: " + ec.message());
  }
  ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return fail("cannot ask for client certificates: " + ec.message());
  if (!policy.trustedCn.empty() || !policy.revokedSerials.empty()) {
    ctx.set_verify_callback([cns = policy.trustedCn, revoked = policy.revokedSerials](bool preverified,
                                                                                        ssl::verify_context& vc) {
      if (!preverified) return false;
      X509_STORE_CTX* store = vc.native_handle();
      X509* cert = X509_STORE_CTX_get_current_cert(store);
      // Every certificate of the chain, the client's own and its issuers', is checked against the CRLs.
      if (!revoked.empty() && std::find(revoked.begin(), revoked.end(), serialOf(cert)) != revoked.end()) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED);
        return false;
      }
      if (X509_STORE_CTX_get_error_depth(store) != 0 || cns.empty()) return true;
      const std::string cn = commonNameOf(cert);
      for (const auto& allowed : cns)
        if (cn == allowed) return true;
      return false;
    }, ec);
    if (ec) return fail("cannot check TrustedCN and the CRLs: " + ec.message());
  }
  // The session-id context lets a verified client resume; without it OpenSSL refuses resumption with verification.
  static constexpr unsigned char kSessionContext[] = "mesim-amt-tls";
  SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext, sizeof kSessionContext - 1);
  return context;
}

}  // namespace mesim::wsman::http
