#include "wsman/redirection/rfb_client.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <utility>

#include "common/byte_order.h"
#include "wsman/redirection/vnc_auth.h"

namespace mesim::wsman::redirection {

namespace {
constexpr std::uint8_t kSecurityNone = 1;
constexpr std::uint8_t kSecurityVnc = 2;
constexpr std::uint32_t kMaxReason = 64 * 1024;  // a failure reason or a desktop name longer than this is garbage
constexpr std::uint32_t kMaxZrleLength = 64u << 20;
constexpr std::size_t kCompactAfter = 64 * 1024;

std::string reasonText(std::span<const std::uint8_t> bytes) {
  std::string text(bytes.begin(), bytes.end());
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) c = '?';
  return text;
}
}  // namespace

const char* toString(RfbClient::State state) {
  switch (state) {
    case RfbClient::State::AwaitVersion: return "await-version";
    case RfbClient::State::AwaitSecurityTypes: return "await-security-types";
    case RfbClient::State::AwaitSecurityType33: return "await-security-type";
    case RfbClient::State::AwaitChallenge: return "await-challenge";
    case RfbClient::State::AwaitSecurityResult: return "await-security-result";
    case RfbClient::State::AwaitServerInit: return "await-server-init";
    case RfbClient::State::Normal: return "normal";
    case RfbClient::State::Failed: return "failed";
  }
  return "?";
}

struct RfbClient::Zlib {
  z_stream z{};
  bool ok = false;
  Zlib() { ok = inflateInit(&z) == Z_OK; }
  ~Zlib() {
    if (ok) inflateEnd(&z);
  }
};

RfbClient::RfbClient(RfbClientOptions options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

RfbClient::~RfbClient() = default;

void RfbClient::send(std::vector<std::uint8_t> bytes) {
  if (callbacks_.write) callbacks_.write(std::move(bytes));
}

Result<> RfbClient::receive(std::span<const std::uint8_t> bytes) {
  if (state_ == State::Failed) return fail("the upstream RFB connection already failed");
  stats_.bytesIn += bytes.size();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  Result<> error;
  while (bufferStart_ < buffer_.size()) {
    const std::size_t used = consume(std::span(buffer_).subspan(bufferStart_), error);
    if (!error) {
      state_ = State::Failed;
      buffer_.clear();
      bufferStart_ = 0;
      return error;
    }
    if (used == 0) break;
    bufferStart_ += used;
  }
  if (bufferStart_ == buffer_.size()) {
    buffer_.clear();
    bufferStart_ = 0;
  } else if (bufferStart_ > kCompactAfter && bufferStart_ > buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(bufferStart_));
    bufferStart_ = 0;
  }
  return {};
}

