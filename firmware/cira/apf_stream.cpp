#include "firmware/cira/apf_stream.h"

#include "firmware/lme/apf_codec.h"

namespace mesim::cira {

ApfStreamReader::Outcome ApfStreamReader::next(hbm::ByteView& message) {
  // Drop what was handed out before; compact only when that is worth a move.
  if (used_ == buffer_.size()) {
    buffer_.clear();
    used_ = 0;
  } else if (used_ > 64 * 1024 || used_ > buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used_));
    used_ = 0;
  }
  hbm::ByteView rest(buffer_.data() + used_, buffer_.size() - used_);
  if (rest.empty()) return Outcome::NeedMore;
  auto length = lme::apf::frameLength(rest);
  if (!length) {
    error_ = "the MPS sent an unknown APF message type " + std::to_string(rest[0]);
    return Outcome::UnknownType;
  }
  if (*length > kMaxFrame || (*length == 0 && rest.size() > kMaxFrame)) {
    error_ = "the MPS sent an APF message over " + std::to_string(kMaxFrame) + " bytes";
    return Outcome::TooLong;
  }
  if (*length == 0 || *length > rest.size()) return Outcome::NeedMore;
  message = rest.subspan(0, *length);
  used_ += *length;
  return Outcome::Message;
}

}  // namespace mesim::cira
