// What the firmware raises when something a subscriber must hear about happens (a watchdog expired,
// an agent changed state, a login failed...). Producers (watchdog_fw, wsman/cim, platform) publish an
// Alert on the AlertBus; the event delivery (firmware/events) fans it out to every subscriber's queue and
// the LME event channel. Single-threaded: publish and callbacks run on the firmware's io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mesim::events {

struct Alert {
  std::string messageId;                   // AMT message registry id, e.g. "iAMT0005" (spec/wsman.md §1.6, §3.5)
  std::vector<std::string> messageArguments;
  std::string message;                     // usually empty (AMT fills it only for iAMT0050-0061)
  std::uint16_t perceivedSeverity = 2;     // CIM_AlertIndication.PerceivedSeverity
  std::uint16_t alertType = 8;
  std::string indicationFilterName = "Intel(r) AMT:AllEvents";
  std::string category;                    // which CIM_FilterCollection it matches besides :All, e.g. "Watchdog"
  std::chrono::system_clock::time_point time;  // from the firmware clock at the moment it was raised
};

// A synchronous fan-out of alerts to whoever listens (the delivery queues, logs, tests).
class AlertBus {
 public:
  using Listener = std::function<void(const Alert&)>;
  std::size_t subscribe(Listener listener) {
    listeners_[next_] = std::move(listener);
    return next_++;
  }
  void unsubscribe(std::size_t token) { listeners_.erase(token); }
  void publish(const Alert& alert) {
    auto copy = listeners_;  // a listener may unsubscribe while being called
    for (auto& [token, listener] : copy) listener(alert);
  }

 private:
  std::map<std::size_t, Listener> listeners_;
  std::size_t next_ = 1;
};

}  // namespace mesim::events