std::size_t RfbClient::consume(std::span<const std::uint8_t> in, Result<>& error) {
  auto failWith = [&](std::string why) -> std::size_t {
    error = fail(std::move(why));
    return in.size();
  };
  // A u32 length and that many bytes of text after `at`: its size, or 0 while incomplete.
  auto reasonAt = [&](std::size_t at, std::string& text) -> std::size_t {
    if (in.size() < at + 4) return 0;
    const std::uint32_t length = bytes::be32(in, at);
    if (length > kMaxReason) return in.size();
    if (in.size() < at + 4 + length) return 0;
    text = reasonText(in.subspan(at + 4, length));
    return at + 4 + length;
  };
  auto clientInit = [&] {
    send({1});  // shared: the VM's other viewers stay connected
    state_ = State::AwaitServerInit;
  };
  switch (state_) {
    case State::AwaitVersion: {
      if (in.size() < 12) return 0;
      auto minor = rfb::parseVersion(in.first<12>());
      if (!minor) return failWith("the upstream did not start with an RFB version line");
      minor_ = *minor;
      const std::string line = "RFB 003.00" + std::to_string(minor_) + "\n";
      send(std::vector<std::uint8_t>(line.begin(), line.end()));
      state_ = minor_ == 3 ? State::AwaitSecurityType33 : State::AwaitSecurityTypes;
      return 12;
    }
    case State::AwaitSecurityTypes: {
      const unsigned count = in[0];
      if (count == 0) {
        std::string why;
        const std::size_t used = reasonAt(1, why);
        if (used == 0) return 0;
        return failWith("the upstream refused the connection: " + why);
      }
      if (in.size() < 1 + count) return 0;
      const auto types = in.subspan(1, count);
      std::uint8_t chosen = 0;
      if (std::find(types.begin(), types.end(), kSecurityNone) != types.end())
        chosen = kSecurityNone;
      else if (!options_.password.empty() && std::find(types.begin(), types.end(), kSecurityVnc) != types.end())
        chosen = kSecurityVnc;
      if (chosen == 0) {
        std::string offered;
        for (auto t : types) offered += (offered.empty() ? "" : ",") + std::to_string(t);
        return failWith("the upstream offers security types " + offered +
                        "; mesim speaks None, and VNC authentication when --kvm-host-password is set");
      }
      send({chosen});
      if (chosen == kSecurityVnc)
        state_ = State::AwaitChallenge;
      else if (minor_ == 8)
        state_ = State::AwaitSecurityResult;
      else
        clientInit();
      return 1 + count;
    }
    case State::AwaitSecurityType33: {
      if (in.size() < 4) return 0;
      const std::uint32_t type = bytes::be32(in, 0);
      if (type == 0) {
        std::string why;
        const std::size_t used = reasonAt(4, why);
        if (used == 0) return 0;
        return failWith("the upstream refused the connection: " + why);
      }
      if (type == kSecurityNone) {
        clientInit();
      } else if (type == kSecurityVnc) {
        if (options_.password.empty())
          return failWith("the upstream asks for VNC authentication and no --kvm-host-password is set");
        state_ = State::AwaitChallenge;
      } else {
        return failWith("the upstream chose security type " + std::to_string(type));
      }
      return 4;
    }
    case State::AwaitChallenge: {
      if (in.size() < 16) return 0;
      VncChallenge challenge;
      std::copy_n(in.begin(), 16, challenge.begin());
      auto response = vncAuthResponse(challenge, options_.password);
      if (!response) return failWith("VNC authentication: " + response.error().message);
      send(std::vector<std::uint8_t>(response->begin(), response->end()));
      state_ = State::AwaitSecurityResult;
      return 16;
    }
    case State::AwaitSecurityResult: {
      if (in.size() < 4) return 0;
      if (bytes::be32(in, 0) == 0) {
        clientInit();
        return 4;
      }
      std::string why = "no reason given";
      if (minor_ == 8 && reasonAt(4, why) == 0) return 0;
      return failWith("the upstream refused the login: " + why);
    }
    case State::AwaitServerInit: {
      if (in.size() < 24) return 0;
      const std::uint32_t nameLength = bytes::be32(in, 20);
      if (nameLength > kMaxReason) return failWith("the upstream's desktop name is " + std::to_string(nameLength) + " bytes");
      if (in.size() < 24 + nameLength) return 0;
      const unsigned width = bytes::be16(in, 0), height = bytes::be16(in, 2);
      if (width == 0 || height == 0 || width > options_.maxWidth || height > options_.maxHeight)
        return failWith("the upstream's screen is " + std::to_string(width) + "x" + std::to_string(height) +
                        " (1x1 to " + std::to_string(options_.maxWidth) + "x" + std::to_string(options_.maxHeight) + ")");
      name_ = reasonText(in.subspan(24, nameLength));
      width_ = width;
      height_ = height;
      pixels_.assign(std::size_t(width_) * height_, 0);
      // Our format from now on: nothing was requested in the server's own.
      format_ = rfb::PixelFormat::rgb888();
      send(rfb::encodeClientMessage(rfb::SetPixelFormat{format_}));
      std::vector<std::int32_t> encodings;
      if (options_.zrle) encodings.push_back(rfb::kEncodingZrle);
      encodings.push_back(rfb::kEncodingRaw);
      encodings.push_back(rfb::kEncodingDesktopSize);
      send(rfb::encodeClientMessage(rfb::SetEncodings{encodings}));
      state_ = State::Normal;
      if (callbacks_.ready) callbacks_.ready();
      if (watching_ && state_ == State::Normal) request(false);
      return 24 + nameLength;
    }
    case State::Normal:
      if (skipLeft_ > 0) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skipLeft_, in.size()));
        skipLeft_ -= n;
        return n;
      }
      return rectanglesLeft_ > 0 ? consumeRectangle(in, error) : consumeMessage(in, error);
    case State::Failed: return in.size();
  }
  return in.size();
}

