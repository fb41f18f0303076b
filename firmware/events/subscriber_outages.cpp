#include "firmware/events/subscriber_outages.h"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace mesim::events {

SubscriberOutages::SubscriberOutages(boost::asio::io_context& io, EventTransport& inner,
                                     const core::FirmwareClock& clock)
    : io_(io), inner_(inner), clock_(clock) {}

void SubscriberOutages::send(const Subscription& subscription, const QueuedAlert& alert,
                             std::chrono::milliseconds timeout, Done done) {
  dropEnded();
  for (auto& outage : outages_) {
    const bool hit = outage.subscription ? *outage.subscription == subscription.id : outage.address == subscription.notifyTo;
    if (!hit) continue;
    ++outage.refused;
    ++refused_;
    // Later, on the loop, as the real transport answers.
    boost::asio::post(io_, [done = std::move(done)] {
      done(fail("connect: Connection refused (subscriber made unreachable through the control API)"));
    });
    return;
  }
  inner_.send(subscription, alert, timeout, std::move(done));
}

void SubscriberOutages::add(Outage outage) {
  auto same = [&outage](const Outage& o) {
    return o.subscription == outage.subscription && (outage.subscription || o.address == outage.address);
  };
  outages_.erase(std::remove_if(outages_.begin(), outages_.end(), same), outages_.end());
  outages_.push_back(std::move(outage));
}

const std::vector<SubscriberOutages::Outage>& SubscriberOutages::outages() {
  dropEnded();
  return outages_;
}

void SubscriberOutages::dropEnded() {
  const auto now = clock_.now();
  outages_.erase(std::remove_if(outages_.begin(), outages_.end(),
                                [now](const Outage& o) { return o.until && *o.until <= now; }),
                 outages_.end());
}

}  // namespace mesim::events
