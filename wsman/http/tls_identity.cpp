#include "wsman/http/tls_identity.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <system_error>

#include "firmware/core/atomic_file.h"
#include "common/log.h"

namespace mesim::wsman::http {
namespace {

namespace fs = std::filesystem;
constexpr const char* kLog = "wsman-http";

// ECDHE first; static RSA with AES for MeshCentral ('RSA+AES:!aNULL:!MD5:!DSS', spec/wsman.md §2.1).
constexpr const char* kTls12Ciphers =
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA";

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

// The first queued OpenSSL error as text (and the queue cleared), for messages.
std::string opensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

Bio memoryBio(const std::string& text) { return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

bool addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::optional<std::vector<std::uint8_t>> sha256OfCertificate(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return std::nullopt;
  return std::vector<std::uint8_t>(digest, digest + length);
}

// Parses and cross-checks a PEM pair; fills `identity.sha256`. `what` names the files in messages.
Result<> checkPair(TlsIdentity& identity, const std::string& what) {
  Bio certBio = memoryBio(identity.certificatePem);
  Cert cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(what + ": no PEM certificate (" + opensslError() + ")");
  Bio keyBio = memoryBio(identity.privateKeyPem);
  Pkey key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(what + ": no unencrypted PEM private key (" + opensslError() + ")");
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return fail(what + ": the private key does not belong to the certificate");
  auto hash = sha256OfCertificate(cert.get());
  if (!hash) return fail(what + ": cannot hash the certificate (" + opensslError() + ")");
  identity.sha256 = std::move(*hash);
  return {};
}

bool fileExists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Temp files of writes that a kill cut short (core::writeFileAtomic names them ".<file>.tmp.<pid>.<n>").
void removeStaleTempFiles(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const char* file : {kTlsKeyFile, kTlsCertFile}) {
      if (name.rfind(std::string(".") + file + ".tmp.", 0) == 0) fs::remove(entry.path(), ec);
    }
  }
}

}  // namespace

Result<TlsIdentity> createSelfSignedIdentity(const TlsIdentitySource& source) {
  Pkey key(EVP_RSA_gen(2048));
  if (!key) return fail("cannot generate an RSA-2048 key: " + opensslError());

  Cert cert(X509_new());
  std::unique_ptr<BIGNUM, BnFree> serial(BN_new());
  bool ok = cert && serial && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(cert.get()), 20 * 365, 0, nullptr) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1;
  const std::string cn = source.commonName.empty() ? "mesim" : source.commonName.substr(0, 64);
  X509_NAME* name = ok ? X509_get_subject_name(cert.get()) : nullptr;
  ok = ok && name &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>("mesim Intel(R) AMT simulator"), -1, -1, 0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                  -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1;

  std::string altNames;
  for (const auto& dns : source.dnsNames) altNames += (altNames.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : source.ipAddresses) altNames += (altNames.empty() ? "IP:" : ",IP:") + ip;
  ok = ok && addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
       addExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
       addExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
       addExtension(cert.get(), NID_subject_key_identifier, "hash") &&
       (altNames.empty() || addExtension(cert.get(), NID_subject_alt_name, altNames)) &&
       X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return fail("cannot make a self-signed certificate: " + opensslError());

  Bio keyOut(BIO_new(BIO_s_mem()));
  Bio certOut(BIO_new(BIO_s_mem()));
  if (!keyOut || !certOut || PEM_write_bio_PrivateKey(keyOut.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(certOut.get(), cert.get()) != 1)
    return fail("cannot encode the TLS key pair as PEM: " + opensslError());

  TlsIdentity identity;
  identity.privateKeyPem = bioText(keyOut.get());
  identity.certificatePem = bioText(certOut.get());
  identity.created = true;
  auto hash = sha256OfCertificate(cert.get());
  if (!hash) return fail("cannot hash the new certificate: " + opensslError());
  identity.sha256 = std::move(*hash);
  return identity;
}

