// A writer and a bounds-checked reader of fixed-layout binary messages, in either byte order: little-endian
// for AMTHI and MKHI, big-endian (network order) for APF. Byte order conversion is Boost.Endian's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/endian/conversion.hpp>

namespace mesim::core {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using boost::endian::order;

template <order Order>
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  ByteWriter& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  ByteWriter& u16(std::uint16_t v) { return put(v); }
  ByteWriter& u32(std::uint32_t v) { return put(v); }
  ByteWriter& bytes(ByteView v) {
    out_.insert(out_.end(), v.begin(), v.end());
    return *this;
  }
  ByteWriter& zeros(std::size_t n) {
    out_.insert(out_.end(), n, 0);
    return *this;
  }
  // `data` cut to `size` bytes and zero-padded to exactly `size`.
  ByteWriter& fixed(ByteView data, std::size_t size) {
    std::size_t n = std::min(data.size(), size);
    bytes(data.first(n));
    return zeros(size - n);
  }
  ByteWriter& fixed(std::string_view text, std::size_t size) { return fixed(asBytes(text), size); }
  // A u32 length, then the bytes (APF's strings and data, SSH style).
  ByteWriter& string(std::string_view s) { return data(asBytes(s)); }
  ByteWriter& data(ByteView v) { return u32(static_cast<std::uint32_t>(v.size())).bytes(v); }

 private:
  static ByteView asBytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
  template <class T>
  ByteWriter& put(T v) {
    std::uint8_t raw[sizeof(T)];
    boost::endian::endian_store<T, sizeof(T), Order>(raw, v);
    out_.insert(out_.end(), raw, raw + sizeof(T));
    return *this;
  }

  Bytes& out_;
};

// Reads past the end clear ok() and yield zero/empty, so a decoder checks once at the end. Lengths read from
// the message are checked against what is left before anything is allocated.
template <order Order>
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  bool ok() const { return ok_; }
  std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  bool atEnd() const { return ok_ && pos_ == in_.size(); }

  std::uint8_t u8() { return take(1) ? in_[pos_ - 1] : 0; }
  std::uint16_t u16() { return get<std::uint16_t>(); }
  std::uint32_t u32() { return get<std::uint32_t>(); }
  ByteView bytes(std::size_t n) { return take(n) ? in_.subspan(pos_ - n, n) : ByteView{}; }
  // A fixed-size, NUL-padded character field: the text up to the first NUL.
  std::string fixedString(std::size_t size) {
    ByteView raw = bytes(size);
    return std::string(raw.begin(), std::find(raw.begin(), raw.end(), std::uint8_t{0}));
  }
  // A u32 length, then that many bytes.
  Bytes data() {
    ByteView v = bytes(u32());
    return Bytes(v.begin(), v.end());
  }
  std::string string() {
    ByteView v = bytes(u32());
    return std::string(v.begin(), v.end());
  }
  Bytes rest() {
    ByteView v = bytes(remaining());
    return Bytes(v.begin(), v.end());
  }

 private:
  template <class T>
  T get() {
    return take(sizeof(T)) ? boost::endian::endian_load<T, sizeof(T), Order>(&in_[pos_ - sizeof(T)]) : T{0};
  }
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

}  // namespace mesim::core
