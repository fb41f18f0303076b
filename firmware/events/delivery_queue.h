// One subscriber's ordered, bounded queue of alerts and the retry state of its head (the delivery policy of
// subscription.h). Pure: time is passed in from the firmware clock, nothing is sent or stored here.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "firmware/events/subscription.h"

namespace mesim::events {

class DeliveryQueue {
 public:
  // Everything that is persisted (event_store.h).
  struct State {
    std::deque<QueuedAlert> pending;
    unsigned failures = 0;      // failed attempts of the head alert
    TimePoint nextAttempt{};    // no attempt before this
    bool suspended = false;
    std::string lastError;      // of the last failed attempt ("" after a success)
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0;  // pushed out by a full queue, or discarded with a terminated subscription
  };

  // What the policy says after a failed attempt.
  enum class Verdict { Retry, Suspend, Terminate };

  DeliveryQueue() = default;
  explicit DeliveryQueue(State state) : s_(std::move(state)) {}

  // Appends `alert`. A full queue drops its oldest alert that is not being sent.
  void push(QueuedAlert alert, const DeliveryPolicy& policy);
  // True when the head may be sent now: something pending, not suspended, not in flight, retry time reached.
  bool due(TimePoint now) const;
  const QueuedAlert& head() const { return s_.pending.front(); }

  // An attempt on the head starts / ends. `inFlight` protects the head from being dropped meanwhile.
  void begin() { inFlight_ = true; }
  bool inFlight() const { return inFlight_; }
  void succeeded();
  Verdict failed(TimePoint now, std::string error, const DeliveryPolicy& policy);
  // Delivery may go on (a Renew of a suspended subscription): the head is tried at once.
  void resume(TimePoint now);

  bool empty() const { return s_.pending.empty(); }
  std::size_t size() const { return s_.pending.size(); }
  bool suspended() const { return s_.suspended; }
  const State& state() const { return s_; }

 private:
  State s_;
  bool inFlight_ = false;
};

}  // namespace mesim::events
