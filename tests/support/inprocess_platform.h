// A firmware (HbmEngine + clients) and a host model joined by an in-process link, with the
// event loop on its own thread: the smallest complete "machine" for tests.
#pragma once

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "firmware/core/spinning_loop.h"
#include "firmware/hbm/hbm_engine.h"
#include "hostif/host/mei_host.h"

namespace mesim::test {

class InProcessMachine {
 public:
  explicit InProcessMachine(host::HostOptions hostOptions = {}, firmware::HbmEngineOptions fwOptions = {})
      : engine(io, fwOptions), work_(io.get_executor()) {
    auto link = link::makeInProcessLink(io);
    engine.attach(link.firmware);
    firmwareLink = link.firmware;
    host = std::make_unique<host::MeiHost>(io, link.host, hostOptions);
  }
  ~InProcessMachine() { shutdown(); }

  template <typename F>
  auto run(F&& f) {
    using R = decltype(f());
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    boost::asio::post(io, [&f, promise] {
      if constexpr (std::is_void_v<R>) {
        f();
        promise->set_value();
      } else {
        promise->set_value(f());
      }
    });
    return future.get();
  }

  // Starts the loop and the host driver; waits until the device is ENABLED (or gives up).
  bool start(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto enabled = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::once_flag>();
    host->onStateChange([enabled, once](host::DevState s) {
      if (s == host::DevState::Enabled) std::call_once(*once, [&] { enabled->set_value(); });
    });
    auto future = enabled->get_future();
    thread_ = std::thread([this] { core::runSpinning(io, loopSpin); });
    run([this] { host->start(); });
    return future.wait_for(timeout) == std::future_status::ready;
  }

  void shutdown() {
    if (!thread_.joinable()) return;
    run([this] { host->stop(); });
    work_.reset();
    io.stop();
    thread_.join();
  }

  std::chrono::microseconds loopSpin{50};  // as the daemon's default --loop-spin-us
  boost::asio::io_context io;
  firmware::HbmEngine engine;
  std::shared_ptr<link::Endpoint> firmwareLink;
  std::unique_ptr<host::MeiHost> host;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace mesim::test
