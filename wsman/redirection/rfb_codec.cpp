#include "wsman/redirection/rfb_codec.h"

#include <zlib.h>

#include <algorithm>
#include <array>

#include "common/byte_order.h"

namespace mesim::wsman::redirection::rfb {

namespace {
void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
bool isMask(std::uint16_t max) { return max != 0 && (max & (max + 1u)) == 0; }
unsigned bitsOf(std::uint16_t max) {
  unsigned n = 0;
  while (max >> n) ++n;
  return n;
}
std::uint32_t scale(std::uint32_t value, std::uint32_t from, std::uint32_t to) {
  return from == 0 ? 0 : (value * to + from / 2) / from;
}
}  // namespace

std::optional<std::string> PixelFormat::unsupported() const {
  if (bitsPerPixel != 8 && bitsPerPixel != 16 && bitsPerPixel != 32)
    return "bits-per-pixel " + std::to_string(bitsPerPixel) + " (8, 16 or 32)";
  if (!trueColour) return std::string("colour-map pixel formats (true colour only)");
  if (!isMask(redMax) || !isMask(greenMax) || !isMask(blueMax)) return std::string("colour maxima that are not 2^n-1");
  const unsigned bits = bitsPerPixel;
  if (redShift + bitsOf(redMax) > bits || greenShift + bitsOf(greenMax) > bits || blueShift + bitsOf(blueMax) > bits)
    return std::string("colour shifts beyond the pixel's bits");
  return std::nullopt;
}

std::uint32_t packPixel(const PixelFormat& f, std::uint32_t rgb) {
  const std::uint32_t r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
  return scale(r, 255, f.redMax) << f.redShift | scale(g, 255, f.greenMax) << f.greenShift |
         scale(b, 255, f.blueMax) << f.blueShift;
}

std::uint32_t unpackPixel(const PixelFormat& f, std::uint32_t v) {
  const std::uint32_t r = scale((v >> f.redShift) & f.redMax, f.redMax, 255);
  const std::uint32_t g = scale((v >> f.greenShift) & f.greenMax, f.greenMax, 255);
  const std::uint32_t b = scale((v >> f.blueShift) & f.blueMax, f.blueMax, 255);
  return r << 16 | g << 8 | b;
}

void putPixel(Bytes& out, const PixelFormat& f, std::uint32_t value) {
  const unsigned n = f.bytesPerPixel();
  for (unsigned i = 0; i < n; ++i) {
    const unsigned shift = f.bigEndian ? 8 * (n - 1 - i) : 8 * i;
    out.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}

std::uint32_t getPixel(std::span<const std::uint8_t> in, const PixelFormat& f) {
  const unsigned n = f.bytesPerPixel();
  std::uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i) {
    const unsigned shift = f.bigEndian ? 8 * (n - 1 - i) : 8 * i;
    v |= std::uint32_t(in[i]) << shift;
  }
  return v;
}

void encodePixelFormat(Bytes& out, const PixelFormat& f) {
  out.push_back(f.bitsPerPixel);
  out.push_back(f.depth);
  out.push_back(f.bigEndian ? 1 : 0);
  out.push_back(f.trueColour ? 1 : 0);
  put16(out, f.redMax);
  put16(out, f.greenMax);
  put16(out, f.blueMax);
  out.push_back(f.redShift);
  out.push_back(f.greenShift);
  out.push_back(f.blueShift);
  out.insert(out.end(), 3, 0);
}

PixelFormat decodePixelFormat(std::span<const std::uint8_t, 16> in) {
  PixelFormat f;
  f.bitsPerPixel = in[0];
  f.depth = in[1];
  f.bigEndian = in[2] != 0;
  f.trueColour = in[3] != 0;
  f.redMax = bytes::be16(in, 4);
  f.greenMax = bytes::be16(in, 6);
  f.blueMax = bytes::be16(in, 8);
  f.redShift = in[10];
  f.greenShift = in[11];
  f.blueShift = in[12];
  return f;
}

Result<std::optional<DecodedClientMessage>> decodeClientMessage(std::span<const std::uint8_t> in) {
  using Out = std::optional<DecodedClientMessage>;
  if (in.empty()) return Out{};
  switch (in[0]) {
    case 0: {
      if (in.size() < 20) return Out{};
      SetPixelFormat m{decodePixelFormat(in.subspan<4, 16>())};
      if (auto why = m.format.unsupported()) return fail("SetPixelFormat: unsupported " + *why);
      return Out{DecodedClientMessage{m, 20}};
    }
    case 2: {
      if (in.size() < 4) return Out{};
      const std::size_t count = bytes::be16(in, 2);
      if (count > kMaxEncodings) return fail("SetEncodings: " + std::to_string(count) + " encodings is too many");
      if (in.size() < 4 + 4 * count) return Out{};
      SetEncodings m;
      for (std::size_t i = 0; i < count; ++i) m.encodings.push_back(static_cast<std::int32_t>(bytes::be32(in, 4 + 4 * i)));
      return Out{DecodedClientMessage{std::move(m), 4 + 4 * count}};
    }
    case 3: {
      if (in.size() < 10) return Out{};
      FramebufferUpdateRequest m{in[1] != 0, bytes::be16(in, 2), bytes::be16(in, 4), bytes::be16(in, 6), bytes::be16(in, 8)};
      return Out{DecodedClientMessage{m, 10}};
    }
    case 4: {
      if (in.size() < 8) return Out{};
      return Out{DecodedClientMessage{KeyEvent{in[1] != 0, bytes::be32(in, 4)}, 8}};
    }
    case 5: {
      if (in.size() < 6) return Out{};
      return Out{DecodedClientMessage{PointerEvent{in[1], bytes::be16(in, 2), bytes::be16(in, 4)}, 6}};
    }
    case 6: {
      if (in.size() < 8) return Out{};
      const std::size_t length = bytes::be32(in, 4);
      if (length > kMaxCutText) return fail("ClientCutText of " + std::to_string(length) + " bytes is too long");
      if (in.size() < 8 + length) return Out{};
      ClientCutText m{std::string(reinterpret_cast<const char*>(in.data()) + 8, length)};
      return Out{DecodedClientMessage{std::move(m), 8 + length}};
    }
    default:
      return fail("unknown RFB client message type " + std::to_string(in[0]));
  }
}

Bytes encodeClientMessage(const ClientMessage& message) {
  Bytes out;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, SetPixelFormat>) {
          out = {0, 0, 0, 0};
          encodePixelFormat(out, m.format);
        } else if constexpr (std::is_same_v<T, SetEncodings>) {
          out = {2, 0};
          put16(out, static_cast<std::uint16_t>(m.encodings.size()));
          for (auto e : m.encodings) put32(out, static_cast<std::uint32_t>(e));
        } else if constexpr (std::is_same_v<T, FramebufferUpdateRequest>) {
          out = {3, static_cast<std::uint8_t>(m.incremental ? 1 : 0)};
          put16(out, m.x);
          put16(out, m.y);
          put16(out, m.width);
          put16(out, m.height);
        } else if constexpr (std::is_same_v<T, KeyEvent>) {
          out = {4, static_cast<std::uint8_t>(m.down ? 1 : 0), 0, 0};
          put32(out, m.keysym);
        } else if constexpr (std::is_same_v<T, PointerEvent>) {
          out = {5, m.buttons};
          put16(out, m.x);
          put16(out, m.y);
        } else {
          out = {6, 0, 0, 0};
          put32(out, static_cast<std::uint32_t>(m.text.size()));
          out.insert(out.end(), m.text.begin(), m.text.end());
        }
      },
      message);
  return out;
}

