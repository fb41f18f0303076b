#include "app/device_kvm.h"

#include <boost/json/array.hpp>

#include "common/log.h"
#include "hostif/os/serial_console.h"
#include "wsman/redirection/psf_font.h"

namespace mesim::app {

namespace wr = wsman::redirection;

namespace {
wr::PsfFont consoleFont(const log::Context& context) {
  std::string tried;
  for (const auto& path : wr::defaultConsoleFontPaths()) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    auto font = wr::PsfFont::load(path);
    if (font) return std::move(*font);
    tried += (tried.empty() ? "" : "; ") + font.error().message;
  }
  const auto& logContext = [&]() -> const log::Context& { return context; };
  MESIM_LOG(Warn, "kvm", "no usable PSF console font (install Debian's console-setup-linux or kbd"
                             << (tried.empty() ? "" : ": " + tried) << "); KVM draws text as boxes");
  return wr::PsfFont::fallback();
}
}  // namespace

// The console's transmit line goes to the screen always and to SOL while a session listens.
class DeviceKvm::ConsoleHost final : public wr::SerialPortHost {
 public:
  ConsoleHost(hostos::SerialConsole& console, wr::ConsoleScreen& screen) : console_(console), screen_(screen) {
    console_.setOutput([this](std::string_view bytes) {
      screen_.write(bytes);
      if (sink_) sink_(bytes);
    });
  }
  ~ConsoleHost() override { console_.setOutput({}); }
  void toHost(std::string_view bytes) override { console_.input(bytes); }
  void setFromHost(Sink sink) override { sink_ = std::move(sink); }
  std::string describe() const override { return "console"; }

 private:
  hostos::SerialConsole& console_;
  wr::ConsoleScreen& screen_;
  Sink sink_;
};

DeviceKvm::DeviceKvm(boost::asio::io_context& io, platform::PlatformModel& platform, core::FirmwareTimerQueue& timers,
                     DeviceKvmOptions options)
    : io_(io), platform_(platform), options_(std::move(options)) {
  const log::Context& context = platform.logContext();
  screen_ = std::make_unique<wr::ConsoleScreen>(consoleFont(context), wr::ConsoleScreenOptions{},
                                                [this](std::string_view bytes) {
                                                  if (console_) console_->input(bytes);
                                                });
  wr::KvmOptions kvmOptions;
  kvmOptions.desktopName = options_.desktopName;
  service_ = std::make_unique<wr::KvmService>(platform, timers, kvmOptions);
  service_->setScreen(screen_.get());
  if (options_.rfbPort >= 0) {
    wr::RfbServerOptions serverOptions;
    serverOptions.listenAddress = options_.listenAddress;
    serverOptions.port = options_.rfbPort;
    serverOptions.descriptorReserve = options_.descriptorReserve;
    server_ = std::make_unique<wr::RfbServer>(io, *service_, serverOptions);
  }
}

DeviceKvm::~DeviceKvm() {
  stop();
  service_->endAll("the device stops");
  service_->setScreen(nullptr);
}

wr::SerialPortHost* DeviceKvm::attachConsole(hostos::SerialConsole& console) {
  console_ = &console;
  consoleHost_ = std::make_unique<ConsoleHost>(console, *screen_);
  return consoleHost_.get();
}

void DeviceKvm::noConsole(const std::string& why) { screen_->write("mesim: " + why + "\r\n"); }

Result<> DeviceKvm::start() {
  if (!options_.upstreamPath.empty() && !upstream_) {
    wr::UpstreamVncOptions upstreamOptions;
    upstreamOptions.path = options_.upstreamPath;
    upstreamOptions.password = options_.upstreamPassword;
    auto upstream = wr::UpstreamVncScreen::open(io_, upstreamOptions, screen_->font(), platform_.logContext());
    if (!upstream) return fail("--kvm-host: " + upstream.error().message);
    upstream_ = std::move(*upstream);
    upstream_->setOverlay(screen_->overlay());  // a consent code drawn before
    service_->setScreen(upstream_.get());
  }
  if (!server_) return {};
  return server_->start();
}

