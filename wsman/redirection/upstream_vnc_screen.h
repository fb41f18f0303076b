// The KVM screen as an upstream VNC server's picture (--kvm-host unix:PATH): mesim connects as an RFB client
// (rfb_client.h) to a server listening on a Unix socket, as QEMU `-vnc unix:PATH` does, keeps its framebuffer,
// and forwards the KVM viewer's keys and pointer to it. While no server is there (not started yet, gone, refused
// us) the screen is a small notice drawn with the console font, and mesim tries again every second; each change
// between the notice and the server's picture, and each DesktopSize of the server, is a resize for the viewer
// (rfb_session.h).
//
//   auto screen = UpstreamVncScreen::open(io, {.path = "/run/vm/vnc.sock"}, font, log);
//   kvmService.setScreen(screen->get());
//
// Threading: the loop of `io`.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.h"
#include "common/result.h"
#include "wsman/redirection/kvm_screen_source.h"
#include "wsman/redirection/psf_font.h"
#include "wsman/redirection/rfb_client.h"

namespace mesim::wsman::redirection {

struct UpstreamVncOptions {
  std::string path;      // the server's Unix socket
  std::string password;  // VNC authentication, if the server asks; empty: security None only
  std::chrono::milliseconds reconnectEvery{1000};
  // A server that accepted but has not finished the handshake in this long is dropped (real time: a socket's).
  std::chrono::milliseconds handshakeTimeout{10'000};
  unsigned maxWidth = 4096, maxHeight = 4096;
};

struct UpstreamVncStats {
  std::uint64_t connections = 0;     // handshakes completed (ServerInit)
  std::uint64_t disconnects = 0;     // connections lost or dropped after they were made
  std::uint64_t failedAttempts = 0;  // connects that failed (nothing listening) or handshakes that did
  std::uint64_t droppedEvents = 0;   // key/pointer events lost: the server did not read
};

class UpstreamVncScreen final : public KvmScreenSource {
 public:
  static Result<std::unique_ptr<UpstreamVncScreen>> open(boost::asio::io_context& io, UpstreamVncOptions options,
                                                         PsfFont font, log::Context log = {});
  ~UpstreamVncScreen() override;

  unsigned width() const override;
  unsigned height() const override;
  const std::vector<std::uint32_t>& pixels() const override;
  void setChangeListener(ChangeListener listener) override;
  void setResizeListener(ResizeListener listener) override { resizeListener_ = std::move(listener); }
  void keyEvent(bool down, std::uint32_t keysym) override;
  // A line drawn black on white over the top right corner of whatever is shown (the user-consent code's place, as
  // AMT draws it over the host's video); empty removes it.
  void setOverlay(std::string text);
  const std::string& overlay() const { return overlay_; }
  void pointerEvent(std::uint8_t buttons, std::uint16_t x, std::uint16_t y) override;
  std::string describe() const override;

  const std::string& path() const { return options_.path; }
  // The server's picture is shown (its handshake is done).
  bool connected() const { return client_ && client_->ready(); }
  const std::string& desktopName() const;
  const std::string& lastError() const { return lastError_; }
  const UpstreamVncStats& stats() const { return stats_; }
  // The current connection's counters (zero without one) plus those of the connections before it.
  RfbClientStats clientStats() const;
  const log::Context& logContext() const { return log_; }

 private:
  UpstreamVncScreen(boost::asio::io_context& io, UpstreamVncOptions options, PsfFont font, log::Context log);
  void connect();
  void retryLater();
  void attached();
  void drop(const std::string& why);
  void read();
  void write(std::vector<std::uint8_t> bytes);
  void writeNext();
  void drawNotice(const std::string& text);
  void sizeMayHaveChanged(unsigned oldWidth, unsigned oldHeight);
  void tellChanged(const ScreenRect& rect);

  UpstreamVncOptions options_;
  PsfFont font_;
  log::Context log_;
  boost::asio::local::stream_protocol::socket socket_;
  boost::asio::steady_timer retry_;      // real time: a socket's reconnect, not the firmware's
  boost::asio::steady_timer handshake_;
  std::unique_ptr<RfbClient> client_;    // while a socket is connected
  RfbClientStats pastStats_;             // of the connections before
  std::vector<std::uint32_t> notice_;    // the picture while no server is shown
  unsigned noticeWidth_ = 640, noticeHeight_ = 400;
  std::string noticeText_;
  std::string overlay_;
  mutable std::vector<std::uint32_t> composed_;  // the picture with the overlay, while there is one
  mutable bool composedValid_ = false;
  ChangeListener changeListener_;
  ResizeListener resizeListener_;
  std::deque<std::vector<std::uint8_t>> pending_;
  std::size_t pendingBytes_ = 0;
  bool writing_ = false;
  std::uint64_t generation_ = 0;  // one per connection: completions of an earlier one are ignored
  std::vector<std::uint8_t> readBuffer_;
  std::string lastError_;
  UpstreamVncStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::wsman::redirection