Result<unsigned> parseVersion(std::span<const std::uint8_t, 12> line) {
  const std::string text(line.begin(), line.end());
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.compare(0, 4, "RFB ") != 0 || text[7] != '.' || text[11] != '\n' ||
      !std::all_of(text.begin() + 4, text.begin() + 7, digit) || !std::all_of(text.begin() + 8, text.begin() + 11, digit))
    return fail("not an RFB version line");
  const int major = std::stoi(text.substr(4, 3)), minor = std::stoi(text.substr(8, 3));
  if (major == 3) return minor >= 8 ? 8u : minor == 7 ? 7u : 3u;
  if (major == 4) return 8u;  // RealVNC's 4.x speaks 3.8 to servers that offer it
  return fail("RFB version " + text.substr(4, 7) + " is not served");
}

Bytes encodeServerInit(std::uint16_t width, std::uint16_t height, const PixelFormat& format, const std::string& name) {
  Bytes out;
  put16(out, width);
  put16(out, height);
  encodePixelFormat(out, format);
  put32(out, static_cast<std::uint32_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
  return out;
}

void encodeUpdateHeader(Bytes& out, std::uint16_t rectangles) {
  out.push_back(0);
  out.push_back(0);
  put16(out, rectangles);
}

void encodeRectHeader(Bytes& out, const ScreenRect& rect, std::int32_t encoding) {
  put16(out, static_cast<std::uint16_t>(rect.x));
  put16(out, static_cast<std::uint16_t>(rect.y));
  put16(out, static_cast<std::uint16_t>(rect.width));
  put16(out, static_cast<std::uint16_t>(rect.height));
  put32(out, static_cast<std::uint32_t>(encoding));
}

namespace {
// Writes `n` bytes of `value` at `to` in the format's byte order: the per-pixel path of RAW and ZRLE, which a
// full screen runs 786,432 times (bench_kvm), so no push_back per byte.
inline void storePixel(std::uint8_t* to, unsigned n, bool bigEndian, std::uint32_t value) {
  for (unsigned i = 0; i < n; ++i) to[i] = static_cast<std::uint8_t>(value >> (bigEndian ? 8 * (n - 1 - i) : 8 * i));
}
}  // namespace

void encodeRaw(Bytes& out, const std::vector<std::uint32_t>& screen, unsigned stride, const ScreenRect& rect,
               const PixelFormat& format) {
  const unsigned n = format.bytesPerPixel();
  std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(rect.width) * rect.height * n);
  std::uint8_t* to = out.data() + at;
  std::uint32_t lastRgb = ~0u, lastValue = 0;
  for (unsigned y = rect.y; y < rect.y + rect.height; ++y) {
    const std::uint32_t* row = screen.data() + static_cast<std::size_t>(y) * stride;
    for (unsigned x = rect.x; x < rect.x + rect.width; ++x, to += n) {
      const std::uint32_t rgb = row[x];
      if (rgb != lastRgb) lastValue = packPixel(format, lastRgb = rgb);
      storePixel(to, n, format.bigEndian, lastValue);
    }
  }
}

