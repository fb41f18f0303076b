// An InProcessMachine with the LME client bridged to a real WS-Man HTTP server (as the daemon composes them),
// and an MeiFile transport for LmsHost: the LMS path without FUSE, for tests and benchmarks.
#pragma once

#include <memory>
#include <string>

#include "firmware/core/firmware_clock.h"
#include "firmware/lme/lme_client.h"
#include "firmware/lme/local_stream_peer.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "hostif/client/mei_file.h"
#include "tests/support/inprocess_platform.h"
#include "tests/support/lms_host.h"
#include "tests/support/loop_lms_host.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/wsman_http_server.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::test {

class MeiFileTransport : public MeiTransport {
 public:
  MeiFileTransport(boost::asio::io_context& io, host::MeiHost& host) : file_(io, host) {}
  int connect(std::uint32_t& maxMsgLength) override {
    if (int err = file_.open()) return err;
    hbm::ClientProperties props;
    if (int err = file_.connect(lme::kLmeGuid, &props)) return err;
    maxMsgLength = props.maxMsgLength;
    return 0;
  }
  ssize_t read(std::uint8_t* buffer, std::size_t size, std::chrono::milliseconds timeout) override {
    ssize_t n = file_.read(std::span<std::uint8_t>(buffer, size), false, timeout);
    return n == -ETIME ? 0 : (n == 0 ? -ENODEV : n);
  }
  ssize_t write(const std::uint8_t* data, std::size_t size) override { return file_.write(hbm::ByteView(data, size)); }
  void close() override {
    if (file_.isOpen()) file_.close();
  }

 private:
  client::MeiFile file_;
};

class LmsMachine {
 public:
  // `peers` replaces the WS-Man bridge (benchmarks plug a bulk source in); by default channels reach WS-Man.
  explicit LmsMachine(lme::ChannelPeerFactory peers = nullptr, lme::LmeOptions options = {}) {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    if (!opened) throw std::runtime_error(opened.error().message);
    platform = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*platform, clock);
    service = std::make_unique<wsman::ops::WsmanService>(*platform, clock, *power);
    wsman::http::WsmanHttpOptions o;
    o.httpPort = 0;
    o.httpsPort = 0;  // a certificate for LMS channels to 16993 ("TLS on local ports")
    o.stateDir = dir.path();
    o.clock = &clock;
    http = std::make_unique<wsman::http::WsmanHttpServer>(machine.io, *platform, o);
    http->setAnonymousPredicate([](std::string_view body) { return wsman::ops::WsmanService::isIdentify(body); });
    http->setHandler([this](wsman::http::WsmanRequest request, wsman::http::WsmanReply reply) {
      auto result = service->handle(request.body, {request.user, request.local});
      reply({result.httpStatus, std::move(result.body)});
    });
    if (auto started = http->start(); !started) throw std::runtime_error(started.error().message);
    if (!peers) {
      // as app/daemon.cpp wires it
      peers = lme::makeLocalStreamFactory(machine.io, [this](std::uint32_t port, auto socket) {
        if (port == lme::kPortHttps) return http->serveLocalTls(std::move(socket), "lms");
        if (port != lme::kPortHttp) return false;
        http->serveLocal(std::move(socket), "lms");
        return true;
      });
    }
    lme = std::make_shared<lme::LmeClient>(*platform, std::move(peers), options);
    machine.engine.addClient(lme);
    if (!machine.start()) throw std::runtime_error("host model did not come up");
  }
  ~LmsMachine() {
    machine.run([this] { http->stop(); });
    machine.shutdown();
  }

  LmsHost::TransportFactory transports() {
    return [this] { return std::make_unique<MeiFileTransport>(machine.io, *machine.host); };
  }
  // An LMS-like host on the machine's own loop, connected and forwarding 16992; nullptr if it did not get there.
  std::shared_ptr<LoopLmsHost> startLoopHost(std::uint32_t window = 1024) {
    auto host = std::make_shared<LoopLmsHost>(machine.io, *machine.host, window);
    auto connected = std::make_shared<std::promise<int>>();
    machine.run([&] { host->start([connected](int err) { connected->set_value(err); }); });
    if (connected->get_future().get() != 0) return nullptr;
    for (int i = 0; i < 500; ++i) {
      if (machine.run([&] { return host->localPort(lme::kPortHttp); }) != 0) return host;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    machine.run([&] { host->stop(); });
    return nullptr;
  }
  void stopLoopHost(const std::shared_ptr<LoopLmsHost>& host) {
    machine.run([&] { host->stop(); });
  }

  // Reads on the loop thread.
  lme::LmeClient::Stats lmeStats() { return machine.run([this] { return lme->stats(); }); }
  std::size_t wsmanConnections() { return machine.run([this] { return http->activeConnections(); }); }
  std::size_t hbmConnections() { return machine.run([this] { return machine.engine.stats().connections; }); }
  std::uint16_t networkPort() { return http->ports().http; }

  TempDir dir{"lms"};
  core::SystemFirmwareClock clock;
  std::unique_ptr<platform::PlatformModel> platform;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<wsman::ops::WsmanService> service;
  InProcessMachine machine;
  std::unique_ptr<wsman::http::WsmanHttpServer> http;
  std::shared_ptr<lme::LmeClient> lme;
};

}  // namespace mesim::test
