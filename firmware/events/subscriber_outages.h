// Subscribers QA makes unreachable (issue 11, the control API's subscriber-unreachable fault): an EventTransport in
// front of the real one that fails each attempt to a subscriber under an outage as a refused connection would,
// without sending anything; the delivery policy (retries, suspend, terminate) then applies as for a real outage,
// and once it ends the next attempt delivers. An outage names a subscription id or a NotifyTo address and lasts
// until a firmware-clock instant or until cleared: on the firmware clock, as the retry intervals it interacts with,
// so a scenario on the manual clock passes through it deterministically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/core/firmware_clock.h"
#include "firmware/events/event_delivery.h"

namespace mesim::events {

class SubscriberOutages final : public EventTransport {
 public:
  struct Outage {
    std::optional<std::uint32_t> subscription;  // this subscription's deliveries, or
    std::string address;                        // every subscription whose NotifyTo is this URL
    std::optional<TimePoint> until;             // none: until cleared
    std::uint64_t refused = 0;                  // attempts it failed
  };

  // `inner` and `clock` outlive this object.
  SubscriberOutages(boost::asio::io_context& io, EventTransport& inner, const core::FirmwareClock& clock);

  void send(const Subscription& subscription, const QueuedAlert& alert, std::chrono::milliseconds timeout,
            Done done) override;

  // Replaces an outage of the same subscription or address.
  void add(Outage outage);
  void clear() { outages_.clear(); }
  // The outages still in force (ended ones are dropped first).
  const std::vector<Outage>& outages();
  std::uint64_t refused() const { return refused_; }

 private:
  void dropEnded();

  boost::asio::io_context& io_;
  EventTransport& inner_;
  const core::FirmwareClock& clock_;
  std::vector<Outage> outages_;
  std::uint64_t refused_ = 0;
};

}  // namespace mesim::events