std::size_t RfbClient::consumeMessage(std::span<const std::uint8_t> in, Result<>& error) {
  switch (in[0]) {
    case 0: {  // FramebufferUpdate
      if (in.size() < 4) return 0;
      rectanglesLeft_ = bytes::be16(in, 2);
      if (rectanglesLeft_ == 0) updateDone();
      return 4;
    }
    case 1: {  // SetColourMapEntries: we asked for true colour, so there is nothing to map
      if (in.size() < 6) return 0;
      const std::size_t length = 6 + 6 * std::size_t(bytes::be16(in, 4));
      return in.size() < length ? 0 : length;
    }
    case 2: return 1;  // Bell
    case 3: {          // ServerCutText: skipped as it comes, however long
      if (in.size() < 8) return 0;
      skipLeft_ = bytes::be32(in, 4);
      return 8;
    }
    default:
      error = fail("unknown RFB server message type " + std::to_string(in[0]));
      return in.size();
  }
}

std::size_t RfbClient::consumeRectangle(std::span<const std::uint8_t> in, Result<>& error) {
  if (in.size() < 12) return 0;
  const ScreenRect rect{bytes::be16(in, 0), bytes::be16(in, 2), bytes::be16(in, 4), bytes::be16(in, 6)};
  const auto encoding = static_cast<std::int32_t>(bytes::be32(in, 8));
  auto failWith = [&](std::string why) -> std::size_t {
    error = fail(std::move(why));
    return in.size();
  };
  auto done = [&](std::size_t used) {
    if (--rectanglesLeft_ == 0) updateDone();
    return used;
  };
  if (encoding == rfb::kEncodingDesktopSize) {
    if (rect.width == 0 || rect.height == 0 || rect.width > options_.maxWidth || rect.height > options_.maxHeight)
      return failWith("DesktopSize " + std::to_string(rect.width) + "x" + std::to_string(rect.height) + " (1x1 to " +
                      std::to_string(options_.maxWidth) + "x" + std::to_string(options_.maxHeight) + ")");
    resize(rect.width, rect.height);
    return done(12);
  }
  if (encoding != rfb::kEncodingRaw && encoding != rfb::kEncodingZrle)
    return failWith("rectangle in encoding " + std::to_string(encoding) + ", which was not asked for");
  if (rect.x + rect.width > width_ || rect.y + rect.height > height_)
    return failWith("rectangle " + std::to_string(rect.width) + "x" + std::to_string(rect.height) + " at " +
                    std::to_string(rect.x) + "," + std::to_string(rect.y) + " outside the " + std::to_string(width_) +
                    "x" + std::to_string(height_) + " screen");
  if (encoding == rfb::kEncodingRaw) {
    const unsigned bpp = format_.bytesPerPixel();
    const std::size_t length = 12 + std::size_t(rect.width) * rect.height * bpp;
    if (in.size() < length) return 0;
    std::size_t at = 12;
    for (unsigned y = rect.y; y < rect.y + rect.height; ++y) {
      auto* row = &pixels_[std::size_t(y) * width_];
      for (unsigned x = rect.x; x < rect.x + rect.width; ++x, at += bpp)
        row[x] = rfb::unpackPixel(format_, rfb::getPixel(in.subspan(at, bpp), format_));
    }
    ++stats_.rectangles;
    drawn_ = drawn_.united(rect);
    return done(length);
  }
  if (in.size() < 16) return 0;
  const std::uint32_t length = bytes::be32(in, 12);
  if (length > kMaxZrleLength) return failWith("ZRLE rectangle of " + std::to_string(length) + " bytes");
  if (in.size() < 16 + std::size_t(length)) return 0;
  if (auto r = decodeZrle(rect, in.subspan(16, length)); !r) return failWith(r.error().message);
  ++stats_.rectangles;
  ++stats_.zrleRectangles;
  drawn_ = drawn_.united(rect);
  return done(16 + std::size_t(length));
}

