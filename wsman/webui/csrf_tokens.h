// The hidden `t` field of the web UI's forms: a random token handed out with each form, good for one POST by the
// user it was given to, within kLifetime of the firmware clock. A form without one, with a used, expired, unknown or
// another user's token is refused (AMT answers such a POST with a 303 to a Location naming `invreq`). At most
// kCapacity tokens are outstanding; the oldest is forgotten first (its form then fails as a stale one would).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "firmware/core/firmware_clock.h"

namespace mesim::wsman::webui {

class CsrfTokens {
 public:
  static constexpr std::size_t kCapacity = 256;
  static constexpr std::chrono::minutes kLifetime{30};

  // 16 random bytes as 32 hex digits.
  std::string issue(std::string_view user, core::FirmwareClock::time_point now);
  // True once for a token issue() gave `user` less than kLifetime before `now`; the token is gone after.
  bool consume(std::string_view token, std::string_view user, core::FirmwareClock::time_point now);
  std::size_t outstanding() const { return tokens_.size(); }

 private:
  struct Token {
    std::string value;
    std::string user;
    core::FirmwareClock::time_point issued;
  };
  std::deque<Token> tokens_;
};

}  // namespace mesim::wsman::webui
