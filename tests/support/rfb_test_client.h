// Test-side RFB decoding (header-only): a framebuffer that applies FramebufferUpdate messages in RAW and ZRLE (and
// DesktopSize), with
// its own zlib inflate stream, written from RFC 6143 rather than from the server's encoder, so tests of the
// encoder and of the daemon check real pictures. Shared by the unit and the integration tests.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "wsman/redirection/rfb_codec.h"

namespace mesim::test {

class RfbPicture {
 public:
  RfbPicture(unsigned width, unsigned height, wsman::redirection::rfb::PixelFormat format)
      : width_(width), height_(height), format_(format), pixels_(std::size_t(width) * height, 0xFF00FF) {
    if (inflateInit(&z_) != Z_OK) throw std::runtime_error("inflateInit");
  }
  ~RfbPicture() { inflateEnd(&z_); }
  RfbPicture(const RfbPicture&) = delete;
  RfbPicture& operator=(const RfbPicture&) = delete;

  void setFormat(const wsman::redirection::rfb::PixelFormat& f) {
    format_ = f;
    cached_ = false;
  }
  // Applies one FramebufferUpdate from the front of `in`; the bytes it used, or nothing if `in` holds less than
  // a whole message. Throws on what it cannot decode.
  std::optional<std::size_t> applyUpdate(std::span<const std::uint8_t> in) {
    std::size_t at = 0;
    pendingZrle_.clear();
    auto need = [&](std::size_t n) { return at + n <= in.size(); };
    if (!need(4)) return std::nullopt;
    if (in[0] != 0) throw std::runtime_error("not a FramebufferUpdate: type " + std::to_string(in[0]));
    const unsigned count = be16(in, 2);
    at = 4;
    for (unsigned r = 0; r < count; ++r) {
      if (!need(12)) return std::nullopt;
      const unsigned x = be16(in, at), y = be16(in, at + 2), w = be16(in, at + 4), h = be16(in, at + 6);
      const auto encoding = static_cast<std::int32_t>(be32(in, at + 8));
      at += 12;
      if (encoding == wsman::redirection::rfb::kEncodingDesktopSize) {  // the screen's new size; its picture follows
        width_ = w;
        height_ = h;
        pixels_.assign(std::size_t(w) * h, 0xFF00FF);
        ++resizes;
        continue;
      }
      if (x + w > width_ || y + h > height_) throw std::runtime_error("rectangle outside the screen");
      maxRectSide = std::max({maxRectSide, w, h});
      const unsigned bpp = format_.bytesPerPixel();
      if (encoding == wsman::redirection::rfb::kEncodingRaw) {
        if (!need(std::size_t(w) * h * bpp)) return std::nullopt;
        for (unsigned j = 0; j < h; ++j)
          for (unsigned i = 0; i < w; ++i, at += bpp) set(x + i, y + j, wsman::redirection::rfb::getPixel(in.subspan(at), format_));
      } else if (encoding == wsman::redirection::rfb::kEncodingZrle) {
        if (!need(4)) return std::nullopt;
        const std::size_t length = be32(in, at);
        if (!need(4 + length)) return std::nullopt;
        // Only inflate once the whole message is here: the stream's state must not advance twice.
        pendingZrle_.push_back({x, y, w, h, at + 4, length});
        at += 4 + length;
      } else {
        throw std::runtime_error("unexpected encoding " + std::to_string(encoding));
      }
    }
    for (const auto& z : pendingZrle_) decodeZrle(z, in);
    pendingZrle_.clear();
    ++updates;
    return at;
  }

  unsigned width() const { return width_; }
  unsigned height() const { return height_; }
  // 0x00RRGGBB as the viewer sees it (scaled back from the wire format).
  std::uint32_t rgb(unsigned x, unsigned y) const { return pixels_[std::size_t(y) * width_ + x]; }
  const std::vector<std::uint32_t>& pixels() const { return pixels_; }
  unsigned maxRectSide = 0;
  unsigned updates = 0;
  unsigned resizes = 0;  // DesktopSize rectangles