std::vector<ScreenRect> tiles(const ScreenRect& area, unsigned tile) {
  std::vector<ScreenRect> out;
  for (unsigned y = area.y; y < area.y + area.height; y += tile)
    for (unsigned x = area.x; x < area.x + area.width; x += tile)
      out.push_back({x, y, std::min(tile, area.x + area.width - x), std::min(tile, area.y + area.height - y)});
  return out;
}

unsigned cpixelSize(const PixelFormat& f, bool* lowBytes) {
  if (lowBytes) *lowBytes = true;
  if (!f.trueColour || f.bitsPerPixel != 32 || f.depth > 24) return f.bytesPerPixel();
  const std::uint32_t mask = std::uint32_t(f.redMax) << f.redShift | std::uint32_t(f.greenMax) << f.greenShift |
                             std::uint32_t(f.blueMax) << f.blueShift;
  if ((mask & 0xFF000000u) == 0) return 3;
  if ((mask & 0x000000FFu) == 0) {
    if (lowBytes) *lowBytes = false;
    return 3;
  }
  return 4;
}

namespace {
void putCpixel(Bytes& out, const PixelFormat& f, unsigned size, bool low, std::uint32_t value) {
  const std::size_t at = out.size();
  out.resize(at + size);
  storePixel(out.data() + at, size, f.bigEndian, size == 3 && !low ? value >> 8 : value);
}
}  // namespace

struct ZrleEncoder::Stream {
  z_stream z{};
  bool ok = false;
};

ZrleEncoder::ZrleEncoder() : stream_(std::make_unique<Stream>()) {
  // Level 1: on a full screen of text it deflates twice as fast as the default level 6 for 10-20% more bytes
  // (bench_kvm: 16 bpp 45 -> 100 frames/s in memory, 47 -> 57 KiB a frame); the loop's CPU is what is scarce.
  stream_->ok = deflateInit(&stream_->z, Z_BEST_SPEED) == Z_OK;
}

