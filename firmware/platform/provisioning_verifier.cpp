#include "firmware/platform/provisioning_verifier.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

namespace mesim::platform {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

ProvisioningVerdict fail(ProvisioningFailure failure, std::string detail) {
  ProvisioningVerdict v;
  v.failure = failure;
  v.detail = std::move(detail);
  return v;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The X.509 (DER) certificate, with nothing after it.
X509Ptr parseDer(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert && p != der.data() + der.size()) cert.reset();
  return cert;
}

std::string subjectText(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

// UTF-8 strings of the given NID in a name.
std::vector<std::string> nameEntries(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (len >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

bool hasProvisioningPurpose(X509* leaf) {
  if (auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(leaf, NID_ext_key_usage, nullptr, nullptr))) {
    bool found = false;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && !found; ++i) {
      char oid[80];
      if (OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, i), 1) > 0 && std::string(oid) == kProvisioningPurposeOid)
        found = true;
    }
    EXTENDED_KEY_USAGE_free(eku);
    if (found) return true;
  }
  for (const auto& ou : nameEntries(X509_get_subject_name(leaf), NID_organizationalUnitName))
    if (ou == kClientSetupOu) return true;
  return false;
}

// The leaf's DNS names: the CN and the SAN dNSName entries.
std::vector<std::string> leafDomains(X509* leaf) {
  auto names = nameEntries(X509_get_subject_name(leaf), NID_commonName);
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type != GEN_DNS) continue;
      const auto* s = n->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
    GENERAL_NAMES_free(sans);
  }
  return names;
}

bool underSuffix(std::string domain, std::string suffix) {
  domain = lower(std::move(domain));
  suffix = lower(std::move(suffix));
  while (!suffix.empty() && suffix.back() == '.') suffix.pop_back();
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (suffix.empty() || domain.empty()) return false;
  if (domain.rfind("*.", 0) == 0) domain.erase(0, 2);
  return domain == suffix ||
         (domain.size() > suffix.size() + 1 && domain.compare(domain.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          domain[domain.size() - suffix.size() - 1] == '.');
}

bool verifyWith(EVP_PKEY* key, const EVP_MD* md, const std::vector<std::uint8_t>& message,
                const std::vector<std::uint8_t>& signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
}

// Why `issuer` did not issue `cert` (name, CA, signature), or nothing when it did.
std::optional<std::string> brokenLink(X509* cert, X509* issuer) {
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0)
    return subjectText(cert) + " is not issued by " + subjectText(issuer);
  if (X509_check_ca(issuer) < 1) return subjectText(issuer) + " is not a CA";
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (!key || X509_verify(cert, key) != 1)
    return "the signature of " + subjectText(cert) + " does not verify with " + subjectText(issuer) + "'s key";
  return std::nullopt;
}

}  // namespace

const char* toString(ProvisioningFailure failure) {
  switch (failure) {
    case ProvisioningFailure::None: return "verified";
    case ProvisioningFailure::ChainMalformed: return "malformed certificate chain";
    case ProvisioningFailure::ChainBroken: return "broken certificate chain";
    case ProvisioningFailure::UntrustedRoot: return "untrusted root";
    case ProvisioningFailure::NotYetValid: return "certificate not yet valid";
    case ProvisioningFailure::Expired: return "certificate expired";
    case ProvisioningFailure::NoProvisioningPurpose: return "no provisioning purpose";
    case ProvisioningFailure::DomainMismatch: return "domain does not match the PKI DNS suffix";
    case ProvisioningFailure::UnsupportedAlgorithm: return "unsupported signing algorithm";
    case ProvisioningFailure::LeafKeyNotRsa: return "leaf key is not RSA";
    case ProvisioningFailure::SignatureMismatch: return "digital signature mismatch";
  }
  return "?";
}

std::vector<std::string> provisioningDnsSuffixes(const PlatformState& state) {
  if (!state.pkiDnsSuffix.empty()) return {state.pkiDnsSuffix};
  return state.dnsSuffixList;
}

