#include "firmware/events/event_delivery.h"

#include <algorithm>
#include <charconv>

#include "common/log.h"

namespace mesim::events {
namespace {
constexpr const char* kLog = "events";
constexpr std::uint64_t kIndicationBlock = 1000;  // identifiers reserved per write of indications.json
constexpr std::string_view kListenerPrefix = "Intel(r) AMT:Subscription Manager ";
}  // namespace

std::string listenerName(std::uint32_t id) { return std::string(kListenerPrefix) + std::to_string(id); }

std::uint32_t listenerId(std::string_view name) {
  if (name.substr(0, kListenerPrefix.size()) != kListenerPrefix) return 0;
  auto digits = name.substr(kListenerPrefix.size());
  std::uint32_t id = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  return ec == std::errc{} && p == digits.data() + digits.size() ? id : 0;
}

struct EventDelivery::Session {
  Session(Subscription s, DeliveryQueue::State q) : subscription(std::move(s)), queue(std::move(q)) {}
  Subscription subscription;
  DeliveryQueue queue;
  core::FirmwareTimerQueue::TimerId timer = 0;  // the next attempt, when one waits
};

EventDelivery::EventDelivery(core::FirmwareTimerQueue& timers, EventTransport& transport, std::filesystem::path stateDir,
                             DeliveryPolicy policy, log::Context log)
    : timers_(timers),
      clock_(timers.clock()),
      transport_(transport),
      store_(stateDir / "events"),
      policy_(policy),
      log_(std::move(log)) {}

EventDelivery::~EventDelivery() {
  if (bus_) bus_->unsubscribe(busToken_);
  for (auto& [id, s] : sessions_) timers_.cancel(s->timer);
  timers_.cancel(expiryTimer_);
}

Result<> EventDelivery::start() {
  auto loaded = store_.load();
  if (!loaded) return loaded.error();
  StoredEvents& stored = *loaded;
  nextId_ = stored.nextId;
  indicationReserve_ = stored.indicationReserve;
  // Everything below the reserve may have been handed out before the restart.
  nextIndication_ = std::max<std::uint64_t>(indicationReserve_, 1);
  for (auto& sub : stored.subscriptions) {
    nextId_ = std::max(nextId_, sub.id + 1);
    auto q = std::move(stored.queues[sub.id]);
    for (const auto& a : q.pending) nextIndication_ = std::max(nextIndication_, a.indication + 1);
    auto id = sub.id;
    sessions_[id] = std::make_shared<Session>(std::move(sub), std::move(q));
  }
  std::size_t pending = 0;
  for (auto& [id, s] : sessions_) pending += s->queue.size();
  if (!sessions_.empty())
    MESIM_LOG(Info, kLog, sessions_.size() << " subscription(s) restored, " << pending << " alert(s) pending");
  expireDue();
  for (auto& [id, s] : sessions_) schedule(s);
  armExpiry();
  return {};
}

void EventDelivery::attach(AlertBus& bus) {
  bus_ = &bus;
  busToken_ = bus.subscribe([this](const Alert& a) { publish(a); });
}

std::optional<std::uint64_t> EventDelivery::nextIndication() {
  if (nextIndication_ >= indicationReserve_) {
    const auto reserve = nextIndication_ + kIndicationBlock;
    if (auto ec = store_.saveIndicationReserve(reserve)) {
      ++stats_.storeErrors;
      MESIM_LOG(Error, kLog, "cannot save the indication counter: " << ec.message());
      return std::nullopt;
    }
    indicationReserve_ = reserve;
  }
  stats_.lastIndication = nextIndication_;
  return nextIndication_++;
}

void EventDelivery::publish(const Alert& alert) {
  expireDue();
  ++stats_.raised;
  std::vector<std::shared_ptr<Session>> targets;
  for (auto& [id, s] : sessions_)
    if (filterMatches(s->subscription.filter, alert)) targets.push_back(s);
  MESIM_LOG(Debug, kLog, "alert " << alert.messageId << " for " << targets.size() << " subscriber(s)");
  if (targets.empty()) return;
  const auto indication = nextIndication();
  if (!indication) {
    ++stats_.droppedUnreserved;
    MESIM_LOG(Error, kLog, "alert " << alert.messageId << " not queued for " << targets.size()
                                    << " subscriber(s): no identifier could be reserved");
    return;
  }
  QueuedAlert queued{*indication, alert};
  for (auto& s : targets) {
    s->queue.push(queued, policy_);
    ++stats_.queued;
    saveQueue(*s);
    schedule(s);
  }
}

std::variant<std::uint32_t, SubscribeError> EventDelivery::subscribe(Subscription sub) {
  expireDue();
  if (sessions_.size() >= policy_.maxSubscriptions) return SubscribeError::LimitReached;
  sub.id = nextId_++;
  sub.created = clock_.now();
  auto id = sub.id;
  auto session = std::make_shared<Session>(std::move(sub), DeliveryQueue::State{});
  sessions_[id] = session;
  if (!saveQueue(*session) || !saveSubscriptions()) {
    sessions_.erase(id);
    store_.removeQueue(id);
    return SubscribeError::StorageError;
  }
  MESIM_LOG(Info, kLog, "subscription " << id << ": " << session->subscription.filter << " -> "
                                        << session->subscription.notifyTo
                                        << (session->subscription.mode == DeliveryMode::PushWithAck ? " (PushWithAck)" : " (Push)"));
  armExpiry();
  return id;
}

bool EventDelivery::unsubscribe(std::uint32_t id) {
  if (!sessions_.count(id)) return false;
  MESIM_LOG(Info, kLog, "subscription " << id << " removed");
  remove(id);
  return true;
}

bool EventDelivery::renew(std::uint32_t id, std::optional<TimePoint> expires) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  auto s = it->second;
  s->subscription.expires = expires;
  if (s->queue.suspended()) {
    MESIM_LOG(Info, kLog, "subscription " << id << " resumed");
    s->queue.resume(clock_.now());
    saveQueue(*s);
  }
  saveSubscriptions();
  schedule(s);
  armExpiry();
  return true;
}

