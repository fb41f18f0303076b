// A WS-Eventing subscriber as the firmware keeps it (spec/wsman.md §1.6), the delivery policy that applies to
// all of them, and an alert waiting in a subscriber's queue. Plain data: persisted by event_store.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "firmware/core/firmware_clock.h"
#include "firmware/events/alert.h"

namespace mesim::events {

using TimePoint = core::FirmwareClock::time_point;

// CIM_ListenerDestination.DeliveryMode values (spec/wsman.md §1.6); only the push modes are delivered.
enum class DeliveryMode : std::uint16_t { Push = 2, PushWithAck = 3 };

// What happens to a subscription once an alert could not be delivered after all retries.
enum class FailurePolicy {
  Terminate,     // the subscription is removed with its queue (WS-Eventing SubscriptionEnd semantics)
  Suspend,       // delivery stops, the queue is kept (and bounded) until a Renew resumes it
  RetryForever,  // keep retrying the head alert every interval; later alerts wait behind it
};
const char* toString(FailurePolicy policy);
std::optional<FailurePolicy> parseFailurePolicy(std::string_view text);  // terminate, suspend, retry-forever

struct DeliveryPolicy {
  unsigned retries = 5;                            // attempts after the first before the policy applies
  std::chrono::milliseconds retryInterval{5000};   // between attempts, on the firmware clock
  FailurePolicy onFailure = FailurePolicy::Suspend;
  std::size_t maxPending = 64;                     // per subscriber; when full the oldest waiting alert is dropped
  std::size_t maxSubscriptions = 9;                // AMT >= 6 (spec/wsman.md §1.6)
  std::chrono::milliseconds attemptTimeout{5000};  // one POST (name lookup, connect, TLS, write, read), real time
};

struct Subscription {
  std::uint32_t id = 0;         // the handle; names its CIM_ListenerDestinationWSManagement
  std::string filter;           // the CIM_FilterCollection InstanceID subscribed to, e.g. "Intel(r) AMT:All"
  std::string notifyTo;         // http:// or https:// URL
  DeliveryMode mode = DeliveryMode::Push;
  std::string referenceParameters;  // XML of the NotifyTo ReferenceParameters children, echoed in each event header
  std::string username;         // Digest credentials for NotifyTo (wsman:IssuedTokens), empty = none
  std::string password;
  TimePoint created{};
  std::optional<TimePoint> expires;  // none = never
};

// One alert in a subscriber's queue: the alert and its IndicationIdentifier number (unique, increasing).
struct QueuedAlert {
  std::uint64_t indication = 0;
  Alert alert;
};

// True if an alert belongs to the CIM_FilterCollection `filter` ("Intel(r) AMT:All" takes everything).
bool filterMatches(std::string_view filter, const Alert& alert);

}  // namespace mesim::events
