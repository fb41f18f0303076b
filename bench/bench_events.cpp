// Alert delivery to a local subscriber (issue 5 item 5): the daemon's own delivery path in-process — AlertBus ->
// EventDelivery (persisted queue, fsync'd state files in a temp state dir) -> HttpEventTransport (CIM_AlertIndication,
// PushWithAck) -> a Beast subscriber on 127.0.0.1 answering the Ack. Measures raise-to-receipt latency (p50/p99/max;
// target p99 < 50 ms) with alerts paced like watchdog expiries, and events/s in bursts of one full queue; next to a
// bare HTTP POST + Ack with the same client as reference. Run by hand:
//   build/bin/bench_events [--alerts N] [--bursts B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "firmware/events/event_delivery.h"
#include "tests/support/daemon_process.h"
#include "tests/support/event_subscriber.h"
#include "wsman/eventing/alert_indication.h"
#include "wsman/eventing/http_client.h"
#include "wsman/eventing/http_event_transport.h"

using namespace mesim;
using Clock = std::chrono::steady_clock;

namespace {

struct Percentiles {
  double p50, p99, max;
};
Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
  return {at(0.50), at(0.99), v.back()};
}

std::uint64_t indicationOf(const std::string& body) {
  static const std::regex id(R"(<g:IndicationIdentifier>Intel\(r\):(\d+)<)");
  std::smatch m;
  return std::regex_search(body, m, id) ? std::stoull(m[1]) : 0;
}

class Rig {
 public:
  Rig(bool tls, std::size_t maxPending)
      : state_(test::makeTempDir("bench-events")),
        subscriber_(tls ? test::EventSubscriber::tlsWithDigest("bench", "pw") : test::EventSubscriber::answering(test::EventSubscriber::Answer::Ack)),
        transport_(io_) {
    events::DeliveryPolicy policy;
    policy.maxPending = maxPending;
    delivery_ = std::make_unique<events::EventDelivery>(timers_, transport_, state_, policy);
    if (auto started = delivery_->start(); !started)
      throw std::runtime_error("event delivery: " + started.error().message);
    delivery_->attach(bus_);
    events::Subscription s;
    s.filter = "Intel(r) AMT:All";
    s.notifyTo = subscriber_.url();
    s.mode = events::DeliveryMode::PushWithAck;
    if (tls) {
      s.username = "bench";
      s.password = "pw";
    }
    delivery_->subscribe(s);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Rig() {
    boost::asio::post(io_, [this] { delivery_.reset(); work_.reset(); });
    thread_.join();
    subscriber_.stop();
    std::filesystem::remove_all(state_);
  }

  // Raises one alert on the firmware loop; returns its indication number and when it was raised.
  std::pair<std::uint64_t, Clock::time_point> raise() {
    std::promise<std::pair<std::uint64_t, Clock::time_point>> done;
    boost::asio::post(io_, [&] {
      events::Alert a;
      a.messageId = "iAMT0005";
      a.messageArguments = {"03020100-0504-0706-0809-0a0b0c0d0e0f"};
      a.time = clock_.now();
      auto at = Clock::now();
      bus_.publish(a);
      done.set_value({delivery_->stats().lastIndication, at});
    });
    return done.get_future().get();
  }
  test::EventSubscriber& subscriber() { return subscriber_; }

 private:
  std::filesystem::path state_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  core::SystemFirmwareClock clock_;
  core::FirmwareTimerQueue timers_{io_, clock_};
  events::AlertBus bus_;
  test::EventSubscriber subscriber_;
  wsman::eventing::HttpEventTransport transport_;
  std::unique_ptr<events::EventDelivery> delivery_;
  std::thread thread_;
};

Percentiles latency(bool tls, int alerts) {
  Rig rig(tls, 64);
  std::map<std::uint64_t, Clock::time_point> raised;
  for (int i = 0; i < alerts; ++i) {
    auto [n, at] = rig.raise();
    raised[n] = at;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // watchdog expiries arrive spread out
  }
  rig.subscriber().waitFor(alerts, std::chrono::seconds(30));
  std::vector<double> ms;
  for (auto& r : rig.subscriber().received())
    if (auto it = raised.find(indicationOf(r.body)); it != raised.end())
      ms.push_back(std::chrono::duration<double, std::milli>(r.at - it->second).count());
  if (ms.size() != static_cast<std::size_t>(alerts)) std::printf("  (only %zu of %d received)\n", ms.size(), alerts);
  return percentiles(ms);
}

double throughput(bool tls, int bursts, std::size_t burst) {
  Rig rig(tls, burst);
  auto start = Clock::now();
  for (int b = 0; b < bursts; ++b) {
    for (std::size_t i = 0; i < burst; ++i) rig.raise();
    rig.subscriber().waitFor((b + 1) * burst, std::chrono::seconds(60));
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(rig.subscriber().count()) / secs;
}

// The same client posting an event and reading the Ack, without queue or state files.
Percentiles barePost(bool tls, int n, double& perSecond) {
  test::EventSubscriber sub(tls ? test::EventSubscriber::tlsWithDigest("bench", "pw") : test::EventSubscriber::answering(test::EventSubscriber::Answer::Ack));
  events::Subscription s;
  s.notifyTo = sub.url();
  s.mode = events::DeliveryMode::PushWithAck;
  events::QueuedAlert q;
  q.alert.messageId = "iAMT0005";
  std::vector<double> ms;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    boost::asio::io_context io;
    wsman::eventing::HttpPostRequest r;
    r.url = sub.url();
    r.body = wsman::eventing::writeAlertIndication(s, q, "uuid:" + std::to_string(i)).value();
    if (tls) {
      r.username = "bench";
      r.password = "pw";
    }
    auto t0 = Clock::now();
    wsman::eventing::httpPost(io, wsman::eventing::makeTlsClientContext(), r, [](auto) {});
    io.run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  perSecond = n / std::chrono::duration<double>(Clock::now() - start).count();
  sub.stop();
  return percentiles(ms);
}

}  // namespace

int main(int argc, char** argv) {
  int alerts = 300, bursts = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--alerts")) alerts = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--bursts")) bursts = std::atoi(argv[i + 1]);
  }
  std::printf("alert delivery to a local subscriber (PushWithAck, 127.0.0.1), state dir on %s\n",
              std::filesystem::temp_directory_path().c_str());
  std::printf("%-44s %10s %10s %10s %10s\n", "", "events/s", "p50 ms", "p99 ms", "max ms");
  for (bool tls : {false, true}) {
    const char* how = tls ? "https+digest" : "http";
    double rate = 0;
    auto ref = barePost(tls, alerts, rate);
    std::printf("%-44s %10.0f %10.2f %10.2f %10.2f\n", (std::string("reference: bare POST+Ack, ") + how).c_str(), rate,
                ref.p50, ref.p99, ref.max);
    auto lat = latency(tls, alerts);
    auto eps = throughput(tls, bursts, 64);
    std::printf("%-44s %10.0f %10.2f %10.2f %10.2f\n", (std::string("raise -> receipt (queue+fsync), ") + how).c_str(), eps,
                lat.p50, lat.p99, lat.max);
  }
  std::printf("target: raise-to-receipt p99 < 50 ms (events/s: bursts of %d x 64 alerts; latency: %d alerts 10 ms apart)\n",
              bursts, alerts);
  return 0;
}
