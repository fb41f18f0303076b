// The client side of RFB (RFC 6143) without a socket: what mesim speaks to an upstream VNC server it proxies
// (QEMU `-vnc unix:PATH`, upstream_vnc_screen.h). Bytes from the server go in, bytes for it come out through a
// callback, and a framebuffer of 0x00RRGGBB pixels follows the server's FramebufferUpdates.
//
// Handshake: RFB 3.3, 3.7 or 3.8 (whichever the server offers, at most 3.8), security None, or VNC authentication
// when a password is given; ClientInit shared (other viewers of the VM stay). Then SetPixelFormat 32 bpp true colour
// (RGB888 little-endian: the framebuffer's own layout, so the server converts, not us) and SetEncodings ZRLE, RAW,
// DesktopSize. Server messages: FramebufferUpdate (RAW, ZRLE with every subencoding, DesktopSize), Bell,
// SetColourMapEntries and ServerCutText (skipped). Anything else, a rectangle outside the screen, a size over the
// limits or a bad ZRLE stream is an error: the connection is done.
//
// Updates are asked for only while someone watches (setWatching): a full one when watching starts, then one
// incremental request after each update, so an idle proxy costs the VM nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "wsman/redirection/kvm_screen_source.h"
#include "wsman/redirection/rfb_codec.h"

namespace mesim::wsman::redirection {

struct RfbClientOptions {
  std::string password;            // VNC authentication, when the server asks for it; empty: None only
  unsigned maxWidth = 4096;        // a ServerInit or DesktopSize beyond these is refused (memory: 4 bytes a pixel)
  unsigned maxHeight = 4096;
  bool zrle = true;                // offer ZRLE before RAW
};

struct RfbClientStats {
  std::uint64_t updates = 0;       // FramebufferUpdate messages applied
  std::uint64_t rectangles = 0;    // RAW and ZRLE rectangles
  std::uint64_t zrleRectangles = 0;
  std::uint64_t resizes = 0;       // DesktopSize rectangles
  std::uint64_t bytesIn = 0;
  std::uint64_t requests = 0;      // FramebufferUpdateRequests sent
  std::uint64_t keyEvents = 0;     // forwarded
  std::uint64_t pointerEvents = 0;
};

class RfbClient {
 public:
  enum class State { AwaitVersion, AwaitSecurityTypes, AwaitSecurityType33, AwaitChallenge, AwaitSecurityResult,
                     AwaitServerInit, Normal, Failed };
  struct Callbacks {
    std::function<void(std::vector<std::uint8_t> bytes)> write;  // to the server
    std::function<void()> ready;                                 // ServerInit arrived: width/height/pixels valid
    std::function<void()> resized;  // after a FramebufferUpdate with a DesktopSize: a new size (and picture)
    std::function<void(const ScreenRect& changed)> changed;      // after each FramebufferUpdate, what it drew
  };

  RfbClient(RfbClientOptions options, Callbacks callbacks);
  ~RfbClient();
  RfbClient(const RfbClient&) = delete;
  RfbClient& operator=(const RfbClient&) = delete;

  // Bytes from the server. An error means the connection cannot go on (state() is then Failed).
  Result<> receive(std::span<const std::uint8_t> bytes);

  // Someone looks at the picture (true) or no one does (false).
  void setWatching(bool watching);
  void keyEvent(bool down, std::uint32_t keysym);
  void pointerEvent(std::uint8_t buttons, std::uint16_t x, std::uint16_t y);

  State state() const { return state_; }
  bool ready() const { return state_ == State::Normal; }
  unsigned width() const { return width_; }
  unsigned height() const { return height_; }
  const std::vector<std::uint32_t>& pixels() const { return pixels_; }
  const std::string& desktopName() const { return name_; }
  unsigned version() const { return minor_; }
  const RfbClientStats& stats() const { return stats_; }

 private:
  struct Zlib;
  std::size_t consume(std::span<const std::uint8_t> in, Result<>& error);  // bytes used; 0 = need more
  std::size_t consumeMessage(std::span<const std::uint8_t> in, Result<>& error);
  std::size_t consumeRectangle(std::span<const std::uint8_t> in, Result<>& error);
  Result<> decodeZrle(const ScreenRect& rect, std::span<const std::uint8_t> data);
  void resize(unsigned width, unsigned height);
  void updateDone();
  void request(bool incremental);
  void send(std::vector<std::uint8_t> bytes);

  RfbClientOptions options_;
  Callbacks callbacks_;
  State state_ = State::AwaitVersion;
  std::vector<std::uint8_t> buffer_;
  std::size_t bufferStart_ = 0;  // consumed bytes at the buffer's front, dropped now and then
  unsigned minor_ = 8;
  unsigned width_ = 0, height_ = 0;
  rfb::PixelFormat format_;  // what the server sends: its own until our SetPixelFormat, then RGB888
  std::vector<std::uint32_t> pixels_;
  std::string name_;
  bool watching_ = false;
  bool requestPending_ = false;
  unsigned rectanglesLeft_ = 0;  // of the FramebufferUpdate being read
  ScreenRect drawn_;             // what it changed so far
  bool resized_ = false;         // it held a DesktopSize: told at its end, with the new picture drawn
  std::uint64_t skipLeft_ = 0;   // of a ServerCutText being skipped
  std::unique_ptr<Zlib> zlib_;
  std::vector<std::uint8_t> inflated_;
  RfbClientStats stats_;
};

const char* toString(RfbClient::State state);

}  // namespace mesim::wsman::redirection