Result<> RfbClient::decodeZrle(const ScreenRect& rect, std::span<const std::uint8_t> data) {
  if (!zlib_) zlib_ = std::make_unique<Zlib>();
  if (!zlib_->ok) return fail("zlib inflateInit failed");
  bool low = true;
  const unsigned cp = rfb::cpixelSize(format_, &low);
  // The most a well-formed rectangle inflates to: per tile a subencoding byte and a palette, per pixel a CPIXEL
  // and a run byte, and the 255s of long runs. More is garbage; so the buffer is bounded.
  const std::size_t tiles = std::size_t((rect.width + 63) / 64) * ((rect.height + 63) / 64);
  const std::size_t pixels = std::size_t(rect.width) * rect.height;
  const std::size_t cap = tiles * (1 + 128 * cp + 4096 / 255 + 16) + pixels * (cp + 1) + 64;
  if (inflated_.size() < cap + 1) inflated_.resize(cap + 1);
  auto& z = zlib_->z;
  z.next_in = const_cast<std::uint8_t*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = inflated_.data();
  z.avail_out = static_cast<uInt>(cap + 1);
  while (z.avail_in > 0 && z.avail_out > 0) {
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_BUF_ERROR) break;
    if (rc != Z_OK) return fail(rc == Z_STREAM_END ? "the ZRLE zlib stream ended" : "ZRLE data is not a zlib stream");
  }
  if (z.avail_in > 0 || z.avail_out == 0) return fail("ZRLE data inflates to more than its rectangle can hold");
  const std::size_t size = cap + 1 - z.avail_out;

  std::size_t at = 0;
  bool truncated = false;
  auto byte = [&]() -> unsigned {
    if (at >= size) {
      truncated = true;
      return 0;
    }
    return inflated_[at++];
  };
  auto cpixel = [&]() -> std::uint32_t {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < cp; ++i) {
      const unsigned shift = format_.bigEndian ? 8 * (cp - 1 - i) : 8 * i;
      v |= std::uint32_t(byte()) << shift;
    }
    if (cp == 3 && !low) v <<= 8;
    return rfb::unpackPixel(format_, v);
  };
  auto runLength = [&]() -> std::size_t {
    std::size_t n = 1;
    unsigned b;
    do {
      b = byte();
      n += b;
    } while (b == 255 && !truncated);
    return n;
  };
  std::array<std::uint32_t, 128> palette{};
  for (unsigned ty = rect.y; ty < rect.y + rect.height; ty += 64)
    for (unsigned tx = rect.x; tx < rect.x + rect.width; tx += 64) {
      const unsigned tw = std::min(64u, rect.x + rect.width - tx), th = std::min(64u, rect.y + rect.height - ty);
      const std::size_t count = std::size_t(tw) * th;
      auto put = [&](std::size_t index, std::uint32_t rgb) {
        pixels_[std::size_t(ty + index / tw) * width_ + tx + index % tw] = rgb;
      };
      const unsigned sub = byte();
      if (sub == 0) {
        for (std::size_t i = 0; i < count && !truncated; ++i) put(i, cpixel());
      } else if (sub == 1) {
        const auto rgb = cpixel();
        for (std::size_t i = 0; i < count && !truncated; ++i) put(i, rgb);
      } else if (sub <= 16) {
        for (unsigned i = 0; i < sub; ++i) palette[i] = cpixel();
        const unsigned bits = sub <= 2 ? 1 : sub <= 4 ? 2 : 4;
        for (unsigned j = 0; j < th && !truncated; ++j) {
          unsigned have = 0, value = 0;
          for (unsigned i = 0; i < tw; ++i) {
            if (have == 0) {
              value = byte();
              have = 8;
            }
            have -= bits;
            const unsigned index = (value >> have) & ((1u << bits) - 1);
            if (index >= sub) return fail("ZRLE palette index " + std::to_string(index) + " of " + std::to_string(sub));
            put(std::size_t(j) * tw + i, palette[index]);
          }
        }
      } else if (sub == 128) {  // plain RLE
        for (std::size_t i = 0; i < count && !truncated;) {
          const auto rgb = cpixel();
          const std::size_t run = runLength();
          if (run > count - i) return fail("ZRLE run beyond its tile");
          for (std::size_t k = 0; k < run; ++k) put(i++, rgb);
        }
      } else if (sub >= 130) {  // palette RLE
        const unsigned colours = sub - 128;
        for (unsigned i = 0; i < colours; ++i) palette[i] = cpixel();
        for (std::size_t i = 0; i < count && !truncated;) {
          const unsigned b = byte();
          const unsigned index = b & 127;
          if (index >= colours) return fail("ZRLE palette index " + std::to_string(index) + " of " + std::to_string(colours));
          const std::size_t run = b & 128 ? runLength() : 1;
          if (run > count - i) return fail("ZRLE run beyond its tile");
          for (std::size_t k = 0; k < run; ++k) put(i++, palette[index]);
        }
      } else {
        return fail("ZRLE subencoding " + std::to_string(sub) + " is not defined");
      }
      if (truncated) return fail("ZRLE data ends inside a tile");
    }
  if (at != size) return fail("ZRLE rectangle has " + std::to_string(size - at) + " bytes after its tiles");
  return {};
}

