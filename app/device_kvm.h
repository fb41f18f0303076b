// A device's KVM (docs/kvm.md): the screen (the simulated OS's console rendered as a text mode, or a notice when
// the serial port's host is a PTY; or with `upstreamPath` an upstream VNC server's picture), the KvmService that RFB sessions share, and the RFB listener on 5900. KVMR on
// 16994/16995 reaches the same service through RedirectionService::setKvm. Here hostif/ (the console) and
// wsman/redirection (the screen interface) meet, as SOL's console adapter does in device.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "common/result.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"
#include "wsman/redirection/console_screen.h"
#include "wsman/redirection/rfb_server.h"
#include "wsman/redirection/rfb_session.h"
#include "wsman/redirection/serial_port_host.h"
#include "wsman/redirection/upstream_vnc_screen.h"

namespace mesim::hostos {
class SerialConsole;
}

namespace mesim::app {

struct DeviceKvmOptions {
  std::string listenAddress = "127.0.0.1";
  int rfbPort = 5900;  // 0: any free port; negative: no 5900 listener (KVMR still works)
  std::size_t descriptorReserve = 64;
  std::string desktopName = "mesim";
  std::string upstreamPath;      // --kvm-host unix:PATH: the screen is this VNC server's; empty: the console's
  std::string upstreamPassword;  // --kvm-host-password
};

class DeviceKvm {
 public:
  DeviceKvm(boost::asio::io_context& io, platform::PlatformModel& platform, core::FirmwareTimerQueue& timers,
            DeviceKvmOptions options);
  ~DeviceKvm();
  DeviceKvm(const DeviceKvm&) = delete;
  DeviceKvm& operator=(const DeviceKvm&) = delete;

  // The console's host side for SOL that also draws every byte the console writes on the screen, and sends the
  // keys typed in KVM to the console's input. Call once, before start().
  wsman::redirection::SerialPortHost* attachConsole(hostos::SerialConsole& console);
  // Without a console (SOL on a PTY): the screen says so.
  void noConsole(const std::string& why);

  Result<> start();  // the upstream VNC connection (if any), the 5900 listener
  void stop();

  wsman::redirection::KvmService& service() { return *service_; }
  wsman::redirection::ConsoleScreen& screen() { return *screen_; }
  std::uint16_t rfbPort() const { return server_ ? server_->port() : 0; }
  // The user-consent code's place on the screen (drawn inverse at the top right); empty removes it.
  // With --kvm-host unix:PATH it is drawn over the VM's picture too.
  void setOverlay(std::string text) {
    if (upstream_) upstream_->setOverlay(text);
    screen_->setOverlay(std::move(text));
  }

  boost::json::object statusJson() const;
  boost::json::object screenJson() const;  // GET /kvm/screen
  boost::json::value upstreamJson() const;  // /status kvm.upstream: null without --kvm-host unix:PATH

 private:
  class ConsoleHost;
  boost::asio::io_context& io_;
  platform::PlatformModel& platform_;
  DeviceKvmOptions options_;
  std::unique_ptr<wsman::redirection::ConsoleScreen> screen_;
  std::unique_ptr<ConsoleHost> consoleHost_;
  std::unique_ptr<wsman::redirection::UpstreamVncScreen> upstream_;  // --kvm-host unix:PATH
  std::unique_ptr<wsman::redirection::KvmService> service_;
  std::unique_ptr<wsman::redirection::RfbServer> server_;
  hostos::SerialConsole* console_ = nullptr;
};

}  // namespace mesim::app
