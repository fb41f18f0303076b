#include "firmware/events/delivery_queue.h"

#include <algorithm>

namespace mesim::events {

const char* toString(FailurePolicy policy) {
  switch (policy) {
    case FailurePolicy::Terminate: return "terminate";
    case FailurePolicy::Suspend: return "suspend";
    case FailurePolicy::RetryForever: return "retry-forever";
  }
  return "suspend";
}

std::optional<FailurePolicy> parseFailurePolicy(std::string_view text) {
  for (auto p : {FailurePolicy::Terminate, FailurePolicy::Suspend, FailurePolicy::RetryForever})
    if (text == toString(p)) return p;
  return std::nullopt;
}

bool filterMatches(std::string_view filter, const Alert& alert) {
  constexpr std::string_view kPrefix = "Intel(r) AMT:";
  if (filter == "Intel(r) AMT:All") return true;
  return filter.size() > kPrefix.size() && filter.substr(0, kPrefix.size()) == kPrefix &&
         !alert.category.empty() && filter.substr(kPrefix.size()) == alert.category;
}

void DeliveryQueue::push(QueuedAlert alert, const DeliveryPolicy& policy) {
  const std::size_t limit = std::max<std::size_t>(policy.maxPending, 1);
  while (s_.pending.size() >= limit) {
    // The head may be on the wire right now: its outcome must still find it there.
    std::size_t victim = inFlight_ ? 1 : 0;
    if (victim >= s_.pending.size()) break;
    if (victim == 0) s_.failures = 0;  // the next head starts with a clean retry count
    s_.pending.erase(s_.pending.begin() + static_cast<std::ptrdiff_t>(victim));
    ++s_.dropped;
  }
  s_.pending.push_back(std::move(alert));
}

bool DeliveryQueue::due(TimePoint now) const {
  return !s_.pending.empty() && !s_.suspended && !inFlight_ && now >= s_.nextAttempt;
}

void DeliveryQueue::succeeded() {
  inFlight_ = false;
  if (!s_.pending.empty()) s_.pending.pop_front();
  s_.failures = 0;
  s_.lastError.clear();
  s_.nextAttempt = {};
  ++s_.delivered;
}

DeliveryQueue::Verdict DeliveryQueue::failed(TimePoint now, std::string error, const DeliveryPolicy& policy) {
  inFlight_ = false;
  s_.lastError = std::move(error);
  ++s_.failures;
  s_.nextAttempt = now + policy.retryInterval;
  if (s_.failures <= policy.retries || policy.onFailure == FailurePolicy::RetryForever) return Verdict::Retry;
  if (policy.onFailure == FailurePolicy::Suspend) {
    s_.suspended = true;
    return Verdict::Suspend;
  }
  s_.dropped += s_.pending.size();
  s_.pending.clear();
  return Verdict::Terminate;
}

void DeliveryQueue::resume(TimePoint now) {
  s_.suspended = false;
  s_.failures = 0;
  s_.nextAttempt = now;
}

}  // namespace mesim::events