ZrleEncoder::~ZrleEncoder() {
  if (stream_->ok) deflateEnd(&stream_->z);
}

Result<> ZrleEncoder::encode(Bytes& out, const std::vector<std::uint32_t>& screen, unsigned stride,
                             const ScreenRect& rect, const PixelFormat& format) {
  if (!stream_->ok) return fail("zlib deflateInit failed");
  bool low = true;
  const unsigned cp = cpixelSize(format, &low);
  tileBytes_.clear();
  std::vector<std::uint32_t> values;
  for (const auto& t : tiles(rect)) {
    values.clear();
    std::array<std::uint32_t, 16> palette{};
    unsigned colours = 0;
    bool overflow = false;
    // Runs of one colour are the rule on a screen: the last pixel's value and its palette slot are remembered.
    std::uint32_t lastRgb = ~0u, v = 0;
    for (unsigned y = t.y; y < t.y + t.height; ++y)
      for (unsigned x = t.x; x < t.x + t.width; ++x) {
        const std::uint32_t rgb = screen[static_cast<std::size_t>(y) * stride + x];
        if (rgb == lastRgb) {
          values.push_back(v);
          continue;
        }
        v = packPixel(format, lastRgb = rgb);
        values.push_back(v);
        if (overflow) continue;
        if (std::find(palette.begin(), palette.begin() + colours, v) == palette.begin() + colours) {
          if (colours == palette.size()) overflow = true;
          else palette[colours++] = v;
        }
      }
    if (!overflow && colours == 1) {
      tileBytes_.push_back(1);  // solid
      putCpixel(tileBytes_, format, cp, low, palette[0]);
    } else if (!overflow) {
      tileBytes_.push_back(static_cast<std::uint8_t>(colours));  // packed palette
      for (unsigned i = 0; i < colours; ++i) putCpixel(tileBytes_, format, cp, low, palette[i]);
      const unsigned bits = colours <= 2 ? 1 : colours <= 4 ? 2 : 4;
      std::size_t at = 0;
      std::uint32_t lastValue = palette[0];
      unsigned index = 0;
      for (unsigned y = 0; y < t.height; ++y) {
        unsigned byte = 0, used = 0;
        for (unsigned x = 0; x < t.width; ++x) {
          if (const std::uint32_t value = values[at++]; value != lastValue)
            index = static_cast<unsigned>(std::find(palette.begin(), palette.begin() + colours, lastValue = value) -
                                          palette.begin());
          byte = byte << bits | index;
          used += bits;
          if (used == 8) {
            tileBytes_.push_back(static_cast<std::uint8_t>(byte));
            byte = used = 0;
          }
        }
        if (used) tileBytes_.push_back(static_cast<std::uint8_t>(byte << (8 - used)));
      }
    } else {
      tileBytes_.push_back(0);  // raw
      std::size_t at = tileBytes_.size();
      tileBytes_.resize(at + values.size() * cp);
      for (auto value : values) {
        storePixel(tileBytes_.data() + at, cp, format.bigEndian, cp == 3 && !low ? value >> 8 : value);
        at += cp;
      }
    }
  }
  // Deflate the tiles onto the connection's stream, flushed so the client can decode this rectangle now.
  auto& z = stream_->z;
  z.next_in = tileBytes_.data();
  z.avail_in = static_cast<uInt>(tileBytes_.size());
  const std::size_t lengthAt = out.size();
  put32(out, 0);
  std::array<std::uint8_t, 16384> chunk;  // deflate writes it; no need to clear
  do {
    z.next_out = chunk.data();
    z.avail_out = static_cast<uInt>(chunk.size());
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return fail("zlib deflate failed");
    out.insert(out.end(), chunk.data(), chunk.data() + (chunk.size() - z.avail_out));
  } while (z.avail_out == 0);
  const auto length = static_cast<std::uint32_t>(out.size() - lengthAt - 4);
  for (int i = 0; i < 4; ++i) out[lengthAt + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
  return {};
}

}  // namespace mesim::wsman::redirection::rfb
