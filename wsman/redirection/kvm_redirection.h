// KVM over the redirection port (KVMR, features.md §1.4): once the console logged in for a KVMR session, it sends
// 0x40 and seven zero bytes, AMT answers 0x41 and seven bytes, and raw RFB follows on the same connection (the
// KvmService's session in Redirection mode: RFB 3.8, security None, RGB565). RedirectionSession hands its bytes
// here from the login on.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wsman/redirection/rfb_session.h"

namespace mesim::wsman::redirection {

inline constexpr std::uint8_t kKvmOpen = 0x40;
inline constexpr std::uint8_t kKvmOpenReply = 0x41;
inline constexpr std::size_t kKvmOpenLength = 8;

class KvmRedirection {
 public:
  // `transport` writes to the console and closes the redirection session.
  KvmRedirection(KvmService& service, RfbSession::Transport transport, std::string peerAddress, std::string user);
  // Bytes from the console after the login.
  void receive(std::span<const std::uint8_t> bytes);
  void end(const std::string& why);
  bool rfbStarted() const { return rfb_ != nullptr; }
  const RfbSession* rfb() const { return rfb_.get(); }

 private:
  KvmService& service_;
  RfbSession::Transport transport_;
  std::string peer_;
  std::string user_;
  std::vector<std::uint8_t> buffer_;
  std::unique_ptr<RfbSession> rfb_;
  bool ended_ = false;
};

}  // namespace mesim::wsman::redirection
