#include "wsman/webui/csrf_tokens.h"

#include <array>
#include <cstdint>
#include <openssl/crypto.h>

#include "common/text_codecs.h"
#include "firmware/platform/credentials.h"

namespace mesim::wsman::webui {

std::string CsrfTokens::issue(std::string_view user, core::FirmwareClock::time_point now) {
  std::array<std::uint8_t, 16> bytes{};
  platform::randomBytes(bytes.data(), bytes.size());
  if (tokens_.size() >= kCapacity) tokens_.pop_front();
  tokens_.push_back({text::toHex(bytes), std::string(user), now});
  return tokens_.back().value;
}

bool CsrfTokens::consume(std::string_view token, std::string_view user, core::FirmwareClock::time_point now) {
  std::erase_if(tokens_, [now](const Token& t) { return now - t.issued >= kLifetime || now < t.issued; });
  for (auto it = tokens_.begin(); it != tokens_.end(); ++it) {
    // Constant time over the token's bytes: a guesser learns nothing from how long a comparison took.
    if (it->value.size() != token.size() || CRYPTO_memcmp(it->value.data(), token.data(), token.size()) != 0)
      continue;
    if (it->user != user) return false;
    tokens_.erase(it);
    return true;
  }
  return false;
}

}  // namespace mesim::wsman::webui
