// Little-endian writer and bounds-checked reader shared by the AMTHI and MKHI codecs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "hostif/link/hbm_wire.h"

namespace mesim::clients {

using hbm::Bytes;
using hbm::ByteView;

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  ByteWriter& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  ByteWriter& u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v));
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    return *this;
  }
  ByteWriter& u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  ByteWriter& bytes(ByteView v) {
    out_.insert(out_.end(), v.begin(), v.end());
    return *this;
  }
  ByteWriter& zeros(std::size_t n) {
    out_.insert(out_.end(), n, 0);
    return *this;
  }
  // `text` cut to `size` bytes and zero-padded to exactly `size`.
  ByteWriter& fixed(std::string_view text, std::size_t size) {
    std::size_t n = std::min(text.size(), size);
    out_.insert(out_.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
    return zeros(size - n);
  }
  ByteWriter& fixed(ByteView data, std::size_t size) {
    std::size_t n = std::min(data.size(), size);
    out_.insert(out_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    return zeros(size - n);
  }

 private:
  Bytes& out_;
};

// Reads past the end set `ok()` to false and yield zeros, so a decoder checks once at the end.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  bool ok() const { return ok_; }
  std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  bool atEnd() const { return ok_ && pos_ == in_.size(); }

  std::uint8_t u8() { return take(1) ? in_[pos_ - 1] : 0; }
  std::uint16_t u16() {
    if (!take(2)) return 0;
    return static_cast<std::uint16_t>(in_[pos_ - 2] | in_[pos_ - 1] << 8);
  }
  std::uint32_t u32() {
    if (!take(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | in_[pos_ - 4 + static_cast<std::size_t>(i)];
    return v;
  }
  ByteView bytes(std::size_t n) {
    if (!take(n)) return {};
    return in_.subspan(pos_ - n, n);
  }
  // A fixed-size, NUL-padded character field: the text up to the first NUL.
  std::string fixedString(std::size_t size) {
    ByteView raw = bytes(size);
    auto end = std::find(raw.begin(), raw.end(), std::uint8_t{0});
    return std::string(raw.begin(), end);
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace mesim::clients