ProvisioningVerdict verifyProvisioning(const ProvisioningRequest& request, const ProvisioningTrust& trust) {
  using F = ProvisioningFailure;
  if (request.chain.empty()) return fail(F::ChainMalformed, "no certificate was added");
  if (request.chain.size() > kMaxProvisioningChain)
    return fail(F::ChainMalformed, "more than " + std::to_string(kMaxProvisioningChain) + " certificates");
  std::vector<X509Ptr> certs;
  for (std::size_t i = 0; i < request.chain.size(); ++i) {
    auto cert = parseDer(request.chain[i]);
    if (!cert) return fail(F::ChainMalformed, "certificate " + std::to_string(i) + " is not DER X.509");
    certs.push_back(std::move(cert));
  }

  // Dates of every certificate against the firmware clock.
  const time_t now = static_cast<time_t>(trust.now);
  for (auto& cert : certs) {
    time_t at = now;
    if (X509_cmp_time(X509_get0_notBefore(cert.get()), &at) >= 0)
      return fail(F::NotYetValid, subjectText(cert.get()) + " is not valid yet");
    at = now;
    if (X509_cmp_time(X509_get0_notAfter(cert.get()), &at) <= 0)
      return fail(F::Expired, subjectText(cert.get()) + " has expired");
  }

  // Each certificate is issued and signed by the next one, which is a CA.
  for (std::size_t i = 0; i + 1 < certs.size(); ++i)
    if (auto broken = brokenLink(certs[i].get(), certs[i + 1].get())) return fail(F::ChainBroken, *broken);

  // The root's hash, of the type each enabled entry has.
  ProvisioningVerdict verdict;
  const auto& rootDer = request.chain.back();
  bool trusted = false;
  for (const auto& entry : trust.hashes) {
    if (!entry.isActive) continue;
    const EVP_MD* md = entry.algorithm == HashAlgorithm::Sha1     ? EVP_sha1()
                       : entry.algorithm == HashAlgorithm::Sha256 ? EVP_sha256()
                       : entry.algorithm == HashAlgorithm::Sha384 ? EVP_sha384()
                                                                  : nullptr;
    if (!md) continue;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(rootDer.data(), rootDer.size(), digest, &len, md, nullptr) != 1) continue;
    if (entry.hash.size() == len && std::equal(entry.hash.begin(), entry.hash.end(), digest)) {
      trusted = true;
      verdict.rootHashHandle = entry.handle;
      verdict.rootHashAlgorithm = entry.algorithm;
      verdict.rootHash = entry.hash;
      break;
    }
  }
  if (!trusted)
    return fail(F::UntrustedRoot, "the hash of " + subjectText(certs.back().get()) + " is not an enabled trusted hash");

  X509* leaf = certs.front().get();
  if (!hasProvisioningPurpose(leaf))
    return fail(F::NoProvisioningPurpose, subjectText(leaf) + " has neither EKU " + kProvisioningPurposeOid +
                                              " nor OU \"" + kClientSetupOu + "\"");

  const auto domains = leafDomains(leaf);
  bool domainOk = false;
  for (const auto& d : domains)
    for (const auto& s : trust.dnsSuffixes) domainOk = domainOk || underSuffix(d, s);
  if (!domainOk) {
    std::string suffixes;
    for (const auto& s : trust.dnsSuffixes) suffixes += (suffixes.empty() ? "" : ", ") + s;
    return fail(F::DomainMismatch, subjectText(leaf) + " is not under the PKI DNS suffix (" +
                                       (suffixes.empty() ? std::string("none set") : suffixes) + ")");
  }

  std::vector<const EVP_MD*> digests;
  switch (request.signingAlgorithm) {
    case static_cast<std::uint16_t>(SigningAlgorithm::RsaSha256): digests = {EVP_sha256()}; break;
    case static_cast<std::uint16_t>(SigningAlgorithm::Other): digests = {EVP_sha1(), EVP_sha256(), EVP_sha384()}; break;
    default:
      return fail(F::UnsupportedAlgorithm, "SigningAlgorithm " + std::to_string(request.signingAlgorithm) +
                                               " (1 Other or 2 RSA_SHA-2_256 sign the nonces)");
  }
  EVP_PKEY* leafKey = X509_get0_pubkey(leaf);
  if (!leafKey || EVP_PKEY_get_base_id(leafKey) != EVP_PKEY_RSA)
    return fail(F::LeafKeyNotRsa, subjectText(leaf) + " has no RSA key");
  std::vector<std::uint8_t> message = request.configurationNonce;
  message.insert(message.end(), request.mcNonce.begin(), request.mcNonce.end());
  // PKCS#1 v1.5 verification compares the DigestInfo's algorithm too, so a signature made with another hash fails.
  const bool signed_ = std::any_of(digests.begin(), digests.end(),
                                   [&](const EVP_MD* md) { return verifyWith(leafKey, md, message, request.signature); });
  if (!signed_)
    return fail(F::SignatureMismatch, "DigitalSignature is not " + subjectText(leaf) +
                                          "'s signature over ConfigurationNonce || McNonce");
  return verdict;
}

ProvisioningVerdict checkNextCertificate(const std::vector<std::uint8_t>* previous, const std::vector<std::uint8_t>& next) {
  using F = ProvisioningFailure;
  auto cert = parseDer(next);
  if (!cert) return fail(F::ChainMalformed, "the certificate is not DER X.509");
  if (!previous) return {};
  auto before = parseDer(*previous);
  if (!before) return fail(F::ChainMalformed, "the certificate before it is not DER X.509");
  if (auto broken = brokenLink(before.get(), cert.get())) return fail(F::ChainBroken, *broken);
  return {};
}

}  // namespace mesim::platform