void DeviceKvm::stop() {
  if (server_) server_->stop();
}

boost::json::object DeviceKvm::statusJson() const {
  boost::json::object k;
  const auto& redirection = platform_.state().redirection;
  k["rfb_port"] = rfbPort();
  k["kvm_enabled"] = service_->kvmEnabled();
  k["port_5900_enabled"] = redirection.is5900PortEnabled;
  k["serving_5900"] = service_->port5900Enabled();
  k["rfb_password_set"] = !redirection.rfbPassword.empty();
  const wr::KvmScreenSource& shown = upstream_ ? static_cast<const wr::KvmScreenSource&>(*upstream_) : *screen_;
  k["screen"] = shown.describe();
  k["width"] = shown.width();
  k["height"] = shown.height();
  k["upstream"] = upstreamJson();
  if (const auto* s = service_->activeSession())
    k["session"] = {{"mode", s->mode() == wr::RfbSession::Mode::Standard ? "5900" : "redirection"},
                    {"peer", s->peerAddress()},
                    {"rfb_version", "3." + std::to_string(s->version())},
                    {"bits_per_pixel", s->pixelFormat().bitsPerPixel},
                    {"encoding", s->zrle() ? "zrle" : "raw"}};
  else
    k["session"] = nullptr;
  const auto& st = service_->stats();
  k["sessions"] = st.sessions;
  k["sessions_5900"] = st.port5900Sessions;
  k["sessions_redirection"] = st.redirectionSessions;
  k["auth_failures"] = st.authFailures;
  k["busy"] = st.busy;
  k["refused"] = st.refused;
  k["consent_required"] = st.consentRequired;
  k["protocol_errors"] = st.protocolErrors;
  k["updates"] = st.updates;
  k["rectangles"] = st.rectangles;
  k["key_events"] = st.keyEvents;
  k["pointer_events"] = st.pointerEvents;
  k["desktop_resizes"] = st.desktopResizes;
  k["resize_closed"] = st.resizeClosed;
  if (server_) {
    k["connections_5900"] = server_->connectionCount();
    k["not_served_5900"] = server_->stats().notServed;
  }
  return k;
}

boost::json::value DeviceKvm::upstreamJson() const {
  if (!upstream_) return nullptr;
  const auto& u = *upstream_;
  const auto client = u.clientStats();
  boost::json::object o;
  o["path"] = u.path();
  o["connected"] = u.connected();
  o["width"] = u.connected() ? u.width() : 0u;
  o["height"] = u.connected() ? u.height() : 0u;
  o["desktop_name"] = u.desktopName();
  o["last_error"] = u.lastError();
  o["connections"] = u.stats().connections;
  o["disconnects"] = u.stats().disconnects;
  o["failed_attempts"] = u.stats().failedAttempts;
  o["dropped_events"] = u.stats().droppedEvents;
  o["updates"] = client.updates;
  o["rectangles"] = client.rectangles;
  o["zrle_rectangles"] = client.zrleRectangles;
  o["resizes"] = client.resizes;
  o["bytes_in"] = client.bytesIn;
  o["requests"] = client.requests;
  o["key_events"] = client.keyEvents;
  o["pointer_events"] = client.pointerEvents;
  return o;
}

boost::json::object DeviceKvm::screenJson() const {
  boost::json::object o;
  o["source"] = upstream_ ? "upstream" : "console";
  const auto& grid = screen_->grid();
  o["columns"] = grid.columns();
  o["rows"] = grid.rows();
  o["width"] = screen_->width();
  o["height"] = screen_->height();
  o["font"] = screen_->font().source();
  o["cursor"] = {{"column", grid.cursorColumn()}, {"row", grid.cursorRow()}};
  o["overlay"] = screen_->overlay();
  boost::json::array text;
  for (unsigned row = 0; row < grid.rows(); ++row) text.emplace_back(grid.rowText(row));
  o["text"] = std::move(text);
  return o;
}

}  // namespace mesim::app