void RfbClient::resize(unsigned width, unsigned height) {
  ++stats_.resizes;
  width_ = width;
  height_ = height;
  pixels_.assign(std::size_t(width_) * height_, 0);
  drawn_ = {};  // what was drawn before is gone; the server sends the new picture
  resized_ = true;
}

void RfbClient::updateDone() {
  requestPending_ = false;
  ++stats_.updates;
  const ScreenRect drawn = resized_ ? ScreenRect{0, 0, width_, height_} : drawn_;
  drawn_ = {};
  // The size first, so that a viewer gets DesktopSize and the new picture in one update.
  if (std::exchange(resized_, false) && callbacks_.resized) callbacks_.resized();
  if (!drawn.empty() && callbacks_.changed) callbacks_.changed(drawn);
  if (watching_) request(true);
}

void RfbClient::request(bool incremental) {
  if (state_ != State::Normal || requestPending_) return;
  requestPending_ = true;
  ++stats_.requests;
  send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{incremental, 0, 0, static_cast<std::uint16_t>(width_),
                                                              static_cast<std::uint16_t>(height_)}));
}

void RfbClient::setWatching(bool watching) {
  watching_ = watching;
  // No request outstanding means the picture may be stale (no one asked since the last update): a full one.
  if (watching_) request(false);
}

void RfbClient::keyEvent(bool down, std::uint32_t keysym) {
  if (state_ != State::Normal) return;
  ++stats_.keyEvents;
  send(rfb::encodeClientMessage(rfb::KeyEvent{down, keysym}));
}

void RfbClient::pointerEvent(std::uint8_t buttons, std::uint16_t x, std::uint16_t y) {
  if (state_ != State::Normal) return;
  ++stats_.pointerEvents;
  const auto cx = static_cast<std::uint16_t>(std::min<unsigned>(x, width_ - 1));
  const auto cy = static_cast<std::uint16_t>(std::min<unsigned>(y, height_ - 1));
  send(rfb::encodeClientMessage(rfb::PointerEvent{buttons, cx, cy}));
}

}  // namespace mesim::wsman::redirection
