// Cuts an MPS's TLS byte stream into APF messages (spec/apf.md §1: over CIRA, messages are a plain stream whose
// lengths follow from each type's layout). Pure: no I/O. The CIRA tunnel feeds it what it reads; the fuzz harness
// feeds it anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "hostif/link/hbm_wire.h"

namespace mesim::cira {

class ApfStreamReader {
 public:
  // A frame longer than this ends the tunnel: the largest an MPS sends is a CHANNEL_DATA within the window the ME
  // granted, and both MPSes cap that at 1 MiB (spec/apf.md §3).
  static constexpr std::size_t kMaxFrame = (std::size_t{1} << 20) + 64;

  enum class Outcome { Message, NeedMore, UnknownType, TooLong };

  void append(hbm::ByteView bytes) { buffer_.insert(buffer_.end(), bytes.begin(), bytes.end()); }
  // The next whole message in `message` (valid until the next call), or why there is none. After UnknownType or
  // TooLong the stream cannot be resynchronised: the caller ends the tunnel.
  Outcome next(hbm::ByteView& message);
  // Why the last next() failed, for the log.
  std::string error() const { return error_; }
  std::size_t buffered() const { return buffer_.size() - used_; }

 private:
  hbm::Bytes buffer_;
  std::size_t used_ = 0;  // bytes of buffer_ already handed out
  std::string error_;
};

}  // namespace mesim::cira
