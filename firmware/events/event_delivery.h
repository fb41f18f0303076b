// Delivery of alerts to WS-Eventing subscribers (ARCHITECTURE.md "Crash alert"): the AlertBus fans each alert out
// to the persisted queue of every subscriber whose filter matches; each subscriber is served on its own (one POST
// at a time, in order, retried by the policy), so a slow or dead subscriber never delays another. How an alert
// reaches a subscriber (HTTP/HTTPS, SOAP, Ack) is the EventTransport's business (wsman/eventing).
// Retry intervals and subscription expiry are firmware time (timers on the device's FirmwareTimerQueue); the
// limit of one attempt is network I/O and stays on real time (the transport's).
// Single-threaded: everything runs on the firmware's io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/log.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/events/delivery_queue.h"
#include "firmware/events/event_store.h"
#include "firmware/events/subscription.h"

namespace mesim::events {

class EventTransport {
 public:
  using Done = std::function<void(Result<> outcome)>;
  virtual ~EventTransport() = default;
  // Sends `alert` to `subscription` and calls `done` exactly once, later, on the io_context: success when the
  // subscriber took it (and acknowledged it, for PushWithAck), else why not. Gives up after `timeout`.
  virtual void send(const Subscription& subscription, const QueuedAlert& alert, std::chrono::milliseconds timeout,
                    Done done) = 0;
};

struct SubscriptionStatus {
  Subscription subscription;
  std::size_t pending = 0;
  bool suspended = false;
  bool inFlight = false;
  unsigned failures = 0;  // failed attempts of the head alert
  std::string lastError;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
  std::optional<TimePoint> nextAttempt;  // when something is waiting for a retry
};

struct DeliveryStats {
  std::uint64_t raised = 0;          // alerts published
  std::uint64_t queued = 0;          // alert x subscriber pairs queued
  std::uint64_t delivered = 0;
  std::uint64_t failedAttempts = 0;
  std::uint64_t terminated = 0;      // subscriptions removed by the Terminate policy
  std::uint64_t expired = 0;         // subscriptions removed by their Expires
  std::uint64_t storeErrors = 0;     // state files that could not be written
  // Alerts not queued because no identifier could be reserved durably (indications.json not written).
  std::uint64_t droppedUnreserved = 0;
  std::uint64_t lastIndication = 0;  // the last IndicationIdentifier number handed out
};

enum class SubscribeError { LimitReached, StorageError };

class EventDelivery {
 public:
  // `log` is the device its log lines name. `timers` (and its clock) must outlive this object.
  EventDelivery(core::FirmwareTimerQueue& timers, EventTransport& transport, std::filesystem::path stateDir,
                DeliveryPolicy policy, log::Context log = {});
  ~EventDelivery();
  EventDelivery(const EventDelivery&) = delete;
  EventDelivery& operator=(const EventDelivery&) = delete;

  // Loads the persisted subscribers and queues and resumes delivering them, or says why it cannot.
  Result<> start();
  // Publishes of `bus` reach publish() until this object is destroyed.
  void attach(AlertBus& bus);
  void publish(const Alert& alert);

  // `s.id` and `s.created` are assigned. Returns the new id.
  std::variant<std::uint32_t, SubscribeError> subscribe(Subscription s);
  bool unsubscribe(std::uint32_t id);
  // New expiry (none = never); a suspended subscription resumes delivery. False if there is no such id.
  bool renew(std::uint32_t id, std::optional<TimePoint> expires);
  std::vector<SubscriptionStatus> subscriptions();
  const DeliveryPolicy& policy() const { return policy_; }
  const DeliveryStats& stats() const { return stats_; }

  const log::Context& logContext() const { return log_; }

 private:
  struct Session;
  // The next IndicationIdentifier number, or nothing if the reservation covering it cannot be made durable:
  // a number handed out before it is reserved on disk could be handed out again after a crash.
  std::optional<std::uint64_t> nextIndication();
  void schedule(const std::shared_ptr<Session>& s);
  void attempt(const std::shared_ptr<Session>& s);
  void finished(const std::shared_ptr<Session>& s, Result<> outcome);
  bool saveQueue(const Session& s);
  bool saveSubscriptions();
  void remove(std::uint32_t id);
  void expireDue();
  void armExpiry();

  core::FirmwareTimerQueue& timers_;
  const core::FirmwareClock& clock_;
  EventTransport& transport_;
  EventStore store_;
  DeliveryPolicy policy_;
  std::map<std::uint32_t, std::shared_ptr<Session>> sessions_;
  std::uint32_t nextId_ = 1;
  std::uint64_t nextIndication_ = 1;
  std::uint64_t indicationReserve_ = 0;
  core::FirmwareTimerQueue::TimerId expiryTimer_ = 0;  // at the earliest Expires of any subscription
  AlertBus* bus_ = nullptr;
  std::size_t busToken_ = 0;
  DeliveryStats stats_;
  log::Context log_;
};

// Name of the CIM_ListenerDestinationWSManagement of subscription `id`, and back (0 if not one of ours).
std::string listenerName(std::uint32_t id);
std::uint32_t listenerId(std::string_view name);

}  // namespace mesim::events
