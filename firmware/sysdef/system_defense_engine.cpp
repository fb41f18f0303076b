#include "firmware/sysdef/system_defense_engine.h"

#include <boost/asio/post.hpp>

#include "common/log.h"
#include "firmware/platform/event_records.h"

namespace mesim::sysdef {
namespace {

constexpr const char* kLog = "sysdef";
constexpr std::uint8_t kWiredNic = 0xAA;  // the 0x24/0xC0 records' NIC byte (wired)

bool counts(const platform::SdFilter& f) { return f.profile <= platform::sd_profile::kRateLimit; }

// Whether the policy can stop traffic in direction `dir` (0 Tx, 1 Rx): the 0xC0 record says which it stops.
bool stops(const platform::SystemDefenseState& s, const platform::SdPolicy& p, std::uint8_t dir) {
  if (dir == platform::kSdTx ? p.txDefaultDrop : p.rxDefaultDrop) return true;
  for (auto h : p.filters) {
    const platform::SdFilter* f = s.filter(h);
    if (f && f->direction == dir && f->profile != platform::sd_profile::kPass &&
        f->profile != platform::sd_profile::kStatisticsPass)
      return true;
  }
  return false;
}

bool hasExpiredSlots(const platform::SystemDefenseState& sd, std::int64_t now) {
  for (const auto& nic : sd.nics)
    for (const auto& slot : nic.slots)
      if (slot.enabled && platform::sdSlotExpired(sd, slot, now)) return true;
  return false;
}

}  // namespace

SystemDefenseEngine::SystemDefenseEngine(boost::asio::io_context& io, core::FirmwareTimerQueue& timers,
                                         platform::PlatformModel& platform, events::AlertBus* alerts, HostNetwork* host)
    : io_(io), timers_(timers), platform_(platform), alerts_(alerts), host_(host), poll_(io) {
  observer_ = platform_.subscribe([this] { evaluate(); });
  evaluate();
}

SystemDefenseEngine::~SystemDefenseEngine() {
  *alive_ = false;
  platform_.unsubscribe(observer_);
  timers_.cancel(expiry_);
}

void SystemDefenseEngine::evaluate() {
  const auto& state = platform_.state();
  const auto& sd = state.systemDefense;
  const std::int64_t now = core::unixSeconds(timers_.now());
  for (std::size_t nic = 0; nic < platform::kSdNics; ++nic) {
    auto next = platform::sdActivePolicy(sd, nic, now, state.domainName);
    if (next == active_[nic]) continue;
    active_[nic] = next;
    activationTime_[nic] = lastResetTime_[nic] = now;
    readCount_[nic] = 0;
    if (nic == 0) {
      ++generation_;
      counters_.clear();
      baseline_.clear();
      eventsFired_.clear();
    }
    if (!next) {
      MESIM_LOG(Info, kLog, "NIC " << nic << ": no System Defense policy in force");
      record({}, std::nullopt);  // only the feature flag changes
      continue;
    }
    const platform::SdPolicy* p = sd.policy(next->policy);
    MESIM_LOG(Info, kLog, "NIC " << nic << ": policy " << next->policy << " (" << (p ? p->name : "?") << ", by "
                                 << platform::toString(next->source) << ") in force");
    for (std::uint8_t dir : {platform::kSdTx, platform::kSdRx}) {
      if (!p || (!stops(sd, *p, dir) && dir == platform::kSdRx)) continue;  // at least the Tx record
      platform::MessageLogEvent e;  // 0xC0 "Security policy invoked"
      e.sensorType = 0xC0;
      e.eventType = 0x6F;
      e.sourceType = 0x68;
      e.severity = 0x10;  // warning
      e.entity = 0x22;    // BIOS/ME
      e.eventData[0] = nic == 0 ? kWiredNic : static_cast<std::uint8_t>(nic);
      e.eventData[2] = dir == platform::kSdTx ? 0 : 2;
      record(e, std::nullopt);
    }
  }
  // A slot whose Timeout ran out is switched off for good (a later SetTimeout must not bring it back).
  if (hasExpiredSlots(sd, now)) record({}, std::nullopt);
  timers_.cancel(expiry_);
  expiry_ = 0;
  if (auto end = platform::sdNextExpiry(sd, now)) {
    expiry_ = timers_.schedule(core::FirmwareClock::time_point(std::chrono::seconds(*end)), [this] {
      expiry_ = 0;
      evaluate();
    });
  }
  const platform::SdPolicy* wired = active_[0] ? sd.policy(active_[0]->policy) : nullptr;
  desired_ = wired ? nftRuleset(sd, *wired) : nftClear();
  applyToHost();
  schedulePoll();
}

// One read of the counters at a time: `polling_` holds from the timer's start to the read's answer.
void SystemDefenseEngine::schedulePoll() {
  if (!active_[0] || !host_ || polling_) return;
  polling_ = true;
  poll_.expires_after(kCounterPoll);
  poll_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    pollCounters();
  });
}

void SystemDefenseEngine::applyToHost() {
  if (!host_ || applying_ || desired_ == applied_) return;
  applying_ = true;
  std::string ruleset = desired_;
  host_->apply(ruleset, [this, ruleset, alive = alive_](Result<> outcome) {
    if (!*alive) return;
    applying_ = false;
    if (outcome) {
      applied_ = ruleset;
      ++appliedCount_;
      hostError_.clear();
    } else if (hostError_ != outcome.error().message) {
      hostError_ = outcome.error().message;
      MESIM_LOG(Warn, kLog, "host network: " << hostError_);
    }
    if (outcome && desired_ != applied_) applyToHost();  // a change came in meanwhile
  });
}

