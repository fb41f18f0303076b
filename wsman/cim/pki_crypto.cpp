#include "wsman/cim/pki_crypto.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Free>;
using Bio = std::unique_ptr<BIO, Free>;

std::string opensslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

std::optional<std::string> pemOf(EVP_PKEY* key) {
  Bio out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return std::nullopt;
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return size > 0 ? std::optional(std::string(data, static_cast<std::size_t>(size))) : std::nullopt;
}

Pkey readPrivateKey(const std::string& pem) {
  Bio in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Pkey(in ? PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr) : nullptr);
}

}  // namespace

Result<std::string> generateRsaPrivateKeyPem(int bits) {
  Pkey key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) return fail("cannot generate an RSA key: " + opensslError());
  auto pem = pemOf(key.get());
  if (!pem) return fail("cannot encode the RSA key: " + opensslError());
  return Result<std::string>(boost::system::in_place_value, std::move(*pem));  // a string would also make an Error
}

std::optional<std::string> rsaPrivateKeyPemFromDer(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  Pkey key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!key || p != der.data() + der.size() || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return std::nullopt;
  const int bits = EVP_PKEY_get_bits(key.get());
  if (bits < 1024 || bits > 4096) return std::nullopt;
  return pemOf(key.get());
}

std::string publicKeyDerBase64(const std::string& privateKeyPem) {
  Pkey key = readPrivateKey(privateKeyPem);
  if (!key) return ERR_clear_error(), std::string();
  unsigned char* der = nullptr;
  const int length = i2d_PublicKey(key.get(), &der);  // RSA: PKCS#1 RSAPublicKey
  if (length <= 0) return ERR_clear_error(), std::string();
  std::vector<std::uint8_t> bytes(der, der + length);
  OPENSSL_free(der);
  return base64Encode(bytes);
}

bool certificateMatchesKey(const std::vector<std::uint8_t>& certificateDer, const std::string& privateKeyPem) {
  const unsigned char* p = certificateDer.data();
  std::unique_ptr<X509, Free> cert(d2i_X509(nullptr, &p, static_cast<long>(certificateDer.size())));
  Pkey key = readPrivateKey(privateKeyPem);
  const bool match = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  return match;
}