std::vector<SubscriptionStatus> EventDelivery::subscriptions() {
  expireDue();
  std::vector<SubscriptionStatus> out;
  for (auto& [id, s] : sessions_) {
    const auto& q = s->queue.state();
    SubscriptionStatus st;
    st.subscription = s->subscription;
    st.pending = q.pending.size();
    st.suspended = q.suspended;
    st.inFlight = s->queue.inFlight();
    st.failures = q.failures;
    st.lastError = q.lastError;
    st.delivered = q.delivered;
    st.dropped = q.dropped;
    if (!q.pending.empty() && q.failures > 0 && !q.suspended) st.nextAttempt = q.nextAttempt;
    out.push_back(std::move(st));
  }
  return out;
}

// The next attempt at the queue's nextAttempt on the firmware clock (at once, from the loop, when that has passed).
void EventDelivery::schedule(const std::shared_ptr<Session>& s) {
  timers_.cancel(s->timer);
  s->timer = 0;
  const auto& q = s->queue;
  if (q.empty() || q.suspended() || q.inFlight()) return;
  std::weak_ptr<Session> weak = s;
  s->timer = timers_.schedule(q.state().nextAttempt, [this, weak] {
    auto s = weak.lock();
    if (!s) return;  // the subscription is gone (its timer is cancelled with it; this is belt and braces)
    s->timer = 0;
    if (s->queue.due(clock_.now())) return attempt(s);
    schedule(s);
  });
}

void EventDelivery::attempt(const std::shared_ptr<Session>& s) {
  s->queue.begin();
  std::weak_ptr<Session> weak = s;
  transport_.send(s->subscription, s->queue.head(), policy_.attemptTimeout, [this, weak](Result<> outcome) {
    if (auto s = weak.lock()) finished(s, std::move(outcome));  // else unsubscribed meanwhile
  });
}

void EventDelivery::finished(const std::shared_ptr<Session>& s, Result<> outcome) {
  const auto id = s->subscription.id;
  if (!sessions_.count(id) || sessions_[id] != s) return;
  if (outcome) {
    s->queue.succeeded();
    ++stats_.delivered;
    saveQueue(*s);
    schedule(s);
    return;
  }
  ++stats_.failedAttempts;
  const std::string& error = outcome.error().message;
  MESIM_LOG(Debug, kLog, "subscription " << id << ": delivery failed: " << error);
  switch (s->queue.failed(clock_.now(), error, policy_)) {
    case DeliveryQueue::Verdict::Retry:
      saveQueue(*s);
      schedule(s);
      break;
    case DeliveryQueue::Verdict::Suspend:
      MESIM_LOG(Warn, kLog, "subscription " << id << " suspended after " << s->queue.state().failures
                                            << " failed attempts (" << error << "); a Renew resumes it");
      saveQueue(*s);
      break;
    case DeliveryQueue::Verdict::Terminate:
      MESIM_LOG(Warn, kLog, "subscription " << id << " terminated after " << s->queue.state().failures
                                            << " failed attempts (" << error << ")");
      ++stats_.terminated;
      remove(id);
      break;
  }
}

bool EventDelivery::saveQueue(const Session& s) {
  auto ec = store_.saveQueue(s.subscription.id, s.queue.state());
  if (!ec) return true;
  ++stats_.storeErrors;
  MESIM_LOG(Error, kLog, "cannot save the queue of subscription " << s.subscription.id << ": " << ec.message());
  return false;
}

bool EventDelivery::saveSubscriptions() {
  std::vector<Subscription> list;
  for (auto& [id, s] : sessions_) list.push_back(s->subscription);
  auto ec = store_.saveSubscriptions(list, nextId_);
  if (!ec) return true;
  ++stats_.storeErrors;
  MESIM_LOG(Error, kLog, "cannot save the subscriptions: " << ec.message());
  return false;
}

void EventDelivery::remove(std::uint32_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  timers_.cancel(it->second->timer);
  sessions_.erase(it);
  saveSubscriptions();
  if (auto ec = store_.removeQueue(id)) MESIM_LOG(Warn, kLog, "cannot remove queue-" << id << ".json: " << ec.message());
}

void EventDelivery::expireDue() {
  const auto now = clock_.now();
  std::vector<std::uint32_t> gone;
  for (auto& [id, s] : sessions_)
    if (s->subscription.expires && *s->subscription.expires <= now) gone.push_back(id);
  for (auto id : gone) {
    MESIM_LOG(Info, kLog, "subscription " << id << " expired");
    ++stats_.expired;
    remove(id);
  }
}

void EventDelivery::armExpiry() {
  std::optional<TimePoint> earliest;
  for (auto& [id, s] : sessions_)
    if (s->subscription.expires && (!earliest || *s->subscription.expires < *earliest)) earliest = s->subscription.expires;
  timers_.cancel(expiryTimer_);
  expiryTimer_ = 0;
  if (!earliest) return;
  expiryTimer_ = timers_.schedule(*earliest, [this] {
    expiryTimer_ = 0;
    expireDue();
    armExpiry();
  });
}

}  // namespace mesim::events