void SystemDefenseEngine::pollCounters() {
  if (!host_ || !active_[0]) {
    polling_ = false;
    return;
  }
  const std::uint64_t generation = generation_;
  host_->readCounters([this, generation, alive = alive_](Result<HostNetwork::Counters> counters) {
    if (!*alive) return;
    polling_ = false;
    if (counters && generation == generation_ && desired_ == applied_) countersRead(*counters);
    schedulePoll();
  });
}

void SystemDefenseEngine::countersRead(const HostNetwork::Counters& counters) {
  const auto& sd = platform_.state().systemDefense;
  const platform::SdPolicy* p = active_[0] ? sd.policy(active_[0]->policy) : nullptr;
  if (!p) return;
  for (const auto& [handle, counter] : counters) {
    const std::uint64_t before = counters_[handle].packets;
    counters_[handle] = counter;
    if (counter.packets <= before || eventsFired_.count(handle)) continue;
    bool event = false;
    if (handle == kDefaultTxHandle) event = p->txDefaultMatchEvent;
    else if (handle == kDefaultRxHandle) event = p->rxDefaultMatchEvent;
    else if (const platform::SdFilter* f = sd.filter(handle)) event = f->eventOnMatch;
    if (!event) continue;
    eventsFired_.insert(handle);  // once until the statistics are read
    platform::MessageLogEvent e;  // 0x24 "filter matched"
    e.sensorType = 0x24;
    e.eventType = 0x6F;
    e.sourceType = 0x68;
    e.severity = 0x10;
    e.entity = 0x22;
    e.eventData[0] = kWiredNic;
    e.eventData[1] = static_cast<std::uint8_t>(handle >> 24);
    e.eventData[2] = static_cast<std::uint8_t>(handle >> 16);
    e.eventData[3] = static_cast<std::uint8_t>(handle >> 8);
    e.eventData[4] = static_cast<std::uint8_t>(handle);
    events::Alert alert;
    alert.messageId = "iAMT0001";  // System Defense: a filter matched
    alert.messageArguments = {p->name, std::to_string(handle)};
    alert.category = "SystemDefense";
    record(e, alert);
  }
}

std::vector<platform::SdFilterStatistics> SystemDefenseEngine::statistics(std::size_t nic) const {
  std::vector<platform::SdFilterStatistics> out;
  if (nic >= platform::kSdNics || !active_[nic]) return out;
  const auto& sd = platform_.state().systemDefense;
  const platform::SdPolicy* p = sd.policy(active_[nic]->policy);
  if (!p) return out;
  for (auto h : p->filters) {
    const platform::SdFilter* f = sd.filter(h);
    if (!f || !counts(*f)) continue;
    platform::SdFilterStatistics s{h, 0, activationTime_[nic], lastResetTime_[nic], readCount_[nic]};
    if (nic == 0) {
      auto c = counters_.find(h);
      auto b = baseline_.find(h);
      const std::uint64_t total = c == counters_.end() ? 0 : c->second.packets;
      const std::uint64_t base = b == baseline_.end() ? 0 : b->second.packets;
      s.matched = total >= base ? total - base : 0;
    }
    out.push_back(s);
  }
  return out;
}

bool SystemDefenseEngine::updateStatistics(std::size_t nic, bool resetOnRead) {
  if (nic >= platform::kSdNics || !active_[nic]) return false;
  ++readCount_[nic];
  if (nic == 0) {
    eventsFired_.clear();
    if (resetOnRead) baseline_ = counters_;
  }
  if (resetOnRead) lastResetTime_[nic] = core::unixSeconds(timers_.now());
  return true;
}

void SystemDefenseEngine::record(const platform::MessageLogEvent& event, std::optional<events::Alert> alert) {
  if (event.sensorType) pendingRecords_.push_back(platform::makeMessageLogRecord(event, core::unixSeconds(timers_.now())));
  if (alert) {
    alert->time = timers_.now();
    pendingAlerts_.push_back(std::move(*alert));
  }
  if (flushPosted_) return;
  flushPosted_ = true;
  // Not inside the platform observer that called evaluate(): the model is being changed right now.
  boost::asio::post(io_, [this, alive = alive_] {
    if (*alive) flushRecords();
  });
}

void SystemDefenseEngine::flushRecords() {
  flushPosted_ = false;
  auto records = std::move(pendingRecords_);
  pendingRecords_.clear();
  auto alerts = std::move(pendingAlerts_);
  pendingAlerts_.clear();
  const bool inForce = active_[0] || active_[1];
  const std::int64_t now = core::unixSeconds(timers_.now());
  const auto& state = platform_.state();
  if (!records.empty() || state.features.systemDefenseActive != inForce || hasExpiredSlots(state.systemDefense, now)) {
    platform_.update([&](platform::PlatformState& s) {
      for (auto& r : records) platform::appendMessageLogRecord(s, std::move(r));
      s.features.systemDefenseActive = inForce;
      for (auto& nic : s.systemDefense.nics)
        for (auto& slot : nic.slots)
          if (slot.enabled && platform::sdSlotExpired(s.systemDefense, slot, now)) slot.enabled = false;
    });
  }
  if (alerts_)
    for (const auto& a : alerts) alerts_->publish(a);
}

}  // namespace mesim::sysdef
