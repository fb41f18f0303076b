#include "wsman/redirection/kvm_redirection.h"

namespace mesim::wsman::redirection {

KvmRedirection::KvmRedirection(KvmService& service, RfbSession::Transport transport, std::string peerAddress,
                               std::string user)
    : service_(service), transport_(std::move(transport)), peer_(std::move(peerAddress)), user_(std::move(user)) {}

void KvmRedirection::receive(std::span<const std::uint8_t> bytes) {
  if (ended_) return;
  if (rfb_) return rfb_->receive(bytes);
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  if (buffer_.size() < kKvmOpenLength) return;
  if (buffer_[0] != kKvmOpen) {
    ended_ = true;
    if (transport_.close) transport_.close();
    return;
  }
  std::vector<std::uint8_t> reply(kKvmOpenLength, 0);
  reply[0] = kKvmOpenReply;
  if (transport_.write) transport_.write(std::move(reply));
  rfb_ = service_.open(RfbSession::Mode::Redirection, transport_, peer_, user_);
  rfb_->start();
  std::vector<std::uint8_t> rest(buffer_.begin() + kKvmOpenLength, buffer_.end());
  buffer_.clear();
  if (!rest.empty()) rfb_->receive(rest);
}

void KvmRedirection::end(const std::string& why) {
  ended_ = true;
  if (rfb_) rfb_->end(why);
}

}  // namespace mesim::wsman::redirection
