#include "wsman/redirection/vnc_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <memory>

namespace mesim::wsman::redirection {

namespace {
std::uint8_t reverseBits(std::uint8_t b) {
  std::uint8_t r = 0;
  for (int i = 0; i < 8; ++i) r = static_cast<std::uint8_t>(r << 1 | ((b >> i) & 1));
  return r;
}

// DES-ECB of `blocks` (a multiple of 8 bytes) under `key`, a standard DES key.
Result<> desEcb(const std::uint8_t key[8], std::uint8_t* data, std::size_t length) {
  std::unique_ptr<OSSL_LIB_CTX, decltype(&OSSL_LIB_CTX_free)> lib(OSSL_LIB_CTX_new(), OSSL_LIB_CTX_free);
  if (!lib) return fail("OpenSSL: no library context");
  OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(lib.get(), "legacy");
  if (!legacy) return fail("OpenSSL's legacy provider (DES) cannot be loaded: VNC authentication is unavailable");
  std::unique_ptr<OSSL_PROVIDER, decltype(&OSSL_PROVIDER_unload)> legacyGuard(legacy, OSSL_PROVIDER_unload);
  std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> cipher(EVP_CIPHER_fetch(lib.get(), "DES-ECB", nullptr),
                                                                 EVP_CIPHER_free);
  if (!cipher) return fail("OpenSSL has no DES-ECB");
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int outLength = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher.get(), nullptr, key, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), data, &outLength, data, static_cast<int>(length)) != 1 ||
      outLength != static_cast<int>(length))
    return fail("DES-ECB encryption failed");
  return {};
}

std::array<std::uint8_t, 8> vncKey(const std::string& password) {
  std::array<std::uint8_t, 8> key{};
  for (std::size_t i = 0; i < key.size() && i < password.size(); ++i)
    key[i] = reverseBits(static_cast<std::uint8_t>(password[i]));
  return key;
}
}  // namespace

Result<VncChallenge> vncAuthResponse(const VncChallenge& challenge, const std::string& password) {
  VncChallenge out = challenge;
  const auto key = vncKey(password);
  if (auto r = desEcb(key.data(), out.data(), out.size()); !r) return r.error();
  return out;
}

bool vncAuthMatches(const VncChallenge& challenge, const VncChallenge& response, const std::string& password) {
  auto expected = vncAuthResponse(challenge, password);
  return expected && CRYPTO_memcmp(expected->data(), response.data(), response.size()) == 0;
}

Result<std::array<std::uint8_t, 8>> vncPasswordFile(const std::string& password) {
  // VNC's fixed obfuscation key {23,82,107,6,35,78,88,7}, through the same bit-reversal as a password key.
  static constexpr std::uint8_t kFixed[8] = {23, 82, 107, 6, 35, 78, 88, 7};
  std::uint8_t key[8];
  for (int i = 0; i < 8; ++i) key[i] = reverseBits(kFixed[i]);
  std::array<std::uint8_t, 8> out{};
  for (std::size_t i = 0; i < out.size() && i < password.size(); ++i) out[i] = static_cast<std::uint8_t>(password[i]);
  if (auto r = desEcb(key, out.data(), out.size()); !r) return r.error();
  return out;
}

VncChallenge vncNewChallenge() {
  VncChallenge c{};
  RAND_bytes(c.data(), static_cast<int>(c.size()));
  return c;
}

}  // namespace mesim::wsman::redirection
