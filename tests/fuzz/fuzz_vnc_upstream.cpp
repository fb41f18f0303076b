// Arbitrary bytes from an upstream VNC server (--kvm-host unix:PATH) into mesim's RFB client (wsman/redirection:
// rfb_client: handshakes, security, ServerInit, FramebufferUpdate in RAW and ZRLE, DesktopSize, the messages it
// skips), with a KVMR viewer (rfb_session) watching the client's picture through a KvmService, so DesktopSize and
// the conversion to the viewer's format run too. The first byte picks the read size, whether the viewer takes
// DesktopSize, ZRLE or RAW, and whether a VNC password is set. Every input must leave the framebuffer the size
// the client says and the viewer's session consistent (closed exactly when it says so, the screen free once it
// is): no crash, no hang. At the end of each input the connection goes, as when the server does.
//
// The viewer stays across inputs (a session's start and end write the state file); the state dir is on tmpfs
// where there is one, for the sessions that do start.
#include <cstdlib>
#include <filesystem>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/redirection/rfb_client.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/rfb_session.h"

namespace {

using namespace mesim::wsman::redirection;

// The client's picture as a KVM screen, as UpstreamVncScreen shows it once connected (without its socket).
class ClientScreen final : public KvmScreenSource {
 public:
  explicit ClientScreen(RfbClient*& client) : client_(client) {}
  unsigned width() const override { return client_ && client_->ready() ? client_->width() : 32; }
  unsigned height() const override { return client_ && client_->ready() ? client_->height() : 16; }
  const std::vector<std::uint32_t>& pixels() const override { return client_ && client_->ready() ? client_->pixels() : blank_; }
  void setChangeListener(ChangeListener l) override {
    change = std::move(l);
    if (client_) client_->setWatching(static_cast<bool>(change));
  }
  void setResizeListener(ResizeListener l) override { resize = std::move(l); }
  void keyEvent(bool down, std::uint32_t keysym) override {
    if (client_) client_->keyEvent(down, keysym);
  }
  void pointerEvent(std::uint8_t b, std::uint16_t x, std::uint16_t y) override {
    if (client_) client_->pointerEvent(b, x, y);
  }
  std::string describe() const override { return "fuzz"; }
  ChangeListener change;
  ResizeListener resize;

 private:
  RfbClient*& client_;
  std::vector<std::uint32_t> blank_ = std::vector<std::uint32_t>(32 * 16, 0);
};

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-vnc-upstream"), timers(io, clock), screen(current) {
    service = std::make_unique<KvmService>(*platform, timers);
    service->setScreen(&screen);
  }
  boost::asio::io_context io;
  mesim::core::ManualFirmwareClock clock;
  mesim::core::FirmwareTimerQueue timers;
  RfbClient* current = nullptr;
  ClientScreen screen;
  std::unique_ptr<KvmService> service;
  std::unique_ptr<RfbSession> viewer;
  bool closed = false;
  std::size_t toViewer = 0;
};

bool stateOnTmpfs() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) ::setenv("TMPDIR", "/dev/shm", 1);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool onTmpfs = stateOnTmpfs();
  (void)onTmpfs;
  static Fixture f;
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::size_t chunk = 1 + (flags & 0x1F) * 7;
  const auto body = std::span(data + 1, size - 1);

  RfbClientOptions options;
  options.maxWidth = 300;  // small: every DesktopSize allocates
  options.maxHeight = 200;
  options.zrle = (flags & 0x20) != 0;
  if (flags & 0x40) options.password = "Vm-Pa55w";
  std::size_t toServer = 0;
  RfbClient client(options, {[&](std::vector<std::uint8_t> b) { toServer += b.size(); },
                             [&] {
                               // What UpstreamVncScreen does when the server's picture replaces its notice.
                               if (f.screen.resize) f.screen.resize();
                               if (f.screen.change) f.screen.change({0, 0, f.screen.width(), f.screen.height()});
                             },
                             [&] {
                               if (f.screen.resize) f.screen.resize();
                             },
                             [&](const ScreenRect& r) {
                               if (f.screen.change) f.screen.change(r);
                             }});
  f.current = &client;

  // The viewer stays from input to input (a new one only when the last was closed): a session's start and end
  // each write the state file, which would cost more than the input's parsing.
  if (!f.viewer || f.viewer->state() == RfbSession::State::Ended) {
    f.closed = false;
    f.viewer = f.service->open(RfbSession::Mode::Redirection,
                               {[&](std::vector<std::uint8_t> b) { f.toViewer += b.size(); }, [&] { f.closed = true; }},
                               "192.0.2.1", "admin");
    f.viewer->start();
    const std::string version = "RFB 003.008\n";
    f.viewer->receive(std::span(reinterpret_cast<const std::uint8_t*>(version.data()), version.size()));
    const std::uint8_t none = 1, shared = 1;
    f.viewer->receive(std::span(&none, 1));
    f.viewer->receive(std::span(&shared, 1));
  }
  auto& viewer = f.viewer;
  std::vector<std::int32_t> encodings{rfb::kEncodingZrle, rfb::kEncodingRaw};
  if (!(flags & 0x80)) encodings.push_back(rfb::kEncodingDesktopSize);
  viewer->receive(rfb::encodeClientMessage(rfb::SetEncodings{encodings}));
  f.screen.setChangeListener(f.screen.change);  // the new client learns that a viewer watches
  const auto request = rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, 4096, 4096});
  for (std::size_t at = 0; at < body.size() && client.state() != RfbClient::State::Failed; at += chunk) {
    (void)client.receive(body.subspan(at, std::min(chunk, body.size() - at)));
    if (client.ready() && client.pixels().size() != std::size_t(client.width()) * client.height()) std::abort();
    if (!f.closed) viewer->receive(request);
    if ((at / chunk) % 5 == 4 && !f.closed) {
      viewer->receive(rfb::encodeClientMessage(rfb::KeyEvent{true, 'a'}));
      viewer->receive(rfb::encodeClientMessage(rfb::PointerEvent{1, 5000, 5000}));
    }
  }
  if (f.closed != (viewer->state() == RfbSession::State::Ended)) std::abort();
  // The connection goes: back to the screen of no server, as UpstreamVncScreen draws its notice.
  const bool wasShown = client.ready();
  f.current = nullptr;
  if (wasShown && f.screen.resize) f.screen.resize();
  if (f.screen.change) f.screen.change({0, 0, f.screen.width(), f.screen.height()});
  if (f.closed != (viewer->state() == RfbSession::State::Ended)) std::abort();
  if (f.closed && (f.service->busy() || f.screen.change || f.screen.resize || f.timers.size() != 0)) std::abort();
  if (f.platform->state().logs.auditLog.size() > 64)
    f.platform->update([](mesim::platform::PlatformState& s) { s.logs.auditLog.clear(); });
  (void)toServer;
  return 0;
}
