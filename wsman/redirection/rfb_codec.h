// RFB (RFC 6143, "VNC") as bytes, pure: the client's messages decoded from a buffer (or "need more", or why they
// never will be), the server's encoded: ServerInit, FramebufferUpdate rectangles in RAW and ZRLE, pixel formats.
// No socket and no state but the ZRLE encoder's zlib stream (one per connection, as the protocol requires).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "wsman/redirection/kvm_screen_source.h"

namespace mesim::wsman::redirection::rfb {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::int32_t kEncodingRaw = 0;
inline constexpr std::int32_t kEncodingZrle = 16;
inline constexpr std::int32_t kEncodingDesktopSize = -223;
inline constexpr std::int32_t kEncodingIntelDataChannel = 1092;
inline constexpr unsigned kMaxTile = 64;  // ZRLE's tile side; MeshCentral also drops RAW rects larger than this

struct PixelFormat {
  std::uint8_t bitsPerPixel = 32;
  std::uint8_t depth = 24;
  bool bigEndian = false;
  bool trueColour = true;
  std::uint16_t redMax = 255, greenMax = 255, blueMax = 255;
  std::uint8_t redShift = 16, greenShift = 8, blueShift = 0;
  bool operator==(const PixelFormat&) const = default;

  static PixelFormat rgb888() { return {}; }
  // What AMT's KVM announces (features.md §1.4): 16 bpp LE, 5-6-5.
  static PixelFormat rgb565() { return {16, 16, false, true, 31, 63, 31, 11, 5, 0}; }
  unsigned bytesPerPixel() const { return bitsPerPixel / 8u; }
  // Why a client's format cannot be served (colour maps, odd sizes), or nothing.
  std::optional<std::string> unsupported() const;
};

// 0x00RRGGBB to a pixel value in `format`.
std::uint32_t packPixel(const PixelFormat& format, std::uint32_t rgb);
// A pixel value back to 0x00RRGGBB (each channel scaled to 0..255).
std::uint32_t unpackPixel(const PixelFormat& format, std::uint32_t value);
// Appends `value` as format.bytesPerPixel() bytes in the format's byte order.
void putPixel(Bytes& out, const PixelFormat& format, std::uint32_t value);
// Reads one pixel of format.bytesPerPixel() bytes.
std::uint32_t getPixel(std::span<const std::uint8_t> in, const PixelFormat& format);
void encodePixelFormat(Bytes& out, const PixelFormat& format);
PixelFormat decodePixelFormat(std::span<const std::uint8_t, 16> in);

// ---- client -> server (RFC 6143 §7.5)
struct SetPixelFormat { PixelFormat format; };
struct SetEncodings { std::vector<std::int32_t> encodings; };
struct FramebufferUpdateRequest {
  bool incremental = false;
  std::uint16_t x = 0, y = 0, width = 0, height = 0;
};
struct KeyEvent {
  bool down = false;
  std::uint32_t keysym = 0;
};
struct PointerEvent {
  std::uint8_t buttons = 0;
  std::uint16_t x = 0, y = 0;
};
struct ClientCutText { std::string text; };  // also Intel's data channel ("\0KvmDataChannel\0...")
using ClientMessage = std::variant<SetPixelFormat, SetEncodings, FramebufferUpdateRequest, KeyEvent, PointerEvent,
                                   ClientCutText>;

inline constexpr std::size_t kMaxCutText = 1 << 20;
inline constexpr std::size_t kMaxEncodings = 1024;

struct DecodedClientMessage {
  ClientMessage message;
  std::size_t length = 0;  // bytes consumed
};
// One message from the front of `in`: nothing when more bytes are needed, an error when they never make one
// (unknown type, a bad pixel format, a cut text over kMaxCutText).
Result<std::optional<DecodedClientMessage>> decodeClientMessage(std::span<const std::uint8_t> in);
Bytes encodeClientMessage(const ClientMessage& message);  // for tests and clients

// ---- handshake
// "RFB 003.008\n" -> minor version 3, 7 or 8 as the server will speak it (RFC 6143 §7.1.1: unknown 3.x below 3.7
// is 3.3, above 3.8 is 3.8; 4.x is treated as 3.8), or an error for anything that is not a version line.
Result<unsigned> parseVersion(std::span<const std::uint8_t, 12> line);
Bytes encodeServerInit(std::uint16_t width, std::uint16_t height, const PixelFormat& format, const std::string& name);

// ---- server -> client
// FramebufferUpdate header: type 0, padding, rectangle count.
void encodeUpdateHeader(Bytes& out, std::uint16_t rectangles);
void encodeRectHeader(Bytes& out, const ScreenRect& rect, std::int32_t encoding);
// RAW: the rectangle's pixels of `screen` (0x00RRGGBB, `stride` wide) in `format`.
void encodeRaw(Bytes& out, const std::vector<std::uint32_t>& screen, unsigned stride, const ScreenRect& rect,
               const PixelFormat& format);
// Splits `area` into tiles of at most `tile` x `tile`, row by row.
std::vector<ScreenRect> tiles(const ScreenRect& area, unsigned tile = kMaxTile);

// ZRLE (RFC 6143 §7.7.6): one zlib stream for the whole connection; each rectangle is u32 length + the deflated
// tiles (solid, packed palette of 2..16 colours, or raw CPIXELs).
class ZrleEncoder {
 public:
  ZrleEncoder();
  ~ZrleEncoder();
  ZrleEncoder(const ZrleEncoder&) = delete;
  ZrleEncoder& operator=(const ZrleEncoder&) = delete;
  // Appends the ZRLE data of `rect` (header not included).
  Result<> encode(Bytes& out, const std::vector<std::uint32_t>& screen, unsigned stride, const ScreenRect& rect,
                  const PixelFormat& format);

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  Bytes tileBytes_;
};

// The size of a CPIXEL in `format` (3 for 32 bpp true colour whose colours fit in three bytes, else bpp/8), and
// whether those three bytes are the pixel's low ones.
unsigned cpixelSize(const PixelFormat& format, bool* lowBytes = nullptr);

}  // namespace mesim::wsman::redirection::rfb
