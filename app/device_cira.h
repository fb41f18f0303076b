// A device's CIRA client (firmware/cira, docs/cira.md) and what it needs from the rest of the device: channels to
// the device's own servers (WS-Man in-process; SOL/IDE-R and KVM through their loopback listeners), a TLS context
// over AMT's trusted roots, the --cira-* preset, and its /status JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "app/config.h"
#include "common/log.h"
#include "firmware/cira/cira_client.h"

namespace mesim::wsman::http {
class WsmanHttpServer;
}

namespace mesim::app {

struct CiraServers {
  wsman::http::WsmanHttpServer* wsman = nullptr;  // 16992/16993 (null: none)
  std::string listenAddress;                      // where the listeners below are
  std::function<std::uint16_t()> redirectionPort;     // 16994's listener (0: none)
  std::function<std::uint16_t()> redirectionTlsPort;  // 16995's
  std::function<std::uint16_t()> rfbPort;             // 5900's
};

// What --cira-* asks for, made as a console makes it over WS-Man: when the device has no MPS yet, the root becomes a
// trusted AMT_PublicKeyCertificate, the MPS an AMT_ManagementPresenceRemoteSAP, and a periodic rule (every
// intervalSeconds, TunnelLifeTime 0) calls it. A device that has an MPS (a console configured it) is left alone.
Result<> applyCiraPreset(platform::PlatformModel& platform, const DeviceConfig::CiraPreset& preset);

class DeviceCira {
 public:
  DeviceCira(boost::asio::io_context& io, core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
             CiraServers servers, log::Context log);
  ~DeviceCira();
  DeviceCira(const DeviceCira&) = delete;
  DeviceCira& operator=(const DeviceCira&) = delete;

  void start() { client_->start(); }
  void stop() { client_->stop(); }
  void alertRaised() { client_->alertRaised(); }
  const cira::CiraStatus& status() const { return client_->status(); }
  const cira::CiraClient& client() const { return *client_; }
  boost::json::object statusJson() const;

 private:
  std::shared_ptr<lme::ChannelPeer> openChannel(std::uint32_t port);

  boost::asio::io_context& io_;
  CiraServers servers_;
  log::Context log_;
  std::unique_ptr<cira::CiraClient> client_;
};

}  // namespace mesim::app