 private:
  struct Zrle {
    unsigned x, y, w, h;
    std::size_t at, length;
  };
  static unsigned be16(std::span<const std::uint8_t> b, std::size_t at) { return unsigned(b[at]) << 8 | b[at + 1]; }
  static std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3];
  }
  void set(unsigned x, unsigned y, std::uint32_t value) {
    if (!cached_ || value != lastValue_) {
      lastRgb_ = wsman::redirection::rfb::unpackPixel(format_, lastValue_ = value);
      cached_ = true;
    }
    pixels_[std::size_t(y) * width_ + x] = lastRgb_;
  }

  void decodeZrle(const Zrle& rect, std::span<const std::uint8_t> in) {
    auto& out = inflated_;  // kept: a full screen of ZRLE is 192 rectangles
    out.resize(1 << 20);
    z_.next_in = const_cast<std::uint8_t*>(in.data() + rect.at);
    z_.avail_in = static_cast<uInt>(rect.length);
    std::vector<std::uint8_t> data;
    while (z_.avail_in > 0) {
      z_.next_out = out.data();
      z_.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("inflate failed");
      data.insert(data.end(), out.data(), out.data() + (out.size() - z_.avail_out));
      if (rc == Z_BUF_ERROR) break;
    }
    bool low = true;
    const unsigned cp = wsman::redirection::rfb::cpixelSize(format_, &low);
    std::size_t at = 0;
    auto byte = [&]() {
      if (at >= data.size()) throw std::runtime_error("ZRLE data ends early");
      return data[at++];
    };
    auto cpixel = [&]() {
      std::uint32_t v = 0;
      for (unsigned i = 0; i < cp; ++i) {
        const unsigned shift = format_.bigEndian ? 8 * (cp - 1 - i) : 8 * i;
        v |= std::uint32_t(byte()) << shift;
      }
      return (cp == 3 && !low) ? v << 8 : v;
    };
    for (unsigned ty = rect.y; ty < rect.y + rect.h; ty += 64)
      for (unsigned tx = rect.x; tx < rect.x + rect.w; tx += 64) {
        const unsigned tw = std::min(64u, rect.x + rect.w - tx), th = std::min(64u, rect.y + rect.h - ty);
        const unsigned sub = byte();
        if (sub == 0) {
          for (unsigned j = 0; j < th; ++j)
            for (unsigned i = 0; i < tw; ++i) set(tx + i, ty + j, cpixel());
        } else if (sub == 1) {
          const auto v = cpixel();
          for (unsigned j = 0; j < th; ++j)
            for (unsigned i = 0; i < tw; ++i) set(tx + i, ty + j, v);
        } else if (sub <= 16) {
          std::vector<std::uint32_t> palette;
          for (unsigned i = 0; i < sub; ++i) palette.push_back(cpixel());
          const unsigned bits = sub <= 2 ? 1 : sub <= 4 ? 2 : 4;
          for (unsigned j = 0; j < th; ++j) {
            unsigned have = 0, value = 0;
            for (unsigned i = 0; i < tw; ++i) {
              if (have == 0) {
                value = byte();
                have = 8;
              }
              have -= bits;
              const unsigned index = (value >> have) & ((1u << bits) - 1);
              if (index >= palette.size()) throw std::runtime_error("palette index out of range");
              set(tx + i, ty + j, palette[index]);
            }
          }
        } else {
          throw std::runtime_error("ZRLE subencoding " + std::to_string(sub) + " not expected from this server");
        }
      }
    if (at != data.size()) throw std::runtime_error("ZRLE rectangle has trailing bytes");
  }

  unsigned width_, height_;
  wsman::redirection::rfb::PixelFormat format_;
  std::vector<std::uint32_t> pixels_;
  std::uint32_t lastValue_ = 0, lastRgb_ = 0;  // the last pixel converted: runs of one colour are the rule
  bool cached_ = false;
  std::vector<std::uint8_t> inflated_;
  z_stream z_{};
  std::vector<Zrle> pendingZrle_;
};

}  // namespace mesim::test
