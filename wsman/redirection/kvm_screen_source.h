// What a KVM session shows and where its keys and pointer go: the host's screen as an interface, so that the RFB
// code (rfb_session.h) serves any picture. ConsoleScreen (console_screen.h) renders the simulated OS's text console;
// app/ wires it to hostif/os, which nothing here may include. UpstreamVncScreen (upstream_vnc_screen.h) shows a VNC
// server's picture (a VM's), whose size may change.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mesim::wsman::redirection {

struct ScreenRect {
  unsigned x = 0, y = 0, width = 0, height = 0;
  bool empty() const { return width == 0 || height == 0; }
  // The smallest rectangle holding both.
  ScreenRect united(const ScreenRect& other) const {
    if (empty()) return other;
    if (other.empty()) return *this;
    const unsigned left = std::min(x, other.x), top = std::min(y, other.y);
    const unsigned right = std::max(x + width, other.x + other.width);
    const unsigned bottom = std::max(y + height, other.y + other.height);
    return {left, top, right - left, bottom - top};
  }
  bool operator==(const ScreenRect&) const = default;
};

class KvmScreenSource {
 public:
  using ChangeListener = std::function<void(const ScreenRect& changed)>;
  using ResizeListener = std::function<void()>;
  virtual ~KvmScreenSource() = default;
  virtual unsigned width() const = 0;
  virtual unsigned height() const = 0;
  // The picture, row by row, each pixel 0x00RRGGBB; width() * height() of them.
  virtual const std::vector<std::uint32_t>& pixels() const = 0;
  // Told of each change after it is drawn; one listener (the KVM session on the screen), empty for none.
  virtual void setChangeListener(ChangeListener listener) = 0;
  // Told when width() or height() changed (the picture is then new as a whole; a change of the whole screen
  // follows). One listener, empty for none. A screen of a fixed size never calls it.
  virtual void setResizeListener(ResizeListener) {}
  // RFB KeyEvent: an X11 keysym pressed or released.
  virtual void keyEvent(bool down, std::uint32_t keysym) = 0;
  // RFB PointerEvent: the button mask and position.
  virtual void pointerEvent(std::uint8_t buttons, std::uint16_t x, std::uint16_t y) = 0;
  // "console 80x25 (font ...)": for /status.
  virtual std::string describe() const = 0;
};

}  // namespace mesim::wsman::redirection