Result<std::optional<TlsIdentity>> loadTlsIdentity(const TlsIdentitySource& source) {
  auto logContext = [&source] { return source.log; };  // MESIM_LOG names the source's device
  TlsIdentity identity;
  if (!source.certFile.empty() || !source.keyFile.empty()) {
    if (source.certFile.empty() || source.keyFile.empty())
      return fail("a TLS certificate file needs its key file and the other way round");
    if (auto ec = core::readFile(source.certFile, identity.certificatePem))
      return fail("cannot read " + source.certFile.string() + ": " + ec.message());
    if (auto ec = core::readFile(source.keyFile, identity.privateKeyPem))
      return fail("cannot read " + source.keyFile.string() + ": " + ec.message());
    if (auto r = checkPair(identity, source.certFile.string() + " / " + source.keyFile.string()); !r) return r.error();
    return std::optional(std::move(identity));
  }

  if (source.stateDir.empty()) return fail("no state dir for the TLS certificate");
  const fs::path keyPath = source.stateDir / kTlsKeyFile;
  const fs::path certPath = source.stateDir / kTlsCertFile;
  removeStaleTempFiles(source.stateDir);
  const bool haveKey = fileExists(keyPath);
  const bool haveCert = fileExists(certPath);
  if (haveKey && haveCert) {
    if (auto ec = core::readFile(certPath, identity.certificatePem))
      return fail("cannot read " + certPath.string() + ": " + ec.message());
    if (auto ec = core::readFile(keyPath, identity.privateKeyPem))
      return fail("cannot read " + keyPath.string() + ": " + ec.message());
    if (auto r = checkPair(identity, certPath.string()); !r)
      return fail(r.error().message + "; fix or remove " + keyPath.string() + " and " + certPath.string() +
                  " to make a new pair");
    return std::optional(std::move(identity));
  }
  if (haveKey || haveCert)
    MESIM_LOG(Warn, kLog, "only one of " << kTlsKeyFile << " and " << kTlsCertFile << " in " << source.stateDir.string()
                                         << " (an interrupted first start?); a new pair will replace it");
  return std::optional<TlsIdentity>();
}

Result<TlsIdentity> createTlsIdentity(const TlsIdentitySource& source) {
  auto logContext = [&source] { return source.log; };
  if (source.stateDir.empty()) return fail("no state dir for the TLS certificate");
  const fs::path keyPath = source.stateDir / kTlsKeyFile;
  const fs::path certPath = source.stateDir / kTlsCertFile;
  // Before the key is made: a full disk costs no CPU, however often a handshake asks again.
  if (source.disk) {
    if (auto ec = source.disk->checkWrite()) return fail("cannot write " + keyPath.string() + ": " + ec.message());
  }
  auto created = createSelfSignedIdentity(source);
  if (!created) return created;
  // Key first: a kill between the writes leaves a half pair, which the next start replaces.
  if (auto ec = core::writeFileAtomic(keyPath, created->privateKeyPem, fs::perms::owner_read | fs::perms::owner_write,
                                      source.disk))
    return fail("cannot write " + keyPath.string() + ": " + ec.message());
  if (auto ec = core::writeFileAtomic(certPath, created->certificatePem,
                                      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                          fs::perms::others_read,
                                      source.disk))
    return fail("cannot write " + certPath.string() + ": " + ec.message());
  MESIM_LOG(Info, kLog, "made a self-signed RSA-2048 TLS certificate for '" << source.commonName << "' in "
                                                                            << certPath.string());
  return created;
}

Result<TlsIdentity> loadOrCreateTlsIdentity(const TlsIdentitySource& source) {
  auto loaded = loadTlsIdentity(source);
  if (!loaded) return loaded.error();
  if (*loaded) return std::move(**loaded);
  return createTlsIdentity(source);
}

Result<std::shared_ptr<boost::asio::ssl::context>> makeTlsServerContext(const TlsIdentity& identity) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  SSL_CTX* native = context->native_handle();
  if (!ec && SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) ec = boost::asio::error::invalid_argument;
  if (!ec && SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) ec = boost::asio::error::invalid_argument;
  if (ec) return fail("cannot configure TLS: " + opensslError());
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  context->use_certificate_chain(boost::asio::buffer(identity.certificatePem), ec);
  if (!ec) context->use_private_key(boost::asio::buffer(identity.privateKeyPem), ssl::context::pem, ec);
  if (ec) return fail("cannot load the TLS certificate or key: " + ec.message());
  return context;
}

}  // namespace mesim::wsman::http