Result<std::vector<std::uint8_t>> signCertificateRequest(const std::vector<std::uint8_t>& nullSignedRequestDer,
                                                         const std::string& privateKeyPem,
                                                         std::uint32_t signingAlgorithm) {
  const EVP_MD* digest = signingAlgorithm == 0 ? EVP_sha1() : signingAlgorithm == 1 ? EVP_sha256() : nullptr;
  if (!digest) return fail("SigningAlgorithm must be 0 (SHA1-RSA) or 1 (SHA256-RSA)");
  const unsigned char* p = nullSignedRequestDer.data();
  std::unique_ptr<X509_REQ, Free> request(d2i_X509_REQ(nullptr, &p, static_cast<long>(nullSignedRequestDer.size())));
  if (!request || p != nullSignedRequestDer.data() + nullSignedRequestDer.size())
    return ERR_clear_error(), fail("NullSignedCertificateRequest is not a DER PKCS#10 request");
  Pkey key = readPrivateKey(privateKeyPem);
  if (!key) return fail("the key pair cannot be read: " + opensslError());
  if (X509_REQ_set_pubkey(request.get(), key.get()) != 1 || X509_REQ_sign(request.get(), key.get(), digest) <= 0)
    return fail("cannot sign the request: " + opensslError());
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  if (length <= 0) return fail("cannot encode the request: " + opensslError());
  std::vector<std::uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

Result<std::vector<std::uint8_t>> makeCertificateRequest(const std::string& privateKeyPem,
                                                         const std::string& distinguishedName, const std::string& usage) {
  Pkey key = readPrivateKey(privateKeyPem);
  if (!key) return fail("the key pair cannot be read: " + opensslError());
  std::unique_ptr<X509_REQ, Free> request(X509_REQ_new());
  if (!request) return fail("cannot make a request: " + opensslError());
  X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  std::size_t at = 0;
  int entries = 0;
  while (at < distinguishedName.size()) {
    std::size_t end = distinguishedName.find(',', at);
    if (end == std::string::npos) end = distinguishedName.size();
    std::string part = distinguishedName.substr(at, end - at);
    at = end + 1;
    const auto first = part.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    part.erase(0, first);
    const auto equals = part.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == part.size())
      return fail("DNName entry '" + part + "' is not NAME=value");
    const std::string name = part.substr(0, equals);
    const std::string value = part.substr(equals + 1);
    if (X509_NAME_add_entry_by_txt(subject, name.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()),
                                   -1, 0) != 1)
      return ERR_clear_error(), fail("DNName entry '" + part + "' names no known attribute");
    ++entries;
  }
  if (entries == 0) return fail("DNName is empty");
  if (!usage.empty()) {
    std::unique_ptr<STACK_OF(X509_EXTENSION), void (*)(STACK_OF(X509_EXTENSION)*)> extensions(
        sk_X509_EXTENSION_new_null(), [](STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); });
    X509_EXTENSION* eku = X509V3_EXT_conf_nid(nullptr, nullptr, NID_ext_key_usage, usage.c_str());
    if (!eku) return ERR_clear_error(), fail("Usage '" + usage + "' is not a list of OIDs");
    sk_X509_EXTENSION_push(extensions.get(), eku);
    if (X509_REQ_add_extensions(request.get(), extensions.get()) != 1)
      return fail("cannot add the key usage: " + opensslError());
  }
  if (X509_REQ_set_version(request.get(), 0) != 1 || X509_REQ_set_pubkey(request.get(), key.get()) != 1 ||
      X509_REQ_sign(request.get(), key.get(), EVP_sha256()) <= 0)
    return fail("cannot sign the request: " + opensslError());
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  if (length <= 0) return fail("cannot encode the request: " + opensslError());
  std::vector<std::uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

std::optional<std::vector<std::uint8_t>> crlSerialBytes(const std::string& base64Serial) {
  std::vector<std::uint8_t> bytes;
  if (base64Serial.empty() || !base64Decode(base64Serial, bytes) || bytes.empty()) return std::nullopt;
  std::size_t first = 0;
  while (first + 1 < bytes.size() && bytes[first] == 0) ++first;
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(first));
  if (bytes.size() > 20) return std::nullopt;
  return bytes;
}

int rsaKeyBits(const std::string& privateKeyPem) {
  Pkey key = readPrivateKey(privateKeyPem);
  ERR_clear_error();
  return key && EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA ? EVP_PKEY_get_bits(key.get()) : 0;
}

bool isDerCertificate(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, Free> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  return cert && p == der.data() + der.size();
}

Result<std::vector<std::uint8_t>> rsaSign(const std::string& privateKeyPem, std::uint32_t mechanism,
                                          const std::vector<std::uint8_t>& data) {
  const EVP_MD* digest = mechanism == 0 ? EVP_sha1() : mechanism == 1 ? EVP_sha256() : mechanism == 2 ? EVP_sha384() : nullptr;
  if (!digest) return fail("the signing mechanism must be 0 (RSA-SHA1), 1 (RSA-SHA256) or 2 (RSA-SHA384)");
  Pkey key = readPrivateKey(privateKeyPem);
  if (!key) return fail("the signing key cannot be read: " + opensslError());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, data.data(), data.size()) != 1)
    return fail("cannot sign: " + opensslError());
  std::vector<std::uint8_t> signature(length);
  if (EVP_DigestSign(ctx.get(), signature.data(), &length, data.data(), data.size()) != 1)
    return fail("cannot sign: " + opensslError());
  signature.resize(length);
  return signature;
}

}  // namespace mesim::wsman::cim
