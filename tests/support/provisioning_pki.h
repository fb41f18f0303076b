// A test PKI made at test time with OpenSSL's C API: a root CA, an intermediate and an AMT provisioning
// certificate, and the DigitalSignature an agent sends with AdminSetup. No certificate file is committed.
#pragma once

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mesim::test {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::shared_ptr<EVP_PKEY>;
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};
using Cert = std::shared_ptr<X509>;

inline Pkey makeRsaKey(unsigned bits = 2048) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  if (!key) throw std::runtime_error("EVP_RSA_gen failed");
  return Pkey(key, PkeyFree{});
}

inline Pkey makeEcKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  return Pkey(key, PkeyFree{});
}

struct CertSpec {
  std::string commonName;
  std::string organizationalUnit;   // e.g. "Intel(R) Client Setup Certificate"
  bool isCa = false;
  std::vector<std::string> extendedKeyUsage;  // OIDs in dotted form, e.g. "2.16.840.1.113741.1.2.3"
  std::vector<std::string> dnsNames;          // subjectAltName DNS entries
  std::int64_t notBefore = 0;                 // Unix seconds
  std::int64_t notAfter = 0;
  long serial = 1;
  const EVP_MD* digest = nullptr;             // signature hash, SHA-256 when null
};

// A certificate for `key` with `spec`, signed by `issuerKey` and named as issued by `issuer` (self-signed when
// issuer is null).
inline Cert makeCert(const CertSpec& spec, const Pkey& key, const Cert& issuer, const Pkey& issuerKey) {
  Cert cert(X509_new(), CertFree{});
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(spec.notBefore));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(spec.notAfter));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("mesim test"), -1, -1, 0);
  if (!spec.organizationalUnit.empty())
    X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.organizationalUnit.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.commonName.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer.get()) : name);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer.get() : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto addExt = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  addExt(NID_basic_constraints, spec.isCa ? "critical,CA:TRUE" : "CA:FALSE");
  if (spec.isCa) addExt(NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!spec.extendedKeyUsage.empty()) {
    std::string eku;
    for (const auto& oid : spec.extendedKeyUsage) eku += (eku.empty() ? "" : ",") + oid;
    addExt(NID_ext_key_usage, eku);
  }
  if (!spec.dnsNames.empty()) {
    std::string san;
    for (const auto& dns : spec.dnsNames) san += (san.empty() ? "DNS:" : ",DNS:") + dns;
    addExt(NID_subject_alt_name, san);
  }
  if (X509_sign(cert.get(), issuerKey.get(), spec.digest ? spec.digest : EVP_sha256()) <= 0)
    throw std::runtime_error("X509_sign failed");
  return cert;
}

inline std::vector<std::uint8_t> derOf(const Cert& cert) {
  unsigned char* out = nullptr;
  int len = i2d_X509(cert.get(), &out);
  if (len <= 0) throw std::runtime_error("i2d_X509 failed");
  std::vector<std::uint8_t> der(out, out + len);
  OPENSSL_free(out);
  return der;
}

inline std::vector<std::uint8_t> digestOf(const std::vector<std::uint8_t>& data, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr);
  return {digest, digest + len};
}

// RSA PKCS#1 v1.5 signature of `message` with `md`, as agents sign ConfigurationNonce || McNonce.
inline std::vector<std::uint8_t> signMessage(const Pkey& key, const std::vector<std::uint8_t>& message,
                                             const EVP_MD* md = EVP_sha256()) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key.get()) != 1) throw std::runtime_error("sign init");
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA) EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  std::size_t len = 0;
  EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size());
  std::vector<std::uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    throw std::runtime_error("sign failed");
  sig.resize(len);
  return sig;
}

inline std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Root CA -> intermediate CA -> provisioning certificate for `domain`, valid from `now` - 1 day to `now` + 1 year;
// RSA keys of `rsaBits` each.
struct ProvisioningPki {
  Pkey rootKey, intermediateKey, leafKey;
  Cert root, intermediate, leaf;

  static CertSpec leafSpec(std::int64_t now, const std::string& domain) {
    CertSpec spec;
    spec.commonName = domain;
    spec.extendedKeyUsage = {"1.3.6.1.5.5.7.3.1", "2.16.840.1.113741.1.2.3"};
    spec.notBefore = now - 86400;
    spec.notAfter = now + 365 * 86400;
    spec.serial = 3;
    return spec;
  }
  static CertSpec caSpec(std::int64_t now, const std::string& name, long serial) {
    CertSpec spec;
    spec.commonName = name;
    spec.isCa = true;
    spec.notBefore = now - 86400;
    spec.notAfter = now + 10 * 365 * 86400;
    spec.serial = serial;
    return spec;
  }

  static ProvisioningPki make(std::int64_t now, const std::string& domain = "provision.example.com",
                              unsigned rsaBits = 2048) {
    ProvisioningPki p;
    p.rootKey = makeRsaKey(rsaBits);
    p.intermediateKey = makeRsaKey(rsaBits);
    p.leafKey = makeRsaKey(rsaBits);
    p.root = makeCert(caSpec(now, "mesim test root CA", 1), p.rootKey, nullptr, p.rootKey);
    p.intermediate = makeCert(caSpec(now, "mesim test intermediate CA", 2), p.intermediateKey, p.root, p.rootKey);
    p.leaf = makeCert(leafSpec(now, domain), p.leafKey, p.intermediate, p.intermediateKey);
    return p;
  }

  // A new leaf for the same key, issued by the intermediate.
  Cert issueLeaf(const CertSpec& spec) const { return makeCert(spec, leafKey, intermediate, intermediateKey); }

  std::vector<std::vector<std::uint8_t>> chain() const { return {derOf(leaf), derOf(intermediate), derOf(root)}; }
};

}  // namespace mesim::test
